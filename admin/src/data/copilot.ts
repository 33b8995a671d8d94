import { signal } from '@preact/signals';
import { callFunction, FunctionError } from './functions.ts';

// Copilot for one conversation: a reply the model drafts for the agent to edit and send, and a
// summary of the conversation. Both come from the copilot function (the tenant's model key never
// reaches the browser); nothing here sends anything to the visitor.

export interface Suggestion {
  content: string;
  sources: { title: string; url: string | null }[];
}

export type Pending<T> =
  | { state: 'idle' }
  | { state: 'busy' }
  | { state: 'done'; value: T }
  | { state: 'failed'; code: string; message: string };

// A summary costs a model call: kept per conversation and size for the life of the page, so
// moving between conversations does not ask again.
const summaries = new Map<string, string>();

export function createCopilot(conversationId: string) {
  const suggestion = signal<Pending<Suggestion>>({ state: 'idle' });
  const summary = signal<Pending<string>>({ state: 'idle' });

  async function run<T>(target: { value: Pending<T> }, work: () => Promise<T>) {
    if (target.value.state === 'busy') return;
    target.value = { state: 'busy' };
    try {
      target.value = { state: 'done', value: await work() };
    } catch (error) {
      target.value = {
        state: 'failed',
        code: error instanceof FunctionError ? error.code : 'error',
        message: (error as Error).message,
      };
    }
  }

  return {
    suggestion,
    summary,
    suggest: () =>
      run(suggestion, async () => {
        const { suggestion: value } = await callFunction<{ suggestion: Suggestion }>(
          'copilot/suggest',
          { conversation_id: conversationId },
        );
        return value;
      }),
    /** `size` (the number of messages) tells a summary of the same conversation that grew since. */
    summarize: (locale: string, size: number, reuse = true) =>
      run(summary, async () => {
        const key = `${conversationId}:${size}:${locale}`;
        const known = reuse ? summaries.get(key) : undefined;
        if (known) return known;
        const { summary: value } = await callFunction<{ summary: { content: string } }>(
          'copilot/summary',
          { conversation_id: conversationId, locale },
        );
        summaries.set(key, value.content);
        return value.content;
      }),
    discard() {
      suggestion.value = { state: 'idle' };
    },
  };
}

export type Copilot = ReturnType<typeof createCopilot>;
