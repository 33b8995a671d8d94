import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyRequest } from '../../functions/_shared/webhooks/signature.ts';
import type { INodeProperties, INodeTypeDescription } from '../../n8n/src/n8n-types.ts';
import { Parley } from '../../n8n/src/nodes/Parley/Parley.node.ts';
import { ParleyTrigger } from '../../n8n/src/nodes/ParleyTrigger/ParleyTrigger.node.ts';
import fixture from './fixtures/n8n-node-types.json' with { type: 'json' };

// Every template must import into the pinned n8n: its node types and versions exist there, and
// each parameter it sets is one the node declares. n8n's own node descriptions come from the
// fixture (n8n/scripts/node-types-fixture.mjs writes it from the published packages); the Parley
// nodes' from their source. The Code nodes of the plain-Webhook variants are also run, against
// requests signed by the standardwebhooks package.

const dir = join(import.meta.dirname, '../../n8n/templates');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const SECRET = `whsec_${Buffer.from('template-test-secret-000001').toString('base64')}`;
const PLACEHOLDER = 'whsec_REPLACE_WITH_YOUR_SECRET';

interface TemplateNode {
  id: string;
  name: string;
  type: string;
  typeVersion: number;
  position: [number, number];
  parameters: Record<string, unknown>;
  credentials?: Record<string, { id: string; name: string }>;
}
interface Template {
  name: string;
  nodes: TemplateNode[];
  connections: Record<string, Record<string, { node: string; type: string; index: number }[][]>>;
}
interface ParameterShape {
  types: string[];
  values?: unknown[];
  fields?: string[];
}
type FixtureNode = { versions: number[]; parameters?: Record<string, ParameterShape> };

const n8nNodes = fixture.nodes as unknown as Record<string, FixtureNode[]>;

function shapeOf(properties: INodeProperties[]): Record<string, ParameterShape> {
  const shapes: Record<string, ParameterShape> = {};
  for (const property of properties) {
    const shape = shapes[property.name] ?? { types: [] };
    shapes[property.name] = shape;
    shape.types.push(property.type);
    const options = property.options ?? [];
    if (property.type === 'options') {
      shape.values = options.map((o) => (o as { value: unknown }).value);
    }
    if (property.type === 'collection') shape.fields = options.map((o) => o.name);
  }
  return shapes;
}

const parleyNodes: Record<string, FixtureNode[]> = Object.fromEntries(
  [new ParleyTrigger().description, new Parley().description].map((d: INodeTypeDescription) => [
    `n8n-nodes-parley.${d.name}`,
    [{ versions: [d.version], parameters: shapeOf(d.properties) }],
  ]),
);

function load(file: string): Template {
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as Template;
}

function problems(template: Template): string[] {
  const found: string[] = [];
  const names = new Set(template.nodes.map((n) => n.name));
  if (names.size !== template.nodes.length) found.push('node names repeat');
  if (new Set(template.nodes.map((n) => n.id)).size !== template.nodes.length) {
    found.push('node ids repeat');
  }
  for (const node of template.nodes) {
    const where = `${node.name} (${node.type})`;
    const known = n8nNodes[node.type] ?? parleyNodes[node.type];
    if (!known) {
      found.push(`${where}: no such node type in n8n ${fixture.n8n}`);
      continue;
    }
    const description = known.find((d) => d.versions.includes(node.typeVersion));
    if (!description) {
      found.push(`${where}: no version ${node.typeVersion}`);
      continue;
    }
    if (!description.parameters) {
      found.push(`${where}: add the type to DETAILED in n8n/scripts/node-types-fixture.mjs`);
      continue;
    }
    for (const [key, value] of Object.entries(node.parameters)) {
      const shape = description.parameters[key];
      if (!shape) {
        found.push(`${where}: no parameter ${key}`);
        continue;
      }
      const literal = typeof value === 'string' && !value.startsWith('=');
      if (shape.values && literal && !shape.values.includes(value)) {
        found.push(`${where}: ${key} = ${JSON.stringify(value)} is not one of its options`);
      }
      if (shape.fields && value && typeof value === 'object' && !Array.isArray(value)) {
        for (const field of Object.keys(value)) {
          if (!shape.fields.includes(field)) found.push(`${where}: ${key} has no field ${field}`);
        }
      }
    }
    if (node.type.startsWith('n8n-nodes-parley.') && !node.credentials?.parleyApi) {
      found.push(`${where}: no Parley credential`);
    }
  }
  for (const [from, outputs] of Object.entries(template.connections)) {
    if (!names.has(from)) found.push(`connection from unknown node ${from}`);
    for (const [kind, lists] of Object.entries(outputs)) {
      for (const target of lists.flat()) {
        if (!names.has(target.node)) found.push(`${from} → unknown node ${target.node}`);
        if (target.type !== kind) found.push(`${from} → ${target.node}: ${target.type} on ${kind}`);
      }
    }
  }
  return found;
}

describe('workflow templates', () => {
  it('covers every use, each with the Parley node and with a plain Webhook', () => {
    const uses = ['order-status', 'booking', 'crm-lookup', 'ai-agent-relay', 'long-running-relay'];
    expect(files.sort()).toEqual(
      uses.flatMap((u) => [`${u}.parley.json`, `${u}.webhook.json`]).sort(),
    );
  });

  it.each(files)('%s imports into the pinned n8n', (file) => {
    const template = load(file);
    expect(template.name).toBeTruthy();
    expect(problems(template)).toEqual([]);
  });

  it.each(files)(
    '%s: its Code nodes compile, and the ones using crypto say what n8n needs',
    (file) => {
      for (const node of load(file).nodes.filter((n) => n.type === 'n8n-nodes-base.code')) {
        const source = String(node.parameters.jsCode);
        expect(() => compile(source)).not.toThrow();
        if (source.includes("require('crypto')")) {
          expect(source).toContain('NODE_FUNCTION_ALLOW_BUILTIN=crypto');
        }
      }
    },
  );

  it('names every node type the fixture was made for in one pinned n8n', () => {
    expect(fixture.n8n).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Object.keys(fixture.packages)).toEqual(['n8n-nodes-base', '@n8n/n8n-nodes-langchain']);
  });
});

