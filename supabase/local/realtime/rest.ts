import type { HttpService, Logger } from '../services.ts';
import type { Authorizer } from './authorization.ts';
import type { Broadcast, ChannelRegistry } from './registry.ts';
import { checkToken, isOpaqueKey, type RealtimeClaims } from './tokens.ts';

// Realtime's broadcast REST API, as realtime-js calls it:
//   POST /realtime/v1/api/broadcast                             {messages:[{topic,event,payload,private}]}
//   POST /realtime/v1/api/broadcast/<topic>/events/<event>      body = payload (JSON or octet-stream)
// Success is 202 with an empty body. Private messages need the realtime.messages INSERT policy as
// the caller; refused ones are dropped silently, as Realtime drops them.

const BATCH = /^\/realtime\/v1\/api\/broadcast\/?$/;
const SINGLE = /^\/realtime\/v1\/api\/broadcast\/([^/]+)\/events\/([^/]+)\/?$/;

interface Outgoing {
  topic: string;
  private: boolean;
  message: Broadcast;
}

function cors(request: Request): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers':
      request.headers.get('access-control-request-headers') ??
      'authorization, x-client-info, apikey, content-type',
    'Access-Control-Max-Age': '86400',
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The caller's claims: the bearer token if it is a JWT, else the apikey (which must be valid). */
async function authenticate(request: Request, jwtSecret: string): Promise<RealtimeClaims> {
  const url = new URL(request.url);
  const apikey = request.headers.get('apikey') ?? url.searchParams.get('apikey');
  if (!apikey) throw new HttpError(401, 'No apikey provided');
  const bearer = /^bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1]?.trim();
  const key = await checkToken(apikey, jwtSecret);
  if (!key.ok) throw new HttpError(401, key.message);
  if (!bearer || bearer === apikey || isOpaqueKey(bearer)) return key.claims;
  const user = await checkToken(bearer, jwtSecret);
  if (!user.ok) throw new HttpError(401, user.message);
  return user.claims;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

async function readJson(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    throw new HttpError(400, 'Malformed JSON body');
  }
}

async function batch(request: Request): Promise<Outgoing[]> {
  const body = await readJson(request);
  const messages = isObject(body) ? body.messages : undefined;
  if (!Array.isArray(messages)) throw new HttpError(422, 'messages: is required');
  return messages.map((m, i) => {
    if (!isObject(m) || typeof m.topic !== 'string' || typeof m.event !== 'string') {
      throw new HttpError(422, `messages[${i}]: topic and event are required`);
    }
    if (!isObject(m.payload)) throw new HttpError(422, `messages[${i}].payload: must be a map`);
    return {
      topic: m.topic,
      private: m.private === true,
      message: { type: 'broadcast', event: m.event, payload: m.payload },
    };
  });
}

async function single(request: Request, match: RegExpExecArray): Promise<Outgoing[]> {
  const url = new URL(request.url);
  let topic: string;
  let event: string;
  try {
    topic = decodeURIComponent(match[1] ?? '');
    event = decodeURIComponent(match[2] ?? '');
  } catch {
    throw new HttpError(400, 'Malformed topic or event in the path');
  }
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  let message: Broadcast;
  if (type === 'application/octet-stream') {
    message = { type: 'broadcast', event, payload: await request.arrayBuffer() };
  } else if (type === 'application/json' || type === undefined) {
    message = { type: 'broadcast', event, payload: await readJson(request) };
  } else {
    throw new HttpError(415, `Unsupported content type ${type}`);
  }
  return [{ topic, private: url.searchParams.get('private') === 'true', message }];
}

export function createBroadcastApi(deps: {
  registry: ChannelRegistry;
  authorizer: Authorizer;
  jwtSecret: string;
  log: Logger;
}): HttpService {
  const writable = async (claims: RealtimeClaims, outgoing: Outgoing[]) => {
    const allowed = new Map<string, boolean>();
    for (const { topic } of outgoing.filter((o) => o.private)) {
      if (allowed.has(topic)) continue;
      const policies = await deps.authorizer.authorize(claims, topic, { presence: false });
      allowed.set(topic, policies.broadcast.write);
    }
    return outgoing.filter((o) => !o.private || allowed.get(o.topic));
  };

  return {
    async fetch(request) {
      const headers = cors(request);
      if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers });
      const { pathname } = new URL(request.url);
      const match = SINGLE.exec(pathname);
      if (!match && !BATCH.test(pathname)) {
        return Response.json({ message: 'Not Found' }, { status: 404, headers });
      }
      if (request.method !== 'POST') {
        return Response.json({ message: 'Method Not Allowed' }, { status: 405, headers });
      }
      try {
        const claims = await authenticate(request, deps.jwtSecret);
        const outgoing = match ? await single(request, match) : await batch(request);
        for (const { topic, private: isPrivate, message } of await writable(claims, outgoing)) {
          deps.registry.broadcast(`realtime:${topic}`, isPrivate, message);
        }
        return new Response(null, { status: 202, headers });
      } catch (error) {
        if (error instanceof HttpError) {
          return Response.json({ message: error.message }, { status: error.status, headers });
        }
        deps.log('realtime: broadcast request failed', error);
        const message = 'Realtime was unable to connect to the project database';
        return Response.json({ message }, { status: 500, headers });
      }
    },
  };
}
