// Sends one call to a workflow exactly as Parley would, signed with Standard Webhooks, and prints
// what came back: the quickest check that a workflow verifies, answers, and names its execution.
//
//   node n8n/scripts/test-call.mjs <url> <whsec_secret> tool <name> '<arguments JSON>'
//   node n8n/scripts/test-call.mjs <url> <whsec_secret> relay '<visitor message>'
//
// Add --twice to send the same delivery again: a workflow that dedupes refuses the second (409).
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const args = process.argv.slice(2).filter((a) => a !== '--twice');
const twice = process.argv.includes('--twice');
const [url, secret, kind, ...rest] = args;
if (!url || !secret?.startsWith('whsec_') || !['tool', 'relay'].includes(kind ?? '')) {
  console.error(
    "usage: test-call.mjs <url> <whsec_secret> tool <name> '<arguments JSON>' | relay '<message>' [--twice]",
  );
  process.exit(2);
}

const conversation = { id: randomUUID(), tenant_id: randomUUID(), contact: null };
const body =
  kind === 'tool'
    ? {
        tool: rest[0] ?? 'test_tool',
        arguments: JSON.parse(rest[1] ?? '{}'),
        call_id: `call_${randomUUID().slice(0, 8)}`,
        conversation,
      }
    : {
        tool: 'parley.reply',
        arguments: {
          message: { id: randomUUID(), content: rest[0] ?? 'Hello' },
          history: [{ role: 'user', content: rest[0] ?? 'Hello' }],
          locale: 'en',
        },
        conversation,
        // Nothing listens here: a workflow answering later gets its signed POST refused or lost.
        callback_url: 'http://127.0.0.1:9/functions/v1/n8n-callback',
      };
const raw = JSON.stringify(body);
const id = `msg_${randomUUID()}`;

for (let attempt = 0; attempt < (twice ? 2 : 1); attempt++) {
  const at = new Date();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, raw),
    },
    body: raw,
  });
  const text = await response.text();
  console.log(`HTTP ${response.status}  webhook-id ${id}`);
  const execution = response.headers.get('x-n8n-execution-id');
  if (execution) console.log(`n8n execution ${execution}`);
  console.log(text || '(empty body: Parley would count this as a failed call)');
}
