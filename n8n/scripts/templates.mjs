// Writes the importable workflow templates in n8n/templates/. They are generated so the parts two
// templates share (the signature check of the plain-Webhook variants, the lookups) are written
// once; edit here and run `node n8n/scripts/templates.mjs`. tests/n8n/templates.test.ts checks the
// result against the pinned n8n's node types.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(dirname(fileURLToPath(import.meta.url))), 'templates');
const SECRET_PLACEHOLDER = 'whsec_REPLACE_WITH_YOUR_SECRET';

// Stable ids, so regenerating changes nothing that did not change.
const uuid = (...parts) => {
  const hex = createHash('sha256').update(parts.join('/')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

const PARLEY_CREDENTIAL = { parleyApi: { id: '', name: 'Parley' } };

function parleyTrigger(template, { accept, respond, onRepeat }) {
  return {
    id: uuid(template, 'trigger'),
    name: 'Parley Trigger',
    type: 'n8n-nodes-parley.parleyTrigger',
    typeVersion: 1,
    position: [0, 0],
    webhookId: uuid(template, 'webhook'),
    parameters: {
      path: `parley-${template.replace('.', '-')}`,
      accept,
      respond,
      options: onRepeat ? { onRepeat } : {},
    },
    credentials: PARLEY_CREDENTIAL,
  };
}

function webhook(template, responseMode) {
  return {
    id: uuid(template, 'webhook-node'),
    name: 'Webhook',
    type: 'n8n-nodes-base.webhook',
    typeVersion: 2,
    position: [0, 0],
    webhookId: uuid(template, 'webhook'),
    parameters: {
      httpMethod: 'POST',
      path: `parley-${template.replace('.', '-')}`,
      responseMode,
      options: {
        // The signature covers the exact bytes received; the parsed JSON would not reproduce them.
        rawBody: true,
        // Parley reads only 202 as "the reply comes later"; version 2 takes it as a custom code.
        ...(responseMode === 'onReceived'
          ? { responseCode: { values: { responseCode: 'customCode', customCode: 202 } } }
          : {}),
      },
    },
  };
}

// The signature check for people who cannot install the Parley node: the Standard Webhooks
// algorithm written out, and replay memory in static data, which has the race the node avoids.
const VERIFY_CODE = `// Checks Parley's Standard Webhooks signature before anything else runs.
// n8n must run with NODE_FUNCTION_ALLOW_BUILTIN=crypto, or this node fails on require('crypto').
const crypto = require('crypto');

// The current secret first; after a rotation in Parley, also the previous one until it expires.
const SECRETS = ['${SECRET_PLACEHOLDER}'];
const TOLERANCE_SECONDS = 300;

const item = $input.first();
const headers = item.json.headers || {};
const id = headers['webhook-id'];
const timestamp = headers['webhook-timestamp'];
const offered = String(headers['webhook-signature'] || '').split(' ');
const refuse = (status, error) => [{ json: { verified: false, status, error } }];
if (!id || !timestamp || !headers['webhook-signature']) return refuse(401, 'missing_signature');
if (!/^\\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) {
  return refuse(401, 'stale_timestamp');
}

// The Webhook node's "Raw Body" option keeps the bytes as binary property "data": inline as
// base64, or stored elsewhere (an id) when n8n keeps binary data out of memory.
const binary = (item.binary && item.binary.data) || { data: '' };
const raw = binary.id
  ? await this.helpers.getBinaryDataBuffer(0, 'data')
  : Buffer.from(binary.data, 'base64');
const signed = Buffer.concat([Buffer.from(id + '.' + timestamp + '.'), raw]);
const genuine = SECRETS.some((secret) => {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key).update(signed).digest();
  return offered.some((value) => {
    const [version, mac] = value.split(',');
    const given = Buffer.from(mac || '', 'base64');
    return version === 'v1' && given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
});
if (!genuine) return refuse(401, 'bad_signature');

// Replay memory. Static data is written back when the execution ends, so two copies of one
// delivery arriving at the same moment can both pass; the Parley Trigger node closes that gap.
const memory = $getWorkflowStaticData('global');
const now = Date.now();
memory.parleySeen = memory.parleySeen || {};
for (const [seen, until] of Object.entries(memory.parleySeen)) {
  if (until < now) delete memory.parleySeen[seen];
}
if (memory.parleySeen[id]) return refuse(409, 'duplicate_delivery');
memory.parleySeen[id] = now + 10 * 60 * 1000;

// The same fields the Parley Trigger gives, so the rest of the workflow is the same.
const body = JSON.parse(raw.toString('utf8'));
const args = body.arguments || {};
const message = args.message || {};
return [{ json: {
  verified: true,
  kind: body.tool === 'parley.reply' ? 'relay' : 'tool',
  tool: body.tool,
  arguments: args,
  call_id: body.call_id || null,
  conversation: body.conversation,
  message: message.content || '',
  message_id: message.id || null,
  history: args.history || [],
  locale: args.locale || null,
  callback_url: body.callback_url || null,
  chatInput: message.content || '',
  sessionId: body.conversation && body.conversation.id,
  webhook_id: id,
} }];
`;

function code(template, name, jsCode, position = [0, 0]) {
  return {
    id: uuid(template, name),
    name,
    type: 'n8n-nodes-base.code',
    typeVersion: 2,
    position,
    parameters: { mode: 'runOnceForAllItems', jsCode },
  };
}

function verifiedIf(template) {
  return {
    id: uuid(template, 'if'),
    name: 'Genuine?',
    type: 'n8n-nodes-base.if',
    typeVersion: 2.2,
    position: [0, 0],
    parameters: {
      conditions: {
        options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
        conditions: [
          {
            id: uuid(template, 'if-condition'),
            leftValue: '={{ $json.verified }}',
            rightValue: '',
            operator: { type: 'boolean', operation: 'true', singleValue: true },
          },
        ],
        combinator: 'and',
      },
      options: {},
    },
  };
}

function refuseNode(template) {
  return {
    id: uuid(template, 'refuse'),
    name: 'Refuse',
    type: 'n8n-nodes-base.respondToWebhook',
    typeVersion: 1.1,
    position: [0, 0],
    parameters: {
      respondWith: 'json',
      responseBody: '={{ JSON.stringify({ error: $json.error }) }}',
      options: { responseCode: '={{ $json.status }}' },
    },
  };
}

function respondNode(template) {
  return {
    id: uuid(template, 'respond'),
    name: 'Respond to Parley',
    type: 'n8n-nodes-base.respondToWebhook',
    typeVersion: 1.1,
    position: [0, 0],
    parameters: {
      respondWith: 'firstIncomingItem',
      options: {
        // Parley shows this id in its tool log, next to the call.
        responseHeaders: {
          entries: [{ name: 'X-N8N-Execution-Id', value: '={{ $execution.id }}' }],
        },
      },
    },
  };
}

function note(template, content) {
  return {
    id: uuid(template, 'note'),
    name: 'About this template',
    type: 'n8n-nodes-base.stickyNote',
    typeVersion: 1,
    position: [-40, -320],
    parameters: { content, width: 560, height: 260 },
  };
}

/** Lays the nodes out left to right and chains them on their main output. */
function workflow(name, nodes, extraConnections = {}) {
  const connections = {};
  const chain = nodes.filter((n) => n.chain !== false);
  for (const [index, node] of nodes.entries()) {
    if (node.type !== 'n8n-nodes-base.stickyNote' && !node.positioned) {
      node.position = [index * 260, 0];
    }
  }
  for (let i = 0; i < chain.length - 1; i++) {
    const from = chain[i];
    const to = chain[i + 1];
    if (from.type === 'n8n-nodes-base.stickyNote' || to.type === 'n8n-nodes-base.stickyNote')
      continue;
    connections[from.name] ??= { main: [[]] };
    connections[from.name].main[0].push({ node: to.name, type: 'main', index: 0 });
  }
  for (const [from, value] of Object.entries(extraConnections)) {
    connections[from] = { ...connections[from], ...value };
  }
  for (const node of nodes) {
    delete node.chain;
    delete node.positioned;
  }
  return {
    name,
    nodes,
    connections,
    settings: { executionOrder: 'v1', saveDataSuccessExecution: 'all' },
    pinData: {},
    meta: { templateCredsSetupCompleted: false },
  };
}

/** Webhook → Verify → Genuine? → (true) steps… → Respond; (false) → Refuse. */
function plainToolWorkflow(name, template, steps) {
  const hook = webhook(template, 'responseNode');
  const verify = code(template, 'Verify Parley signature', VERIFY_CODE);
  const gate = verifiedIf(template);
  const refuse = { ...refuseNode(template), chain: false };
  const respond = respondNode(template);
  const nodes = [hook, verify, gate, ...steps, respond, refuse];
  const firstStep = steps.find((n) => n.type !== 'n8n-nodes-base.stickyNote' && n.chain !== false);
  const flow = workflow(name, nodes, {
    'Genuine?': {
      main: [
        [{ node: firstStep?.name ?? respond.name, type: 'main', index: 0 }],
        [{ node: refuse.name, type: 'main', index: 0 }],
      ],
    },
  });
  refuse.position = [gate.position[0] + 260, 200];
  return flow;
}

// --- tools ---------------------------------------------------------------------------------

const ORDER_STATUS_CODE = `// Demo orders: replace this node with your shop's API (HTTP Request, Shopify, WooCommerce…).
// The model reads whatever JSON this workflow answers, so answer facts, not prose.
const ORDERS = {
  'TH-10421': { status: 'shipped', carrier: 'UPS', tracking: '1Z999AA10123456784', eta: '2026-12-04' },
  'TH-10422': { status: 'processing', eta: '2026-12-08' },
  'TH-10423': { status: 'delivered', delivered_on: '2026-11-28' },
};
const args = $input.first().json.arguments || {};
const number = String(args.order_number || '').trim().toUpperCase();
const order = ORDERS[number];
return [{ json: order
  ? { found: true, order_number: number, ...order, executionId: $execution.id }
  : { found: false, order_number: number, message: 'No order with this number.', executionId: $execution.id } }];
`;

const BOOKING_CODE = `// Demo calendar: replace with your booking system (Cal.com, Google Calendar, your API…).
// Parley sends a retried call with the same webhook_id; the booking is stored under it, so a
// retry answers the booking already made instead of making a second one.
const input = $input.first().json;
const args = input.arguments || {};
const bookings = $getWorkflowStaticData('global');
bookings.byDelivery = bookings.byDelivery || {};
const earlier = bookings.byDelivery[input.webhook_id];
if (earlier) return [{ json: { ...earlier, repeated: true, executionId: $execution.id } }];
if (input.repeated) {
  return [{ json: { booked: false, status: 'in_progress', message: 'This booking is being made; ask again in a moment.' } }];
}
const stores = ['Denver', 'Boulder'];
if (!stores.includes(args.store)) {
  return [{ json: { booked: false, message: 'We have fittings in Denver and Boulder.', executionId: $execution.id } }];
}
const booking = {
  booked: true,
  reference: 'FIT-' + String(input.webhook_id).replace(/[^a-zA-Z0-9]/g, '').slice(-6).toUpperCase(),
  store: args.store,
  date: args.date,
  time: args.time,
  name: args.name,
};
bookings.byDelivery[input.webhook_id] = booking;
return [{ json: { ...booking, executionId: $execution.id } }];
`;

const CRM_CODE = `// Demo CRM: replace with your CRM node (HubSpot, Pipedrive, Salesforce…) searched by email.
// Parley sends the visitor's known identity as conversation.contact when the site identified them.
const CONTACTS = {
  'ana@example.com': { name: 'Ana Ortiz', tier: 'gold', lifetime_orders: 14, open_tickets: 0 },
  'sam@example.com': { name: 'Sam Lee', tier: 'standard', lifetime_orders: 2, open_tickets: 1 },
};
const input = $input.first().json;
const contact = (input.conversation && input.conversation.contact) || {};
const email = String((input.arguments || {}).email || contact.email || '').trim().toLowerCase();
const found = CONTACTS[email];
return [{ json: found
  ? { found: true, email, ...found, executionId: $execution.id }
  : { found: false, email: email || null, message: 'Not a known customer.', executionId: $execution.id } }];
`;

const tools = [
  {
    slug: 'order-status',
    title: 'Parley tool: order status',
    step: 'Look up order',
    code: ORDER_STATUS_CODE,
    about:
      'Tool `order_status` {order_number, email?}. Paste the production URL of the trigger into the tool in Parley (Tools), and its secret into the Parley credential.',
  },
  {
    slug: 'booking',
    title: 'Parley tool: booking',
    step: 'Book fitting',
    code: BOOKING_CODE,
    onRepeat: 'mark',
    about:
      'Tool `book_fitting` {store, date, time, name}. Repeated deliveries are let through marked: a retry is answered with the booking stored under its webhook id, or told the booking is in progress if it arrives before n8n has saved it; it never books twice.',
  },
  {
    slug: 'crm-lookup',
    title: 'Parley tool: CRM lookup',
    step: 'Find customer',
    code: CRM_CODE,
    about:
      'Tool `crm_lookup` {email?}: falls back to the identified visitor (conversation.contact). Replace the Code node with your CRM.',
  },
];

const templates = {};
for (const tool of tools) {
  const nodeName = `${tool.slug}.parley`;
  templates[nodeName] = workflow(`${tool.title} (Parley node)`, [
    note(
      nodeName,
      `## ${tool.title}\n${tool.about}\n\nNeeds the community node **n8n-nodes-parley**.`,
    ),
    parleyTrigger(nodeName, { accept: 'tools', respond: 'lastNode', onRepeat: tool.onRepeat }),
    code(nodeName, tool.step, tool.code),
  ]);
  const plainName = `${tool.slug}.webhook`;
  templates[plainName] = plainToolWorkflow(`${tool.title} (Webhook + Code)`, plainName, [
    note(
      plainName,
      `## ${tool.title}, without community nodes\n${tool.about}\n\nSet the secret in **Verify Parley signature**. n8n needs \`NODE_FUNCTION_ALLOW_BUILTIN=crypto\`.`,
    ),
    code(plainName, tool.step, tool.code),
  ]);
}

// --- the relay ---------------------------------------------------------------------------------

const SYSTEM_MESSAGE =
  "You are the support assistant of our shop. Answer briefly and kindly in the visitor's language. If you cannot help, say a person will take over.";

function agentNodes(template, promptFrom) {
  const agent = {
    id: uuid(template, 'agent'),
    name: 'AI Agent',
    type: '@n8n/n8n-nodes-langchain.agent',
    typeVersion: 2.2,
    position: [0, 0],
    parameters: {
      promptType: 'define',
      text: `={{ ${promptFrom}.message }}`,
      options: { systemMessage: SYSTEM_MESSAGE },
    },
  };
  const model = {
    id: uuid(template, 'model'),
    name: 'OpenAI Chat Model',
    type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
    typeVersion: 1.2,
    position: [0, 220],
    positioned: true,
    chain: false,
    parameters: {
      model: { __rl: true, value: 'gpt-4o-mini', mode: 'list', cachedResultName: 'gpt-4o-mini' },
      options: {},
    },
    credentials: { openAiApi: { id: '', name: 'OpenAI' } },
  };
  const memory = {
    id: uuid(template, 'memory'),
    name: 'Conversation Memory',
    type: '@n8n/n8n-nodes-langchain.memoryBufferWindow',
    typeVersion: 1.3,
    position: [0, 220],
    positioned: true,
    chain: false,
    // One memory per Parley conversation: sessionId is the conversation id.
    parameters: {
      sessionIdType: 'customKey',
      sessionKey: `={{ ${promptFrom}.sessionId }}`,
      contextWindowLength: 10,
    },
  };
  return { agent, model, memory };
}

function aiWiring(agent, model, memory) {
  model.position = [agent.position[0] - 80, 220];
  memory.position = [agent.position[0] + 120, 220];
  return {
    [model.name]: {
      ai_languageModel: [[{ node: agent.name, type: 'ai_languageModel', index: 0 }]],
    },
    [memory.name]: { ai_memory: [[{ node: agent.name, type: 'ai_memory', index: 0 }]] },
  };
}

{
  const name = 'ai-agent-relay.parley';
  const trigger = parleyTrigger(name, { accept: 'relay', respond: 'lastNode' });
  const { agent, model, memory } = agentNodes(name, "$('Parley Trigger').item.json");
  const nodes = [
    note(
      name,
      "## n8n's AI Agent behind Parley\nBot engine **n8n**: Parley relays each visitor message here and posts the agent's `output` as the reply. Put the trigger's production URL in Parley's n8n settings and the tenant's n8n secret in the Parley credential.",
    ),
    trigger,
    agent,
    model,
    memory,
  ];
  const flow = workflow("Parley relay: n8n's AI Agent (Parley node)", nodes);
  Object.assign(flow.connections, aiWiring(agent, model, memory));
  templates[name] = flow;
}
{
  const name = 'ai-agent-relay.webhook';
  const { agent, model, memory } = agentNodes(name, "$('Verify Parley signature').item.json");
  const respond = {
    ...respondNode(name),
    parameters: {
      respondWith: 'json',
      // Parley reads {output} as the reply, as n8n's Chat Trigger widget would.
      responseBody: '={{ JSON.stringify({ output: $json.output }) }}',
      options: respondNode(name).parameters.options,
    },
  };
  const flow = plainToolWorkflow("Parley relay: n8n's AI Agent (Webhook + Code)", name, [
    note(
      name,
      "## n8n's AI Agent behind Parley, without community nodes\nSet the tenant's n8n secret in **Verify Parley signature**; n8n needs `NODE_FUNCTION_ALLOW_BUILTIN=crypto`.",
    ),
    agent,
    model,
    memory,
  ]);
  // plainToolWorkflow chained the sub-nodes on main; they connect to the agent on their own kinds.
  flow.nodes = flow.nodes.map((node) =>
    node.name === 'Respond to Parley' ? { ...respond, position: node.position } : node,
  );
  delete flow.connections['About this template'];
  flow.connections['AI Agent'] = { main: [[{ node: respond.name, type: 'main', index: 0 }]] };
  delete flow.connections[model.name];
  delete flow.connections[memory.name];
  Object.assign(flow.connections, aiWiring(agent, model, memory));
  flow.connections['Genuine?'].main[0] = [{ node: agent.name, type: 'main', index: 0 }];
  templates[name] = flow;
}

// The slow path: answer 202 at once, do the long work, then post the reply to callback_url.
const SLOW_WORK_CODE = `// Stands for the slow part (a long model call, a human approval, a back-office query…).
const input = $input.first().json;
return [{ json: {
  ...input,
  answer: 'Thanks for waiting! About "' + input.message + '": our team has checked and everything is in order.',
} }];
`;

function waitNode(template) {
  return {
    id: uuid(template, 'wait'),
    name: 'Wait',
    type: 'n8n-nodes-base.wait',
    typeVersion: 1.1,
    position: [0, 0],
    webhookId: uuid(template, 'wait-webhook'),
    parameters: { amount: 3, unit: 'seconds' },
  };
}

{
  const name = 'long-running-relay.parley';
  const trigger = parleyTrigger(name, { accept: 'relay', respond: 'onReceived' });
  const reply = {
    id: uuid(name, 'parley'),
    name: 'Send reply to Parley',
    type: 'n8n-nodes-parley.parley',
    typeVersion: 1,
    position: [0, 0],
    parameters: {
      operation: 'sendReply',
      conversationId: "={{ $('Parley Trigger').item.json.conversation.id }}",
      callbackUrl: "={{ $('Parley Trigger').item.json.callback_url }}",
      reply: '={{ $json.answer }}',
      quickReplies: 'Thanks!\nTalk to a person',
    },
    credentials: PARLEY_CREDENTIAL,
  };
  templates[name] = workflow('Parley relay: answer later (Parley node)', [
    note(
      name,
      "## A relay that answers later\nThe trigger answers **202** at once; the reply is posted to Parley's callback when ready, before the tenant's deadline (n8n_callback_timeout_seconds, default 60 s).",
    ),
    trigger,
    waitNode(name),
    code(name, 'Do the slow work', SLOW_WORK_CODE),
    reply,
  ]);
}
{
  const name = 'long-running-relay.webhook';
  const SIGN_CODE = `// Signs the reply for Parley's callback (Standard Webhooks), with the tenant's n8n secret.
// n8n must run with NODE_FUNCTION_ALLOW_BUILTIN=crypto.
const crypto = require('crypto');
const SECRET = '${SECRET_PLACEHOLDER}';
const input = $input.first().json;
const body = JSON.stringify({
  conversation_id: input.conversation.id,
  reply: input.answer,
  quick_replies: ['Thanks!', 'Talk to a person'],
});
// Derived from this execution, so n8n retrying the HTTP node sends the same id and Parley posts once.
const id = 'msg_' + crypto.createHash('sha256').update($execution.id + ':' + input.conversation.id).digest('hex').slice(0, 32);
const timestamp = String(Math.floor(Date.now() / 1000));
const key = Buffer.from(SECRET.replace(/^whsec_/, ''), 'base64');
const mac = crypto.createHmac('sha256', key).update(id + '.' + timestamp + '.' + body).digest('base64');
return [{ json: { url: input.callback_url, body, id, timestamp, signature: 'v1,' + mac } }];
`;
  const post = {
    id: uuid(name, 'post'),
    name: 'Post reply to Parley',
    type: 'n8n-nodes-base.httpRequest',
    typeVersion: 4.2,
    position: [0, 0],
    parameters: {
      method: 'POST',
      url: '={{ $json.url }}',
      sendHeaders: true,
      headerParameters: {
        parameters: [
          { name: 'webhook-id', value: '={{ $json.id }}' },
          { name: 'webhook-timestamp', value: '={{ $json.timestamp }}' },
          { name: 'webhook-signature', value: '={{ $json.signature }}' },
        ],
      },
      sendBody: true,
      contentType: 'raw',
      rawContentType: 'application/json',
      body: '={{ $json.body }}',
      options: {},
    },
  };
  const hook = webhook(name, 'onReceived');
  const verify = code(name, 'Verify Parley signature', VERIFY_CODE);
  const gate = verifiedIf(name);
  const flow = workflow(
    'Parley relay: answer later (Webhook + Code)',
    [
      note(
        name,
        "## A relay that answers later, without community nodes\nThe Webhook answers **202** at once. Set the tenant's n8n secret in both Code nodes; n8n needs `NODE_FUNCTION_ALLOW_BUILTIN=crypto`.",
      ),
      hook,
      verify,
      gate,
      waitNode(name),
      code(name, 'Do the slow work', SLOW_WORK_CODE),
      code(name, 'Sign the reply', SIGN_CODE),
      post,
    ],
    // A forged or repeated delivery already got its 202; it simply goes no further.
    { 'Genuine?': { main: [[{ node: 'Wait', type: 'main', index: 0 }], []] } },
  );
  templates[name] = flow;
}

mkdirSync(out, { recursive: true });
for (const [name, flow] of Object.entries(templates)) {
  writeFileSync(join(out, `${name}.json`), `${JSON.stringify(flow, null, 2)}\n`);
}
// In the repository's JSON style, so regenerating leaves a clean lint.
execFileSync('npx', ['biome', 'format', '--write', out], { stdio: 'ignore' });
console.log(`wrote ${Object.keys(templates).length} templates to ${out}`);
