import type { Logger } from '../services.ts';
import type { Authorizer } from './authorization.ts';
import { JoinedChannel, type Outbox } from './channel.ts';
import { receiveBroadcast, receivePresence } from './inbound.ts';
import { evaluateJoin } from './join.ts';
import { reauthorize } from './reauthorize.ts';
import type { ChannelRegistry } from './registry.ts';
import {
  type BinaryBroadcast,
  decodeFrame,
  encodeBinaryBroadcast,
  encodeFrame,
  type Frame,
  FrameError,
  VSNS,
  type Vsn,
} from './serializer.ts';
import { checkToken, expiredMessage, isOpaqueKey, msUntilExpiry } from './tokens.ts';

// One client socket: its serializer, its apikey, and the channels it joined. Frames are handled
// one at a time in arrival order, as a Phoenix socket process does, so a join's reply always
// precedes anything sent on the channel it opens.

export interface RealtimeContext {
  registry: ChannelRegistry;
  authorizer: Authorizer;
  jwtSecret: string;
  log: Logger;
}

const CONNECTING = 0;
const OPEN = 1;
/** RFC 6455 "policy violation": the closest a socket gets to Realtime's refused upgrade. */
const REFUSED = 1008;
const INTERNAL_ERROR = 1011;
/** Realtime's words whenever the policies could not be evaluated. */
const DATABASE_UNAVAILABLE = 'Realtime was unable to connect to the project database';

export class Connection implements Outbox {
  readonly #socket: WebSocket;
  readonly #context: RealtimeContext;
  readonly #channels = new Map<string, JoinedChannel>();
  #vsn: Vsn = '1.0.0';
  #socketToken = '';
  #queue: Promise<void>;
  #closed = false;

