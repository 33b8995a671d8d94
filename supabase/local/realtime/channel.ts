import type { Policies } from './authorization.ts';
import type { PresenceDiff } from './presence.ts';
import type { Broadcast, Member } from './registry.ts';
import type { BinaryBroadcast, Frame } from './serializer.ts';
import type { RealtimeClaims } from './tokens.ts';

// One joined channel of one socket: what it asked for at join, who it acts as, and the frames it
// is sent. Pushes carry the join ref; fan-out frames (broadcast, presence_diff) carry none.

export interface Outbox {
  send(frame: Frame): void;
  /** Raw-byte broadcasts; a 1.0.0 socket cannot represent them and gets nothing. */
  sendBinaryBroadcast(topic: string, message: BinaryBroadcast): void;
}

export interface ChannelOptions {
  topic: string;
  joinRef: string | null;
  private: boolean;
  selfBroadcast: boolean;
  ack: boolean;
  presenceKey: string;
  presenceEnabled: boolean;
}

export interface Identity {
  token: string;
  claims: RealtimeClaims;
  /** null on public channels, which RLS does not govern. */
  policies: Policies | null;
}

const isBinary = (message: Broadcast): message is BinaryBroadcast =>
  message.payload instanceof ArrayBuffer;

export class JoinedChannel implements Member {
  readonly topic: string;
  /** The topic without "realtime:", as policies and system messages name it. */
  readonly subTopic: string;
  readonly joinRef: string | null;
  readonly private: boolean;
  readonly selfBroadcast: boolean;
  readonly ack: boolean;
  readonly presenceKey: string;
  presenceEnabled: boolean;
  identity: Identity;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly outbox: Outbox,
    options: ChannelOptions,
    identity: Identity,
  ) {
    this.topic = options.topic;
    this.subTopic = options.topic.slice('realtime:'.length);
    this.joinRef = options.joinRef;
    this.private = options.private;
    this.selfBroadcast = options.selfBroadcast;
    this.ack = options.ack;
    this.presenceKey = options.presenceKey;
    this.presenceEnabled = options.presenceEnabled;
    this.identity = identity;
  }

  readsBroadcast() {
    return !this.private || this.identity.policies?.broadcast.read === true;
  }

  readsPresence() {
    return !this.private || this.identity.policies?.presence?.read === true;
  }

  deliverBroadcast(message: Broadcast) {
    if (isBinary(message)) this.outbox.sendBinaryBroadcast(this.topic, message);
    else
      this.outbox.send({
        joinRef: null,
        ref: null,
        topic: this.topic,
        event: 'broadcast',
        payload: message,
      });
  }

  deliverPresenceDiff(diff: PresenceDiff) {
    this.outbox.send({
      joinRef: null,
      ref: null,
      topic: this.topic,
      event: 'presence_diff',
      payload: diff,
    });
  }

  push(event: string, payload: unknown) {
    this.outbox.send({ joinRef: this.joinRef, ref: null, topic: this.topic, event, payload });
  }

  reply(ref: string | null, status: 'ok' | 'error', response: unknown = {}) {
    this.outbox.send({
      joinRef: this.joinRef,
      ref,
      topic: this.topic,
      event: 'phx_reply',
      payload: { status, response },
    });
  }

  /** Realtime's shutdown: a system error naming the reason, then phx_close. */
  pushShutdown(message: string) {
    this.push('system', { extension: 'system', status: 'error', message, channel: this.subTopic });
    this.pushClose();
  }

  pushClose() {
    this.outbox.send({
      joinRef: this.joinRef,
      ref: this.joinRef,
      topic: this.topic,
      event: 'phx_close',
      payload: {},
    });
  }

  /** Calls `due` when the token is up for re-checking (at exp, at least hourly). */
  scheduleTokenCheck(due: () => void) {
    clearTimeout(this.#expiryTimer);
    const untilExpiry = this.identity.claims.exp * 1000 - Date.now();
    const delay = Math.min(Math.max(untilExpiry, 0), 3_600_000);
    this.#expiryTimer = setTimeout(due, delay);
  }

  dispose() {
    clearTimeout(this.#expiryTimer);
  }
}
