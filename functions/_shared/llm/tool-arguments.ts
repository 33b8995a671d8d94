import type { ToolCall } from './types.ts';

/**
 * Models sometimes write arguments that are not JSON; that must reach the tool loop as a bad call
 * it can report back to the model, not as an exception. An empty string is a call without
 * arguments (Anthropic streams nothing for `{}`).
 */
export function parseToolArguments(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/**
 * The arguments text to send back in the conversation: the model's own text when it is valid JSON
 * (an exact echo keeps provider prompt caches warm), otherwise something every server accepts.
 */
export function argumentsText(call: ToolCall): string {
  if (call.rawArguments.trim() !== '' && parseToolArguments(call.rawArguments) !== undefined) {
    return call.rawArguments;
  }
  return call.arguments === undefined ? '{}' : JSON.stringify(call.arguments);
}

/** Anthropic insists on an object for `input`. */
export function argumentsObject(call: ToolCall): Record<string, unknown> {
  const value =
    call.arguments === undefined ? parseToolArguments(call.rawArguments) : call.arguments;
  return isPlainObject(value) ? value : {};
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
