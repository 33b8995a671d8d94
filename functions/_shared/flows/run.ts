import type { Sql } from '../db/port.ts';
import {
  type ContactField,
  type FlowStep,
  type FlowText,
  normalizeKeyword,
  storedDefinition,
  textFor,
} from './schema.ts';
import { callFlowTool, type FlowTools, fieldAt } from './tool-step.ts';

// Runs a tenant's keyword flows for one customer message, inside the reply's transaction: the
// conversation's place in a flow moves only if the reply that goes with it is stored. A message
// either answers the question the conversation waits at, or starts the flow it names, or is left
// to the bot engine (null).

/** A bound on steps walked per message: message and set steps may form a loop. */
const MAX_WALK = 25;
/** Answers refused at one question before the flow lets the bot engine answer instead. */
const MAX_RETRIES = 2;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,}$/;

export interface FlowTurn {
  /** The texts of the steps walked, in order; sent as one reply. */
  texts: string[];
  /** The buttons of the last step that spoke. */
  quickReplies: string[];
  /** Files to send after the texts (WhatsApp only): `knowledge/<tenant_id>/<file>` and a caption. */
  media: { object: string; caption: string }[];
  handoff: boolean;
  /** An `ai` step was reached (or the customer gave up answering): the bot engine answers. */
  toEngine: boolean;
  flowId: string;
}

export interface FlowConversation {
  tenantId: string;
  conversationId: string;
  locale: string | null;
  contactId: string | null;
  message: string;
  channel: string;
}

interface LoadedFlow {
  id: string;
  timeout_minutes: number;
  steps: Map<string, FlowStep>;
  first: string;
}

async function loadFlow(sql: Sql, where: string, params: unknown[]): Promise<LoadedFlow | null> {
  const rows = await sql.query<{ id: string; timeout_minutes: number; definition: unknown }>(
    `select id, timeout_minutes, definition from public.bot_flows
      where enabled and ${where} order by created_at, id limit 1`,
    params,
  );
  const row = rows[0];
  if (!row) return null;
  // Only the service writes definitions, after validation; one that no longer parses is skipped.
  const parsed = storedDefinition.safeParse(row.definition);
  if (!parsed.success || !parsed.data.steps[0]) return null;
  return {
    id: row.id,
    timeout_minutes: row.timeout_minutes,
    steps: new Map(parsed.data.steps.map((s) => [s.id, s])),
    first: parsed.data.steps[0].id,
  };
}

type Decision = { next: string | undefined } | { retry: true };

/** Where an answer leads from a question. */
function decide(step: Extract<FlowStep, { type: 'ask' }>, answer: string): Decision {
  const key = normalizeKeyword(answer);
  for (const branch of step.branches ?? []) {
    if (branch.when.some((w) => normalizeKeyword(w) === key)) return { next: branch.next };
  }
  if (step.save_as === 'email' && !EMAIL.test(answer.trim())) return { retry: true };
  const buttons = step.buttons ?? [];
  if (buttons.some((b) => normalizeKeyword(b) === key)) return { next: step.next };
  if (step.next !== undefined) return { next: step.next };
  if (buttons.length > 0) return { retry: true };
  return { next: undefined };
}

const RETRY: Record<string, string> = {
  en: 'Sorry, I did not get that.',
  es: 'Perdona, no lo he entendido.',
  pt: 'Desculpe, não entendi.',
  fr: "Désolé, je n'ai pas compris.",
  de: 'Entschuldigung, das habe ich nicht verstanden.',
  he: 'סליחה, לא הבנתי.',
};

async function contactOf(sql: Sql, turn: FlowConversation): Promise<string> {
  if (turn.contactId) return turn.contactId;
  // A web visitor who never identified gets a contact of its own for what it tells the flow.
  const [row] = await sql.query<{ id: string }>(
    `with c as (select tenant_id, visitor_id from public.conversations where id = $1),
          k as (
            insert into public.contacts (tenant_id, identifier, last_seen_at)
            select tenant_id, 'visitor:' || coalesce(visitor_id::text, $1::text), now() from c
            on conflict (tenant_id, identifier) do update set last_seen_at = now()
            returning id)
     update public.conversations set contact_id = (select id from k)
      where id = $1 returning contact_id as id`,
    [turn.conversationId],
  );
  if (!row) throw new Error('conversation gone');
  turn.contactId = row.id;
  return row.id;
}

