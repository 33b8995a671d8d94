import type { ToolCall, ToolSpec } from '../llm/types.ts';
import { type Rich, richSchema, storedRich } from '../messages/rich.ts';

// The model's way to put buttons and cards under its reply: a built-in tool, as handoff is, so any
// provider with tool calling can produce the structured part without a response format of its
// own. The arguments are the stored shape itself and are checked with the same schema as an n8n
// answer; a call that does not fit is dropped (the model is told why) and the text still goes out.

export const RICH_TOOL = 'show_buttons_and_cards';

const button = {
  type: 'object',
  description: 'Give exactly one of url or payload.',
  properties: {
    label: { type: 'string', maxLength: 80 },
    url: { type: 'string', description: 'An https link, opened in a new tab.' },
    payload: {
      type: 'string',
      maxLength: 200,
      description: 'Sent as the customer’s own message when pressed, e.g. a follow-up question.',
    },
  },
  required: ['label'],
  additionalProperties: false,
};

export const richToolSpec: ToolSpec = {
  name: RICH_TOOL,
  description:
    'Show buttons (links or suggested answers) and cards (picture, title, text, buttons) under your reply in the chat window. Use it for choices, products or links; still write the reply text, which must make sense without them.',
  parameters: {
    type: 'object',
    properties: {
      buttons: { type: 'array', maxItems: 5, items: button },
      cards: {
        type: 'array',
        maxItems: 10,
        items: {
          type: 'object',
          properties: {
            title: { type: 'string', maxLength: 120 },
            text: { type: 'string', maxLength: 1000 },
            image_url: { type: 'string', description: 'An https picture.' },
            buttons: { type: 'array', maxItems: 3, items: button },
          },
          required: ['title'],
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
};

/** The call's buttons and cards when they fit, and what the model is told either way. */
export function richFromCall(call: ToolCall): { rich: Rich | null; content: string } {
  const parsed = richSchema.safeParse(call.arguments);
  if (!parsed.success) {
    const details = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || 'arguments'}: ${issue.message}`);
    return {
      rich: null,
      content: JSON.stringify({ error: 'Nothing was shown: the arguments do not fit.', details }),
    };
  }
  const rich = storedRich(parsed.data);
  return {
    rich,
    content: JSON.stringify(
      rich ? { ok: true, note: 'Shown under your reply.' } : { error: 'Nothing to show.' },
    ),
  };
}
