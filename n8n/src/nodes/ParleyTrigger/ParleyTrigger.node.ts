import { type Accept, type OnRepeat, receive } from '../../lib/receive.ts';
import { processReplayMemory, type RememberedIds } from '../../lib/replay.ts';
import { secretList } from '../../lib/signature.ts';
import type {
  INodeType,
  INodeTypeDescription,
  IWebhookFunctions,
  IWebhookResponseData,
} from '../../n8n-types.ts';

// Static data is written back to n8n's database after each execution, so only the most recent ids
// go there; the process memory keeps the whole window.
const PERSISTED_IDS = 2_000;
const STATIC_KEY = 'parleyDeliveries';

interface ParleyCredentials {
  signingSecret?: string;
  previousSigningSecret?: string;
}

export class ParleyTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Parley Trigger',
    name: 'parleyTrigger',
    icon: 'file:parley.svg',
    group: ['trigger'],
    version: 1,
    subtitle: '={{$parameter["accept"]}}',
    description:
      "Receives Parley's signed tool calls and relayed conversations; refuses forged, stale and repeated deliveries",
    defaults: { name: 'Parley Trigger' },
    inputs: [],
    outputs: ['main'],
    credentials: [{ name: 'parleyApi', required: true }],
    webhooks: [
      {
        name: 'default',
        httpMethod: 'POST',
        path: '={{$parameter["path"]}}',
        // The URL is /webhook/<path> as typed, not prefixed with the node's webhook id.
        isFullPath: true,
        responseMode: '={{$parameter["respond"]}}',
        // "At once" is Parley's "I will call back": only 202 means that.
        responseCode: '={{$parameter["respond"] === "onReceived" ? 202 : 200}}',
      },
    ],
    properties: [
      {
        displayName: 'Path',
        name: 'path',
        type: 'string',
        default: 'parley',
        required: true,
        description: 'The last part of the URL to paste into Parley',
      },
      {
        displayName: 'Receives',
        name: 'accept',
        type: 'options',
        default: 'all',
        options: [
          {
            name: 'Tool Calls and Conversations',
            value: 'all',
            description: 'Branch on the "kind" field',
          },
          { name: 'Tool Calls', value: 'tools', description: 'A tool the bot calls' },
          {
            name: 'Conversations (Relay)',
            value: 'relay',
            description: 'Engine n8n: this workflow writes the replies',
          },
        ],
      },
      {
        displayName: 'Respond',
        name: 'respond',
        type: 'options',
        default: 'lastNode',
        options: [
          {
            name: 'When Last Node Finishes',
            value: 'lastNode',
            description: "The last node's first item is the answer",
          },
          {
            name: "Using 'Respond to Webhook' Node",
            value: 'responseNode',
            description: 'A Respond to Webhook node sends the answer',
          },
          {
            name: 'At Once with 202, Answer Later',
            value: 'onReceived',
            description: 'Relay only: a Parley node posts the reply when it is ready',
          },
        ],
      },
      {
        displayName: 'Options',
        name: 'options',
        type: 'collection',
        placeholder: 'Add Option',
        default: {},
        options: [
          {
            displayName: 'Repeated Deliveries',
            name: 'onRepeat',
            type: 'options',
            default: 'refuse',
            options: [
              {
                name: 'Refuse (409)',
                value: 'refuse',
                description: 'A webhook-id already received starts nothing',
              },
              {
                name: 'Let Through, Marked',
                value: 'mark',
                description:
                  'The workflow runs with "repeated": true and decides itself, e.g. by looking up what it did the first time',
              },
            ],
          },
          {
            displayName: 'Clock Tolerance (Seconds)',
            name: 'toleranceSeconds',
            type: 'number',
            default: 300,
            typeOptions: { minValue: 30, maxValue: 300 },
            description: 'How far webhook-timestamp may be from now',
          },
        ],
      },
    ],
  };

  async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
    const request = this.getRequestObject();
    const credentials = await this.getCredentials<ParleyCredentials>('parleyApi');
    const respond = String(this.getNodeParameter('respond', 'lastNode'));
    const accept = String(this.getNodeParameter('accept', 'all')) as Accept;
    const options = (this.getNodeParameter('options', {}) ?? {}) as {
      onRepeat?: OnRepeat;
      toleranceSeconds?: number;
    };
    const node = this.getNode();
    const scope = `${this.getWorkflow().id ?? ''}:${node.id || node.name}`;
    const staticData = this.getWorkflowStaticData('node');
    const nowMs = Date.now();
    processReplayMemory.restore(scope, staticData[STATIC_KEY], nowMs);

    const received = receive({
      secrets: secretList(credentials.signingSecret, credentials.previousSigningSecret),
      headers: request.headers,
      rawBody: rawBodyOf(request),
      nowMs,
      memory: processReplayMemory,
      scope,
      accept,
      onRepeat: options.onRepeat ?? 'refuse',
      ...(options.toleranceSeconds ? { toleranceSeconds: options.toleranceSeconds } : {}),
    });
    if (!received.ok) {
      this.getResponseObject()
        .status(received.status)
        .json({ error: received.error, message: received.message });
      return { noWebhookResponse: true };
    }
    staticData[STATIC_KEY] = latest(processReplayMemory.snapshot(scope, nowMs), PERSISTED_IDS);

    return {
      workflowData: [
        [
          {
            json: {
              ...received.delivery,
              webhook_id: received.webhookId,
              webhook_timestamp: received.timestamp,
              repeated: received.repeated,
            },
          },
        ],
      ],
      ...(respond === 'onReceived' ? { webhookResponse: { accepted: true } } : {}),
    };
  }
}

function rawBodyOf(request: { rawBody?: Buffer; body?: unknown }): Buffer | undefined {
  if (Buffer.isBuffer(request.rawBody)) return request.rawBody;
  // Some n8n setups hand over the unparsed body itself; a parsed object cannot be verified.
  if (Buffer.isBuffer(request.body)) return request.body;
  if (typeof request.body === 'string') return Buffer.from(request.body);
  return undefined;
}

function latest(ids: RememberedIds, count: number): RememberedIds {
  const entries = Object.entries(ids);
  return Object.fromEntries(entries.slice(Math.max(0, entries.length - count)));
}
