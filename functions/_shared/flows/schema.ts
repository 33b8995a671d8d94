import { z } from 'zod';

// A keyword flow as a tenant writes it. Everything a running flow relies on (step ids unique,
// every `next` and branch pointing at a step that exists, buttons that fit WhatsApp's lists) is
// checked here when the flow is saved, and again when it is read, so a flow that runs is whole.

const MAX_STEPS = 100;
/** WhatsApp cuts list rows at 24 characters; the widget shows up to 10 chips. */
const BUTTON = z.string().trim().min(1).max(24);
const stepId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,40}$/, 'step ids are 1-40 letters, digits, _ or -');

/** One text, or one per language ({"en": "…", "es": "…"}); the conversation's language picks. */
const text = z.union([
  z.string().trim().min(1).max(4096),
  z
    .record(z.string().regex(/^[a-z]{2}(-[A-Za-z]{2})?$/), z.string().trim().min(1).max(4096))
    .refine((v) => Object.keys(v).length > 0, 'at least one language'),
]);
export type FlowText = z.infer<typeof text>;

/** Where an answer may be saved: the contact's name or email, or one of its attributes. */
export const contactField = z.union([
  z.enum(['name', 'email']),
  z.string().regex(/^attributes\.[a-z][a-z0-9_]{0,39}$/, 'attributes.<key> (a-z, 0-9, _)'),
]);
export type ContactField = z.infer<typeof contactField>;

const next = stepId.optional();

const message = z.object({
  id: stepId,
  type: z.literal('message'),
  text,
  buttons: z.array(BUTTON).max(10).optional(),
  next,
});
const ask = z.object({
  id: stepId,
  type: z.literal('ask'),
  text,
  buttons: z.array(BUTTON).max(10).optional(),
  /** Keep the answer on the contact. */
  save_as: contactField.optional(),
  /** The first branch one of whose words equals the answer decides where to go. */
  branches: z
    .array(
      z.object({ when: z.array(z.string().trim().min(1).max(200)).min(1).max(20), next: stepId }),
    )
    .max(20)
    .optional(),
  /** Any other answer goes here; without it, an answer outside the buttons is asked again. */
  next,
  /** Said before asking again. */
  retry_text: text.optional(),
});
const set = z.object({
  id: stepId,
  type: z.literal('set'),
  field: contactField,
  value: z.string().max(500),
  next,
});
/** A file of the tenant's knowledge folder (`knowledge/<tenant_id>/<file>`), sent on WhatsApp. */
const media = z.object({
  id: stepId,
  type: z.literal('media'),
  file: z
    .string()
    .min(1)
    .max(500)
    .regex(/^[^/.][^\\]*$/, 'a file name inside the knowledge folder')
    .refine((f) => !f.split('/').includes('..'), 'no .. in a file name'),
  caption: text.optional(),
  next,
});
/** A flow variable: kept while the conversation is in the flow, read by later steps. */
export const flowVariable = z
  .string()
  .regex(/^vars\.[a-z][a-z0-9_]{0,39}$/, 'vars.<key> (a-z, 0-9, _)');

/** Where a tool argument's value comes from: the customer's last message, the contact, a variable. */
export const valueSource = z.union([z.literal('reply'), contactField, flowVariable]);
export type ValueSource = z.infer<typeof valueSource>;

/**
 * A tool argument: a literal (text, number, true/false, null), `{"from": <source>}`, or
 * `{"value": <any JSON>}` for a literal object or list.
 */
const toolArgument = z.union([
  z.string().max(2000),
  z.number(),
  z.boolean(),
  z.null(),
  z.object({ from: valueSource }).strict(),
  z.object({ value: z.unknown() }).strict(),
]);
export type ToolArgument = z.infer<typeof toolArgument>;

/** A field of the tool's JSON answer (`order.status`, `items.0.name`); empty: the whole answer. */
const resultPath = z
  .string()
  .max(200)
  .regex(/^$|^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'a dotted path such as order.status');

