import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { transportFailure } from './http.ts';
import { LlmError } from './types.ts';

/**
 * Feeds each server-sent event of `response` to `onEvent` until the body ends or `onEvent` returns
 * `'stop'`. Read failures become LlmErrors (timeout, aborted, network).
 */
export async function readEvents(
  response: Response,
  signal: AbortSignal,
  onEvent: (event: EventSourceMessage) => 'stop' | undefined,
): Promise<void> {
  if (!response.body) {
    throw new LlmError('invalid_response', 'The LLM sent a streaming response without a body');
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw transportFailure(error, signal);
      }
      if (chunk.done) {
        parser.feed(`${decoder.decode()}\n\n`);
      } else {
        parser.feed(decoder.decode(chunk.value, { stream: true }));
      }
      // Events are handled outside the parser's callback so that an exception thrown while
      // handling one (from the caller's onDelta, say) leaves the parser and the loop cleanly.
      for (let event = pending.shift(); event; event = pending.shift()) {
        if (onEvent(event) === 'stop') return;
      }
      if (chunk.done) return;
    }
  } finally {
    // Stops the download when we leave early; a no-op once the body has ended.
    reader.cancel().catch(() => {});
  }
}

/** JSON of one event's data; a garbled event is the provider's fault, not a network one. */
export function parseEventData(event: EventSourceMessage): unknown {
  try {
    return JSON.parse(event.data);
  } catch (error) {
    throw new LlmError(
      'invalid_response',
      `The LLM sent an unreadable stream event: ${event.data.slice(0, 200)}`,
      {
        cause: error,
      },
    );
  }
}
