import { buildAnswer, callbackId, callbackRequest, callbackUrl } from '../../lib/callback.ts';
import { secretList } from '../../lib/signature.ts';
import type {
  FullResponse,
  IExecuteFunctions,
  INodeExecutionData,
  INodeType,
  INodeTypeDescription,
} from '../../n8n-types.ts';

interface ParleyCredentials {
  signingSecret?: string;
  previousSigningSecret?: string;
  parleyUrl?: string;
}

const FROM_TRIGGER = (field: string) => `={{ $('Parley Trigger').item.json.${field} }}`;
const SENDS = ['sendReply', 'handOff'];

export class Parley implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Parley',
    name: 'parley',
    icon: 'file:parley.svg',
    group: ['output'],
    version: 1,
    subtitle: '={{$parameter["operation"]}}',
    description: 'Answers a visitor in Parley: a reply, quick replies, a handoff to a person',
    defaults: { name: 'Parley' },
    inputs: ['main'],
    outputs: ['main'],
    credentials: [{ name: 'parleyApi', required: true }],
    properties: [
      {
        displayName: 'Operation',
        name: 'operation',
        type: 'options',
        noDataExpression: true,
        default: 'sendReply',
        options: [
          {
            name: 'Send Reply Later',
            value: 'sendReply',
            action: 'Send a reply to the conversation',
            description:
              'POST the reply to Parley (after the trigger answered 202): signed, once per item',
          },
          {
            name: 'Hand Off to a Person',
            value: 'handOff',
            action: 'Hand the conversation to a person',
            description: "Move the conversation to the tenant's inbox, optionally with a message",
          },
          {
            name: 'Build Answer',
            value: 'buildAnswer',
            action: 'Build the answer for the trigger to return',
            description:
              'Output {reply, quick_replies, handoff} for the trigger to answer with at once; sends nothing',
          },
        ],
      },
      {
        displayName: 'Conversation ID',
        name: 'conversationId',
        type: 'string',
        default: FROM_TRIGGER('conversation.id'),
        required: true,
        displayOptions: { show: { operation: SENDS } },
      },
      {
        displayName: 'Callback URL',
        name: 'callbackUrl',
        type: 'string',
        default: FROM_TRIGGER('callback_url'),
        description: "Empty: the credential's Parley URL + /functions/v1/n8n-callback",
        displayOptions: { show: { operation: SENDS } },
      },
      {
        displayName: 'Reply',
        name: 'reply',
        type: 'string',
        typeOptions: { rows: 4 },
        default: '',
        description: 'What the visitor reads (Markdown); optional when handing off',
      },
      {
        displayName: 'Quick Replies',
        name: 'quickReplies',
        type: 'string',
        typeOptions: { rows: 3 },
        default: '',
        description: 'Buttons under the reply, one per line, at most 4 of 80 characters',
        displayOptions: { show: { operation: ['sendReply', 'buildAnswer'] } },
      },
      {
        displayName: 'Hand Off',
        name: 'handoff',
        type: 'boolean',
        default: false,
        description: 'Whether a person should take over after this reply',
        displayOptions: { show: { operation: ['sendReply', 'buildAnswer'] } },
      },
      {
        displayName: 'Reason',
        name: 'handoffReason',
        type: 'string',
        default: '',
        description: 'Shown to the agents in the inbox',
        displayOptions: { show: { operation: ['handOff'] } },
      },
      {
        displayName: 'Reason',
        name: 'handoffReason',
        type: 'string',
        default: '',
        description: 'Shown to the agents in the inbox',
        displayOptions: { show: { operation: ['sendReply', 'buildAnswer'], handoff: [true] } },
      },
    ],
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    const items = this.getInputData();
    const out: INodeExecutionData[] = [];
    let credentials: ParleyCredentials | null = null;
    for (let index = 0; index < items.length; index++) {
      try {
        const operation = String(this.getNodeParameter('operation', index));
        const text = (name: string) => String(this.getNodeParameter(name, index, '') ?? '');
        const answer = buildAnswer({
          reply: text('reply'),
          quickReplies: operation === 'handOff' ? [] : text('quickReplies'),
          handoff:
            operation === 'handOff' || this.getNodeParameter('handoff', index, false) === true,
          handoffReason: text('handoffReason'),
        });
        if (operation === 'buildAnswer') {
          // executionId lets Parley's tool log point at this run (docs/n8n.md).
          out.push({
            json: { ...answer, executionId: this.getExecutionId() },
            pairedItem: { item: index },
          });
          continue;
        }
        credentials ??= await this.getCredentials<ParleyCredentials>('parleyApi');
        const conversationId = text('conversationId').trim();
        const node = this.getNode();
        const request = callbackRequest({
          url: callbackUrl(text('callbackUrl'), credentials.parleyUrl ?? ''),
          secrets: secretList(credentials.signingSecret, credentials.previousSigningSecret),
          conversationId,
          answer,
          id: callbackId(
            this.getExecutionId(),
            node.id || node.name,
            String(index),
            conversationId,
          ),
          nowSeconds: Math.floor(Date.now() / 1000),
        });
        const response = (await this.helpers.httpRequest({
          method: 'POST',
          url: request.url,
          headers: request.headers,
          body: request.body,
          json: false,
          returnFullResponse: true,
          ignoreHttpStatusErrors: true,
          timeout: 30_000,
        })) as FullResponse;
        const body = parseBody(response.body);
        if (response.statusCode < 200 || response.statusCode >= 300) {
          const detail =
            typeof body === 'object' && body && 'message' in body
              ? String((body as { message: unknown }).message)
              : `HTTP ${response.statusCode}`;
          throw new Error(`Parley refused the callback: ${detail}`);
        }
        out.push({
          json: {
            status: response.statusCode,
            webhook_id: request.headers['webhook-id'],
            ...(typeof body === 'object' && body ? (body as Record<string, unknown>) : {}),
          },
          pairedItem: { item: index },
        });
      } catch (error) {
        if (!this.continueOnFail()) throw error;
        out.push({ json: { error: (error as Error).message }, pairedItem: { item: index } });
      }
    }
    return [out];
  }
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body);
  } catch {
    return { text: body };
  }
}
