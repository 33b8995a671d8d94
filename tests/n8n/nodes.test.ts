import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyRequest } from '../../functions/_shared/webhooks/signature.ts';
import type {
  IDataObject,
  IExecuteFunctions,
  IHttpRequestOptions,
  IWebhookFunctions,
} from '../../n8n/src/n8n-types.ts';
import { Parley } from '../../n8n/src/nodes/Parley/Parley.node.ts';
import { ParleyTrigger } from '../../n8n/src/nodes/ParleyTrigger/ParleyTrigger.node.ts';

// The nodes driven through the slice of n8n's API they use, with n8n's habits reproduced where
// they matter: each execution gets its own copy of the workflow static data.

const SECRET = `whsec_${Buffer.from('parley-node-test-secret-0001').toString('base64')}`;

const relayBody = JSON.stringify({
  tool: 'parley.reply',
  arguments: { message: { id: 'm1', content: 'Hello' }, history: [], locale: 'en' },
  conversation: { id: 'conv-1', tenant_id: 't1', contact: null },
  callback_url: 'https://example.test/functions/v1/n8n-callback',
});

function webhookContext(id: string, savedStatic: IDataObject, respond = 'lastNode') {
  const response = { status: 200, body: undefined as unknown };
  const staticCopy: IDataObject = structuredClone(savedStatic);
  const at = new Date();
  const context: IWebhookFunctions = {
    getNode: () => ({ id: 'node-1', name: 'Parley Trigger' }),
    getWorkflow: () => ({ id: 'wf-1' }),
    getCredentials: async <T extends object>() => ({ signingSecret: SECRET }) as T,
    getNodeParameter: (name, fallback) => (name === 'respond' ? respond : fallback),
    getRequestObject: () => ({
      headers: {
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(SECRET).sign(id, at, relayBody),
      },
      rawBody: Buffer.from(relayBody),
      body: JSON.parse(relayBody),
    }),
    getResponseObject: () => {
      const res = {
        status(code: number) {
          response.status = code;
          return res;
        },
        json(body: unknown) {
          response.body = body;
        },
      };
      return res;
    },
    getWorkflowStaticData: () => staticCopy,
  };
  return { context, response, staticCopy };
}

describe('Parley Trigger node', () => {
  it('starts the workflow once for simultaneous duplicates, though static data races', async () => {
    const trigger = new ParleyTrigger();
    const saved: IDataObject = {};
    const runs = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const { context, response } = webhookContext('msg_dup_node', saved);
        const result = await trigger.webhook.call(context);
        return { result, response };
      }),
    );
    const started = runs.filter((run) => run.result.workflowData);
    expect(started).toHaveLength(1);
    expect(started[0]?.result.workflowData?.[0]?.[0]?.json).toMatchObject({
      kind: 'relay',
      message: 'Hello',
      chatInput: 'Hello',
      sessionId: 'conv-1',
      webhook_id: 'msg_dup_node',
      repeated: false,
    });
    expect(runs.filter((run) => run.response.status === 409)).toHaveLength(4);
  });

  it('answers 202-mode deliveries itself and saves the id in static data', async () => {
    const { context, staticCopy } = webhookContext('msg_later', {}, 'onReceived');
    const result = await new ParleyTrigger().webhook.call(context);
    expect(result.webhookResponse).toEqual({ accepted: true });
    expect(Object.keys(staticCopy.parleyDeliveries as object)).toContain('msg_later');
  });
});

describe('Parley node', () => {
  function executeContext(parameters: Record<string, unknown>, sent: IHttpRequestOptions[]) {
    const context: IExecuteFunctions = {
      getNode: () => ({ id: 'node-2', name: 'Parley' }),
      getWorkflow: () => ({ id: 'wf-1' }),
      getCredentials: async <T extends object>() =>
        ({ signingSecret: SECRET, parleyUrl: 'https://unused.example' }) as T,
      getInputData: () => [{ json: {} }],
      getNodeParameter: (name, _index, fallback) => parameters[name] ?? fallback,
      getExecutionId: () => '42',
      continueOnFail: () => false,
      helpers: {
        httpRequest: async (options) => {
          sent.push(options);
          return { statusCode: 201, body: '{"ok":true,"message_id":"r1"}', headers: {} };
        },
      },
    };
    return context;
  }

  it('posts a signed callback with quick replies and reports what Parley answered', async () => {
    const sent: IHttpRequestOptions[] = [];
    const [items] = await new Parley().execute.call(
      executeContext(
        {
          operation: 'sendReply',
          conversationId: 'conv-1',
          callbackUrl: 'https://example.test/functions/v1/n8n-callback',
          reply: 'Your order shipped.',
          quickReplies: 'Track it\nTalk to a person\n',
        },
        sent,
      ),
    );
    expect(items?.[0]?.json).toMatchObject({ status: 201, ok: true, message_id: 'r1' });
    const request = sent[0];
    expect(request?.url).toBe('https://example.test/functions/v1/n8n-callback');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      conversation_id: 'conv-1',
      reply: 'Your order shipped.',
      quick_replies: ['Track it', 'Talk to a person'],
    });
    expect(
      verifyRequest({
        secrets: [SECRET],
        headers: request?.headers ?? {},
        body: request?.body ?? '',
      }),
    ).toMatchObject({ ok: true });
  });

  it('sends the same webhook id when n8n retries the node', async () => {
    const sent: IHttpRequestOptions[] = [];
    const parameters = { operation: 'handOff', conversationId: 'conv-1', handoffReason: 'VIP' };
    await new Parley().execute.call(executeContext(parameters, sent));
    await new Parley().execute.call(executeContext(parameters, sent));
    expect(sent[0]?.headers['webhook-id']).toBe(sent[1]?.headers['webhook-id']);
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual({
      conversation_id: 'conv-1',
      handoff: { reason: 'VIP' },
    });
    expect(sent[0]?.url).toBe('https://unused.example/functions/v1/n8n-callback');
  });

  it('builds an answer for the trigger without sending anything', async () => {
    const sent: IHttpRequestOptions[] = [];
    const [items] = await new Parley().execute.call(
      executeContext({ operation: 'buildAnswer', reply: 'Hi', quickReplies: 'A\nB' }, sent),
    );
    expect(items?.[0]?.json).toEqual({ reply: 'Hi', quick_replies: ['A', 'B'], executionId: '42' });
    expect(sent).toHaveLength(0);
  });

  it('refuses an answer Parley would refuse', async () => {
    const context = executeContext({ operation: 'buildAnswer', quickReplies: 'A' }, []);
    await expect(new Parley().execute.call(context)).rejects.toThrow(/reply, a handoff/);
  });
});