// --- running the Code nodes of the plain-Webhook variants ---------------------------------------

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<unknown>;
const requireBuiltin = createRequire(import.meta.url);

function compile(source: string) {
  return new AsyncFunction('$input', '$execution', '$getWorkflowStaticData', 'require', source);
}

function codeOf(file: string, name: string): string {
  const node = load(file).nodes.find((n) => n.name === name);
  if (!node) throw new Error(`${file} has no node ${name}`);
  return String(node.parameters.jsCode).replaceAll(PLACEHOLDER, SECRET);
}

/** Runs a Code node's source the way n8n does, with the parts of its sandbox these use. */
async function run(
  source: string,
  input: { json: unknown; raw?: Buffer },
  staticData: Record<string, unknown> = {},
) {
  const fn = compile(source);
  const context = { helpers: { getBinaryDataBuffer: async () => input.raw ?? Buffer.alloc(0) } };
  // Inline, as n8n keeps binary data by default.
  const binary = input.raw ? { data: { data: input.raw.toString('base64') } } : undefined;
  return (await fn.call(
    context,
    { first: () => ({ json: input.json, binary }) },
    { id: '321' },
    () => staticData,
    (name: string) => requireBuiltin(name),
  )) as { json: Record<string, unknown> }[];
}

function signedRequest(body: string, options: { id?: string; at?: Date; secret?: string } = {}) {
  const id = options.id ?? 'msg_template';
  const at = options.at ?? new Date();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(options.secret ?? SECRET).sign(id, at, body),
  };
}

describe('the signature check of the Webhook + Code variants', () => {
  const body = JSON.stringify({
    tool: 'order_status',
    arguments: { order_number: 'TH-10421' },
    call_id: 'call_1',
    conversation: { id: 'conv-1', tenant_id: 't', contact: null },
  });
  const verify = codeOf('order-status.webhook.json', 'Verify Parley signature');
  const check = (headers: Record<string, string>, statics = {}) =>
    run(verify, { json: { headers, body: JSON.parse(body) }, raw: Buffer.from(body) }, statics);

  it('passes a genuine delivery on, with the fields the Parley Trigger gives', async () => {
    const [item] = await check(signedRequest(body));
    expect(item?.json).toMatchObject({
      verified: true,
      kind: 'tool',
      arguments: { order_number: 'TH-10421' },
      conversation: { id: 'conv-1' },
      webhook_id: 'msg_template',
    });
  });

  it('refuses a wrong secret, a stale timestamp and a repeat', async () => {
    const wrong = `whsec_${Buffer.from('somebody-else-0000000001').toString('base64')}`;
    expect((await check(signedRequest(body, { secret: wrong })))[0]?.json).toMatchObject({
      verified: false,
      status: 401,
      error: 'bad_signature',
    });
    const stale = signedRequest(body, { at: new Date(Date.now() - 301_000) });
    expect((await check(stale))[0]?.json).toMatchObject({ error: 'stale_timestamp' });
    const statics = {};
    const headers = signedRequest(body, { id: 'msg_twice' });
    expect((await check(headers, statics))[0]?.json.verified).toBe(true);
    expect((await check(headers, statics))[0]?.json).toMatchObject({
      status: 409,
      error: 'duplicate_delivery',
    });
  });

  it('is the same in every Webhook variant', () => {
    for (const file of files.filter((f) => f.endsWith('.webhook.json'))) {
      expect(codeOf(file, 'Verify Parley signature')).toBe(verify);
    }
  });

  it('answers the order lookup with the execution id', async () => {
    const [item] = await run(codeOf('order-status.webhook.json', 'Look up order'), {
      json: { arguments: { order_number: 'th-10421' } },
    });
    expect(item?.json).toMatchObject({ found: true, status: 'shipped', executionId: '321' });
  });

  it('books once per delivery id', async () => {
    const statics = {};
    const source = codeOf('booking.parley.json', 'Book fitting');
    const input = {
      json: {
        webhook_id: 'msg_book',
        arguments: { store: 'Denver', date: '2026-12-10', time: '10:30', name: 'Ana' },
      },
    };
    const [first] = await run(source, input, statics);
    const [again] = await run(source, { json: { ...input.json, repeated: true } }, statics);
    expect(first?.json).toMatchObject({ booked: true, store: 'Denver' });
    expect(again?.json).toMatchObject({ reference: first?.json.reference, repeated: true });
  });

  it("signs the later reply so that Parley's /n8n-callback accepts it", async () => {
    const [item] = await run(codeOf('long-running-relay.webhook.json', 'Sign the reply'), {
      json: {
        conversation: { id: 'conv-1' },
        callback_url: 'https://example.test/functions/v1/n8n-callback',
        answer: 'Done.',
      },
    });
    const json = item?.json as Record<string, string>;
    const headers = {
      'webhook-id': json.id ?? '',
      'webhook-timestamp': json.timestamp ?? '',
      'webhook-signature': json.signature ?? '',
    };
    expect(verifyRequest({ secrets: [SECRET], headers, body: json.body ?? '' })).toMatchObject({
      ok: true,
    });
    expect(JSON.parse(json.body ?? '')).toMatchObject({
      conversation_id: 'conv-1',
      reply: 'Done.',
    });
  });
});
