import type { Db } from '../db/port.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import type { LlmProvider } from '../llm/types.ts';
import type { Rich } from '../messages/rich.ts';
import type { ReplyContext } from './context.ts';
import type { HandoffReason } from './handoff.ts';
import type { Passage } from './retrieval.ts';
import type { ToolOutcome } from './tools.ts';

// The shapes every engine shares: what a reply is made with and what it produces. Kept apart from
// reply.ts so an engine (n8n.ts) and the reply that dispatches to it need not import each other.

export interface ReplyDeps {
  db: Db;
  embedder: Embedder;
  env: Readonly<Record<string, string | undefined>>;
  fetch: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  log?: (message: string, error?: unknown) => void;
  /** Builds the tenant's model client; replaceable in tests. */
  llmFor?: (context: ReplyContext) => LlmProvider | null;
  /**
   * What the reply is worked for, e.g. `job:42`. Webhook ids derive from it, so the calls of a job
   * retried after a crash carry the ids of the first try. Unset: the visitor's message.
   */
  callScope?: string;
}

export interface Draft {
  content: string;
  quickReplies: string[];
  /** Buttons and cards under the reply (the model's rich tool, the n8n engine's `rich`), already checked. */
  rich?: Rich | null;
  engine: 'ai' | 'n8n' | 'retrieval' | 'cache' | 'quota' | 'flow';
  provider: string | null;
  model: string | null;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  rounds: number;
  fallbackReason: string | null;
  tools: ToolOutcome[];
  /** reason: why, in words (the model's, the flow's, the trigger's); kind: which trigger, for staff. */
  handoff: { reason: string; kind?: HandoffReason } | null;
  passages: Passage[];
  sources: unknown[];
}
