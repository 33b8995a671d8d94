// The slice of n8n's node API this package uses, declared here instead of depending on
// n8n-workflow: n8n supplies the real objects at run time, and the package stays free of a large
// dependency tree it would only need for its types. Shapes follow n8n-workflow 1.x.

export type NodeParameterValue = string | number | boolean | null | undefined | object;

export interface INodeCredentialDescription {
  name: string;
  required?: boolean;
}

export interface INodePropertyOptions {
  name: string;
  value: string | number | boolean;
  description?: string;
  action?: string;
}

export interface INodeProperties {
  displayName: string;
  name: string;
  type: 'string' | 'number' | 'boolean' | 'options' | 'collection' | 'notice' | 'json' | 'hidden';
  default: NodeParameterValue;
  description?: string;
  hint?: string;
  placeholder?: string;
  required?: boolean;
  noDataExpression?: boolean;
  options?: Array<INodePropertyOptions | INodeProperties>;
  typeOptions?: Record<string, unknown>;
  displayOptions?: { show?: Record<string, unknown[]>; hide?: Record<string, unknown[]> };
}

export interface IWebhookDescription {
  name: 'default';
  httpMethod: string;
  path: string;
  responseMode?: string;
  responseCode?: string | number;
  responseData?: string;
  isFullPath?: boolean;
}

export interface INodeTypeDescription {
  displayName: string;
  name: string;
  icon: string;
  group: string[];
  version: number;
  subtitle?: string;
  description: string;
  defaults: { name: string };
  inputs: string[];
  outputs: string[];
  usableAsTool?: boolean;
  credentials?: INodeCredentialDescription[];
  webhooks?: IWebhookDescription[];
  properties: INodeProperties[];
}

export interface IDataObject {
  [key: string]: unknown;
}

export interface INodeExecutionData {
  json: IDataObject;
  pairedItem?: { item: number };
}

export interface INode {
  id: string;
  name: string;
}

export interface IncomingRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody?: Buffer;
  body?: unknown;
}

export interface OutgoingResponse {
  status(code: number): OutgoingResponse;
  json(body: unknown): void;
}

export interface IHttpRequestOptions {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  body: string;
  json?: boolean;
  returnFullResponse?: boolean;
  ignoreHttpStatusErrors?: boolean;
  timeout?: number;
}

export interface FullResponse {
  statusCode: number;
  body: unknown;
  headers: Record<string, unknown>;
}

interface FunctionsBase {
  getNode(): INode;
  getWorkflow(): { id?: string; name?: string };
  getCredentials<T extends object = IDataObject>(type: string, itemIndex?: number): Promise<T>;
}

export interface IWebhookFunctions extends FunctionsBase {
  getNodeParameter(name: string, fallback?: NodeParameterValue): NodeParameterValue;
  getRequestObject(): IncomingRequest;
  getResponseObject(): OutgoingResponse;
  getWorkflowStaticData(type: 'node' | 'global'): IDataObject;
}

export interface IExecuteFunctions extends FunctionsBase {
  getInputData(): INodeExecutionData[];
  getNodeParameter(
    name: string,
    itemIndex: number,
    fallback?: NodeParameterValue,
  ): NodeParameterValue;
  getExecutionId(): string;
  continueOnFail(): boolean;
  helpers: { httpRequest(options: IHttpRequestOptions): Promise<unknown> };
}

export interface IWebhookResponseData {
  workflowData?: INodeExecutionData[][];
  webhookResponse?: unknown;
  noWebhookResponse?: boolean;
}

export interface INodeType {
  description: INodeTypeDescription;
  webhook?(this: IWebhookFunctions): Promise<IWebhookResponseData>;
  execute?(this: IExecuteFunctions): Promise<INodeExecutionData[][]>;
}

export interface ICredentialType {
  name: string;
  displayName: string;
  documentationUrl?: string;
  icon?: string;
  properties: INodeProperties[];
}
