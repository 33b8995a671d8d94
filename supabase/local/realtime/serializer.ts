// Phoenix frames as realtime-js 2.x writes and reads them.
//   vsn 1.0.0: every frame is a JSON object {join_ref, ref, topic, event, payload}.
//   vsn 2.0.0: text frames are JSON arrays [join_ref, ref, topic, event, payload]; client broadcasts
//   arrive as binary "user broadcast push" frames (kind 3), and the only binary frame the client
//   can decode is the "user broadcast" (kind 4): kinds 0-2 would crash its message handler.

export type Vsn = '1.0.0' | '2.0.0';
export const VSNS: readonly Vsn[] = ['1.0.0', '2.0.0'];

export interface Frame {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: unknown;
}

/** A broadcast body whose user payload is raw bytes (binary encoding in kinds 3 and 4). */
export interface BinaryBroadcast {
  type: 'broadcast';
  event: string;
  payload: ArrayBuffer;
  meta?: Record<string, unknown>;
}

const USER_BROADCAST_PUSH = 3;
const USER_BROADCAST = 4;
const BINARY_ENCODING = 0;
const JSON_ENCODING = 1;

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

const optionalString = (value: unknown) => (typeof value === 'string' ? value : null);

function fromFields(fields: Record<string, unknown>): Frame {
  const { topic, event } = fields;
  if (typeof topic !== 'string' || typeof event !== 'string') {
    throw new FrameError('a frame needs a string topic and event');
  }
  return {
    joinRef: optionalString(fields.join_ref),
    ref: optionalString(fields.ref),
    topic,
    event,
    payload: fields.payload ?? {},
  };
}

function decodeText(text: string, vsn: Vsn): Frame {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FrameError('a text frame must be JSON');
  }
  if (vsn === '2.0.0') {
    if (!Array.isArray(parsed) || parsed.length !== 5) {
      throw new FrameError('a 2.0.0 text frame is [join_ref, ref, topic, event, payload]');
    }
    const [join_ref, ref, topic, event, payload] = parsed;
    return fromFields({ join_ref, ref, topic, event, payload });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FrameError('a 1.0.0 frame is a JSON object');
  }
  return fromFields(parsed as Record<string, unknown>);
}

function decodeUserBroadcastPush(bytes: Uint8Array): Frame {
  if (bytes.length < 7) throw new FrameError('truncated broadcast frame');
  const lengths = [bytes[1], bytes[2], bytes[3], bytes[4], bytes[5]] as number[];
  const encoding = bytes[6];
  let offset = 7;
  const [joinRef, ref, topic, event, metadata] = lengths.map((length) => {
    if (offset + length > bytes.length) throw new FrameError('truncated broadcast frame');
    const text = textDecoder.decode(bytes.subarray(offset, offset + length));
    offset += length;
    return text;
  }) as [string, string, string, string, string];
  const rest = bytes.slice(offset);

  let payload: unknown;
  if (encoding === JSON_ENCODING) {
    try {
      payload = JSON.parse(textDecoder.decode(rest));
    } catch {
      throw new FrameError('broadcast payload is not JSON');
    }
  } else if (encoding === BINARY_ENCODING) {
    payload = rest.buffer;
  } else {
    throw new FrameError(`unknown payload encoding ${encoding}`);
  }

  const body: Record<string, unknown> = { type: 'broadcast', event, payload };
  if (metadata) {
    try {
      body.meta = JSON.parse(metadata);
    } catch {
      throw new FrameError('broadcast metadata is not JSON');
    }
  }
  return { joinRef: joinRef || null, ref: ref || null, topic, event: 'broadcast', payload: body };
}

/** Throws FrameError for anything realtime-js would never send. */
export function decodeFrame(data: string | ArrayBuffer, vsn: Vsn): Frame {
  if (typeof data === 'string') return decodeText(data, vsn);
  const bytes = new Uint8Array(data);
  if (vsn !== '2.0.0' || bytes[0] !== USER_BROADCAST_PUSH) {
    throw new FrameError('unexpected binary frame');
  }
  return decodeUserBroadcastPush(bytes);
}

export function encodeFrame(frame: Frame, vsn: Vsn): string {
  const { joinRef, ref, topic, event, payload } = frame;
  if (vsn === '2.0.0') return JSON.stringify([joinRef, ref, topic, event, payload]);
  return JSON.stringify({ join_ref: joinRef, ref, topic, event, payload });
}

/** Kind 4: the one binary frame a 2.0.0 client decodes; used for payloads JSON cannot carry. */
export function encodeBinaryBroadcast(topic: string, message: BinaryBroadcast): ArrayBuffer {
  const topicBytes = textEncoder.encode(topic);
  const eventBytes = textEncoder.encode(message.event);
  const metaBytes = textEncoder.encode(message.meta ? JSON.stringify(message.meta) : '');
  for (const part of [topicBytes, eventBytes, metaBytes]) {
    if (part.length > 255) throw new FrameError('binary broadcast header field over 255 bytes');
  }
  const payload = new Uint8Array(message.payload);
  const out = new Uint8Array(
    5 + topicBytes.length + eventBytes.length + metaBytes.length + payload.length,
  );
  out.set([
    USER_BROADCAST,
    topicBytes.length,
    eventBytes.length,
    metaBytes.length,
    BINARY_ENCODING,
  ]);
  let offset = 5;
  for (const part of [topicBytes, eventBytes, metaBytes, payload]) {
    out.set(part, offset);
    offset += part.length;
  }
  return out.buffer;
}