/** Text as given (trimmed, capped); a tool's number, list or object kept as JSON in attributes. */
async function saveField(sql: Sql, turn: FlowConversation, field: ContactField, value: unknown) {
  const contactId = await contactOf(sql, turn);
  const asText = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  const clipped = asText.trim().slice(0, 500);
  if (field === 'name' || field === 'email') {
    await sql.query(`update public.contacts set ${field} = $2 where id = $1`, [contactId, clipped]);
    return;
  }
  const stored = typeof value === 'string' || asText.length > 2000 ? clipped : value;
  await sql.query(
    `update public.contacts set attributes = attributes || jsonb_build_object($2::text, $3::jsonb)
      where id = $1`,
    [contactId, field.slice('attributes.'.length), stored ?? null],
  );
}

/** `{{vars.key}}` in a text: the flow variable, as text; an unknown one says nothing. */
function fillVariables(text: string, vars: Record<string, unknown>): string {
  return text.replace(/\{\{\s*vars\.([a-z][a-z0-9_]{0,39})\s*\}\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined || value === null) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/**
 * The customer's message walked through the tenant's flows; null when no flow takes it. `tools`
 * (from withFlowTools, around the transaction) lets call_tool steps call the tenant's tools;
 * without it they take their failure branch.
 */
export async function runFlow(
  sql: Sql,
  turn: FlowConversation,
  tools?: FlowTools,
): Promise<FlowTurn | null> {
  const [session] = await sql.query<{
    flow_id: string;
    step_id: string;
    retries: number;
    expired: boolean;
    vars: Record<string, unknown>;
  }>(
    `select flow_id, step_id, retries, expires_at < now() as expired, vars
       from private.flow_sessions where conversation_id = $1 for update`,
    [turn.conversationId],
  );
  // A flow started afresh begins with no variables; an answered question keeps the flow's.
  const vars: Record<string, unknown> = {};
  const say = (value: FlowText) => fillVariables(textFor(value, turn.locale), vars);
  const leave = () =>
    sql.query('delete from private.flow_sessions where conversation_id = $1', [
      turn.conversationId,
    ]);

  let flow: LoadedFlow | null = null;
  let from: string | undefined;
  if (session && !session.expired) {
    flow = await loadFlow(sql, 'id = $1 and tenant_id = $2', [session.flow_id, turn.tenantId]);
    const step = flow?.steps.get(session.step_id);
    if (flow && step?.type === 'ask') {
      Object.assign(vars, session.vars);
      const decision = decide(step, turn.message);
      if ('retry' in decision) {
        const other = await triggered(sql, turn);
        if (other) {
          flow = other;
          from = other.first;
          for (const key of Object.keys(vars)) delete vars[key];
        } else if (session.retries >= MAX_RETRIES) {
          await leave();
          return { ...emptyTurn(flow.id), toEngine: true };
        } else {
          await sql.query(
            `update private.flow_sessions
                set retries = retries + 1, updated_at = now(),
                    expires_at = now() + make_interval(mins => $2)
              where conversation_id = $1`,
            [turn.conversationId, flow.timeout_minutes],
          );
          const lang = (turn.locale ?? 'en').split('-')[0] ?? 'en';
          return {
            ...emptyTurn(flow.id),
            texts: [
              step.retry_text ? say(step.retry_text) : (RETRY[lang] ?? RETRY.en ?? ''),
              say(step.text),
            ],
            quickReplies: step.buttons ?? [],
          };
        }
      } else {
        if (step.save_as) await saveField(sql, turn, step.save_as, turn.message);
        if (decision.next === undefined) {
          await leave();
          return emptyTurn(flow.id);
        }
        from = decision.next;
      }
    } else {
      flow = null;
    }
  }
  if (!flow || from === undefined) {
    flow = await triggered(sql, turn);
    if (!flow) {
      if (session) await leave();
      return null;
    }
    from = flow.first;
  }
  return walk(sql, { turn, flow, say, leave, vars, ...(tools ? { tools } : {}) }, from);
}

function emptyTurn(flowId: string): FlowTurn {
  return { texts: [], quickReplies: [], media: [], handoff: false, toEngine: false, flowId };
}

function triggered(sql: Sql, turn: FlowConversation) {
  const key = normalizeKeyword(turn.message);
  if (!key) return Promise.resolve(null);
  return loadFlow(sql, 'tenant_id = $1 and $2 = any(triggers)', [turn.tenantId, key]);
}

/** The conversation waits at a question of the flow: its next message is the answer. */
async function waitAt(
  sql: Sql,
  at: { conversationId: string; tenantId: string },
  flow: LoadedFlow,
  stepId: string,
  vars: Record<string, unknown>,
) {
  await sql.query(
    `insert into private.flow_sessions
       (conversation_id, tenant_id, flow_id, step_id, expires_at, vars)
     values ($1, $2, $3, $4, now() + make_interval(mins => $5), $6::jsonb)
     on conflict (conversation_id) do update
        set flow_id = excluded.flow_id, step_id = excluded.step_id, retries = 0,
            updated_at = now(), expires_at = excluded.expires_at, vars = excluded.vars,
            started_at = case when private.flow_sessions.flow_id = excluded.flow_id
                              then private.flow_sessions.started_at else now() end`,
    [at.conversationId, at.tenantId, flow.id, stepId, flow.timeout_minutes, vars],
  );
}

/**
 * A flow started by something the business sent first (a broadcast's template): the conversation
 * waits at the flow's first step, a question the template asked, so the customer's message that
 * follows is its answer. False when the flow is gone, switched off or does not open with a question.
 */
export async function awaitFlowAnswer(
  sql: Sql,
  at: { conversationId: string; tenantId: string; flowId: string },
): Promise<boolean> {
  const flow = await loadFlow(sql, 'id = $1 and tenant_id = $2', [at.flowId, at.tenantId]);
  if (flow?.steps.get(flow.first)?.type !== 'ask') return false;
  await waitAt(sql, at, flow, flow.first, {});
  return true;
}

interface Walk {
  turn: FlowConversation;
  flow: LoadedFlow;
  say: (value: FlowText) => string;
  leave: () => Promise<unknown>;
  vars: Record<string, unknown>;
  tools?: FlowTools;
}

async function walk(sql: Sql, w: Walk, from: string): Promise<FlowTurn> {
  const { turn, flow, say, leave, vars } = w;
  const out = emptyTurn(flow.id);
  let id: string | undefined = from;
  for (let walked = 0; id !== undefined && walked < MAX_WALK; walked++) {
    const step = flow.steps.get(id);
    if (!step) break;
    switch (step.type) {
      case 'message':
        out.texts.push(say(step.text));
        out.quickReplies = step.buttons ?? [];
        id = step.next;
        break;
      case 'set':
        await saveField(sql, turn, step.field, step.value);
        id = step.next;
        break;
      case 'media': {
        const caption = step.caption ? say(step.caption) : '';
        // The widget shows no files from Storage: there the caption is said instead.
        if (turn.channel === 'whatsapp')
          out.media.push({ object: `knowledge/${turn.tenantId}/${step.file}`, caption });
        else if (caption) out.texts.push(caption);
        id = step.next;
        break;
      }
      case 'call_tool': {
        const result = await callFlowTool(sql, w.tools, step, {
          tenantId: turn.tenantId,
          conversationId: turn.conversationId,
          contactId: turn.contactId,
          message: turn.message,
          vars,
        });
        if (result.ok) {
          for (const keep of step.save) {
            const value = fieldAt(result.response, keep.from);
            if (value === undefined) continue;
            if (keep.to.startsWith('vars.')) vars[keep.to.slice('vars.'.length)] = value;
            else await saveField(sql, turn, keep.to as ContactField, value);
          }
        }
        id = result.ok ? step.next : (step.on_failure ?? step.next);
        break;
      }
      case 'ask':
        out.texts.push(say(step.text));
        out.quickReplies = step.buttons ?? [];
        await waitAt(sql, turn, flow, step.id, vars);
        return out;
      case 'handoff':
        if (step.text) out.texts.push(say(step.text));
        out.quickReplies = [];
        out.handoff = true;
        await leave();
        return out;
      case 'ai':
        out.toEngine = true;
        await leave();
        return out;
      case 'end':
        if (step.text) {
          out.texts.push(say(step.text));
          out.quickReplies = [];
        }
        await leave();
        return out;
    }
  }
  await leave();
  return out;
}