/**
 * Calls one of the tenant's tools (by name) through the same signed path the bot uses, keeps parts
 * of its answer, and goes on to `next` when the call succeeded, to `on_failure` when it did not.
 */
const callTool = z.object({
  id: stepId,
  type: z.literal('call_tool'),
  tool: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'a tool name'),
  arguments: z.record(z.string().min(1).max(64), toolArgument).default({}),
  save: z
    .array(
      z.object({
        /** The field of the answer; absent or empty: the whole answer. */
        from: resultPath.default(''),
        to: z.union([contactField, flowVariable]),
      }),
    )
    .max(20)
    .default([]),
  /** Per attempt; at most 10 s because the customer is waiting for the reply. */
  timeout_ms: z.number().int().min(500).max(10_000).optional(),
  next,
  /** Where a failed call goes (an error answer, a timeout, an unknown or disabled tool). Absent: `next`. */
  on_failure: next,
});

const handoff = z.object({ id: stepId, type: z.literal('handoff'), text: text.optional() });
/** Leaves the flow and lets the bot engine answer the customer's message. */
const ai = z.object({ id: stepId, type: z.literal('ai') });
const end = z.object({ id: stepId, type: z.literal('end'), text: text.optional() });

export const flowStep = z.discriminatedUnion('type', [
  message,
  ask,
  set,
  media,
  callTool,
  handoff,
  ai,
  end,
]);
export type FlowStep = z.infer<typeof flowStep>;

/** How a trigger or an answer is compared: case, spacing and surrounding punctuation ignored. */
export function normalizeKeyword(value: string): string {
  return value
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, '')
    .trim();
}

export const flowSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    enabled: z.boolean().default(true),
    triggers: z
      .array(z.string().max(100))
      .min(1)
      .max(20)
      .transform((list) => [...new Set(list.map(normalizeKeyword))])
      .refine((list) => list.every((t) => t.length > 0), 'a trigger cannot be only punctuation'),
    timeout_minutes: z.number().int().min(1).max(10080).default(60),
    steps: z.array(flowStep).min(1).max(MAX_STEPS),
  })
  .superRefine((flow, ctx) => {
    const ids = new Set<string>();
    flow.steps.forEach((step, i) => {
      if (ids.has(step.id))
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'id'],
          message: `duplicate step id ${step.id}`,
        });
      ids.add(step.id);
    });
    const point = (target: string | undefined, path: (string | number)[]) => {
      if (target !== undefined && !ids.has(target))
        ctx.addIssue({ code: 'custom', path, message: `no step with id ${target}` });
    };
    flow.steps.forEach((step, i) => {
      if ('next' in step) point(step.next, ['steps', i, 'next']);
      if (step.type === 'call_tool') point(step.on_failure, ['steps', i, 'on_failure']);
      if (step.type === 'ask')
        step.branches?.forEach((b, j) => {
          point(b.next, ['steps', i, 'branches', j, 'next']);
        });
    });
  });
export type Flow = z.infer<typeof flowSchema>;

/** The tools a flow's call_tool steps name, with where each is named. */
export function toolsNamed(steps: readonly FlowStep[]): { tool: string; index: number }[] {
  return steps.flatMap((step, index) =>
    step.type === 'call_tool' ? [{ tool: step.tool, index }] : [],
  );
}

/** The stored definition: the steps, as validated. */
export const storedDefinition = z.object({ steps: z.array(flowStep).min(1).max(MAX_STEPS) });

/** The text for this conversation's language: exact, then the base language, then English, then any. */
export function textFor(value: FlowText, locale: string | null): string {
  if (typeof value === 'string') return value;
  const lang = locale?.toLowerCase() ?? '';
  return (
    value[locale ?? ''] ??
    value[lang.split('-')[0] ?? ''] ??
    value.en ??
    Object.values(value)[0] ??
    ''
  );
}