  constructor(socket: WebSocket, url: URL, context: RealtimeContext, onClosed: () => void) {
    this.#socket = socket;
    this.#context = context;
    socket.binaryType = 'arraybuffer';
    this.#queue = this.#accept(url).catch((error) => {
      this.#context.log('realtime: could not accept a socket', error);
      this.close(INTERNAL_ERROR, 'Realtime could not accept the connection');
    });
    socket.addEventListener('message', (event) => this.#enqueue(() => this.#receive(event.data)));
    socket.addEventListener('close', () => {
      this.#teardown();
      onClosed();
    });
  }

  close(code: number, reason: string) {
    this.#teardown();
    if (this.#socket.readyState === CONNECTING) {
      this.#socket.addEventListener('open', () => this.#socket.close(code, reason), { once: true });
    } else if (this.#socket.readyState === OPEN) {
      this.#socket.close(code, reason);
    }
  }

  send(frame: Frame) {
    if (this.#socket.readyState !== OPEN) return;
    this.#socket.send(encodeFrame(frame, this.#vsn));
  }

  sendBinaryBroadcast(topic: string, message: BinaryBroadcast) {
    if (this.#socket.readyState !== OPEN || this.#vsn !== '2.0.0') return;
    try {
      this.#socket.send(encodeBinaryBroadcast(topic, message));
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.#context.log(`realtime: ${error.message}`);
    }
  }

  async #accept(url: URL) {
    // Phoenix falls back to the 1.0.0 serializer when the client names none.
    const vsn = url.searchParams.get('vsn') ?? '1.0.0';
    if (!(VSNS as readonly string[]).includes(vsn)) {
      return this.close(REFUSED, `unsupported vsn ${vsn}`.slice(0, 120));
    }
    this.#vsn = vsn as Vsn;
    const apikey = url.searchParams.get('apikey') ?? '';
    if (!apikey) return this.close(REFUSED, 'No apikey provided');
    const check = isOpaqueKey(apikey)
      ? { ok: false as const, message: 'API keys that are not JWTs are not supported locally' }
      : await checkToken(apikey, this.#context.jwtSecret);
    if (!check.ok) return this.close(REFUSED, check.message.slice(0, 120));
    this.#socketToken = apikey;
  }

  #enqueue(task: () => Promise<void> | void) {
    this.#queue = this.#queue
      .then(() => (this.#closed ? undefined : task()))
      .catch((error) => this.#context.log('realtime: frame handling failed', error));
  }

  #isCurrent(channel: JoinedChannel) {
    return !this.#closed && this.#channels.get(channel.topic) === channel;
  }

  async #receive(data: unknown) {
    const raw = data instanceof Blob ? await data.arrayBuffer() : data;
    if (typeof raw !== 'string' && !(raw instanceof ArrayBuffer)) return;
    let frame: Frame;
    try {
      frame = decodeFrame(raw, this.#vsn);
    } catch (error) {
      if (error instanceof FrameError) return this.#context.log(`realtime: ${error.message}`);
      throw error;
    }

    if (frame.topic === 'phoenix' && frame.event === 'heartbeat') return this.#heartbeat(frame);
    if (frame.event === 'phx_join') return this.#join(frame);

    const channel = this.#channels.get(frame.topic);
    if (!channel) return this.#unmatched(frame);
    // A frame for an earlier join of this topic, raced by a server-side close: Phoenix drops it.
    if (frame.joinRef !== null && frame.joinRef !== channel.joinRef) return;

    switch (frame.event) {
      case 'phx_leave':
        channel.reply(frame.ref, 'ok');
        channel.pushClose();
        return this.#end(channel);
      case 'broadcast':
        return receiveBroadcast(channel, frame, this.#context);
      case 'presence':
        return receivePresence(channel, frame, this.#context, () => this.#isCurrent(channel));
      case 'access_token':
        return this.#refreshToken(channel, frame);
    }
  }

  #unmatched(frame: Frame) {
    const status = frame.event === 'phx_leave' ? 'ok' : 'error';
    const response = status === 'ok' ? {} : { reason: 'unmatched topic' };
    this.send({ ...frame, event: 'phx_reply', payload: { status, response } });
  }

  #heartbeat(frame: Frame) {
    this.send({ ...frame, event: 'phx_reply', payload: { status: 'ok', response: {} } });
    for (const channel of this.#channels.values()) {
      if (msUntilExpiry(channel.identity.claims) <= 0) {
        this.#shutdown(channel, expiredMessage(channel.identity.claims));
      }
    }
  }

  async #join(frame: Frame) {
    const reply = (status: 'ok' | 'error', response: unknown) =>
      this.send({ ...frame, event: 'phx_reply', payload: { status, response } });
    if (!frame.topic.startsWith('realtime:')) return reply('error', { reason: 'unmatched topic' });

    // Phoenix silently replaces the channel of a topic that is joined again.
    const previous = this.#channels.get(frame.topic);
    if (previous) this.#end(previous);

    const result = await evaluateJoin(frame, this.#socketToken, this.#context).catch((error) => {
      this.#context.log('realtime: could not authorize a join', error);
      return { ok: false as const, reason: DATABASE_UNAVAILABLE };
    });
    if (this.#closed) return;
    if (!result.ok) return reply('error', { reason: result.reason });

    const channel = new JoinedChannel(this, result.options, result.identity);
    this.#channels.set(channel.topic, channel);
    this.#context.registry.add(channel);
    channel.reply(frame.ref, 'ok', { postgres_changes: [] });
    if (channel.presenceEnabled && channel.readsPresence()) {
      channel.push('presence_state', this.#context.registry.presenceState(channel));
    }
    this.#watchToken(channel);
  }

  async #refreshToken(channel: JoinedChannel, frame: Frame) {
    const payload = frame.payload as { access_token?: unknown };
    const token = payload?.access_token;
    if (typeof token !== 'string' || token === '' || isOpaqueKey(token)) return;
    if (token === channel.identity.token) return;

    const result = await reauthorize(channel, token, this.#context).catch((error) => {
      this.#context.log('realtime: could not authorize a token refresh', error);
      return { ok: false as const, message: DATABASE_UNAVAILABLE };
    });
    if (!this.#isCurrent(channel)) return;
    if (!result.ok) return this.#shutdown(channel, result.message);
    channel.identity = result.identity;
    this.#watchToken(channel);
  }

  #watchToken(channel: JoinedChannel) {
    channel.scheduleTokenCheck(() =>
      this.#enqueue(async () => {
        if (!this.#isCurrent(channel)) return;
        const check = await checkToken(channel.identity.token, this.#context.jwtSecret);
        if (!this.#isCurrent(channel)) return;
        if (check.ok) this.#watchToken(channel);
        else this.#shutdown(channel, check.message);
      }),
    );
  }

  #shutdown(channel: JoinedChannel, message: string) {
    channel.pushShutdown(message);
    this.#end(channel);
  }

  #end(channel: JoinedChannel) {
    if (this.#channels.get(channel.topic) === channel) this.#channels.delete(channel.topic);
    this.#context.registry.remove(channel);
    channel.dispose();
  }

  #teardown() {
    if (this.#closed) return;
    this.#closed = true;
    for (const channel of [...this.#channels.values()]) this.#end(channel);
  }
}
