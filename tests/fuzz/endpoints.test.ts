import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatHarness,
  createTenant,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';
import { FAKE_DEFAULT_REPLY } from '../support/fake-llm.ts';
import { endpointArbitraries, type FuzzTarget, send, violation } from './requests.ts';

// Property-based fuzzing of every public endpoint (requests.ts says what is generated and what
// counts as a defect), then proof that the stack took no harm: health is OK and a visitor still
// gets an answer. A fixed seed and a bounded number of runs keep it quick and repeatable.

const RUNS = 25;
const SEED = 20261202;

let h: ChatHarness;
let tenant: TestTenant;
let target: FuzzTarget;

beforeAll(async () => {
  h = await startChatHarness({
    // Well-formed fuzz messages are accepted: the limits must not turn them into 429s.
    CHAT_VISITOR_MESSAGES_PER_MINUTE: '100000',
    CHAT_TENANT_MESSAGES_PER_MINUTE: '100000',
    CHAT_VISITOR_SESSIONS_PER_MINUTE: '100000',
    CHAT_TENANT_CONVERSATIONS_PER_MINUTE: '100000',
  });
  tenant = await createTenant(h, { llm: 'openai' });
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: tenant.key, locale: 'en' });
  const conversationId = session.body.conversation.id as string;
  const first = await visitor.call('messages', {
    conversation_id: conversationId,
    client_msg_id: 'first',
    content: 'Hello',
  });
  target = {
    url: h.stack.url,
    anonKey: h.stack.keys.anonKey,
    serviceKey: h.stack.keys.serviceRoleKey,
    visitorToken: visitor.token,
    widgetKey: tenant.key,
    conversationId,
    messageId: first.body.message.id as string,
  };
}, 120_000);
afterAll(() => h?.close());

describe('every endpoint refuses bad input with a 4xx in its contract shape, never a 5xx', () => {
  // Built lazily: the arbitraries need the target made in beforeAll.
  const names = [
    'chat sessions',
    'chat messages',
    'chat feedback',
    'chat typing',
    'chat handoff',
    'chat history',
    'chat earlier conversations',
    'chat config',
    'copilot',
    'worker',
    'n8n-callback',
    'health',
    'unknown function',
    'auth signup',
    'auth password grant',
    'auth refresh grant',
    'auth user',
  ];
  it('covers every endpoint the requests module knows', () => {
    expect(Object.keys(endpointArbitraries(target)).sort()).toEqual([...names].sort());
  });
  for (const name of names) {
    it(name, async () => {
      const arbitrary = endpointArbitraries(target)[name];
      if (!arbitrary) throw new Error(`no arbitrary for ${name}`);
      await fc.assert(
        fc.asyncProperty(arbitrary, async (request) => {
          const problem = violation(request, await send(target.url, request));
          if (problem) throw new Error(problem);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    }, 60_000);
  }
});

describe('afterwards', () => {
  it('health is OK and a visitor still gets a reply', async () => {
    const health = await fetch(`${h.stack.url}/functions/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: { status: 'ok' } });

    const visitor = await Visitor.signIn(h);
    const session = await visitor.call('sessions', { key: tenant.key, locale: 'en' });
    expect(session.status).toBe(201);
    const conversationId = session.body.conversation.id as string;
    const sent = await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: 'after-fuzz',
      content: 'Are you still there?',
    });
    expect(sent.status).toBe(202);
    const deadline = Date.now() + 20_000;
    let reply: { content?: string } | undefined;
    while (!reply && Date.now() < deadline) {
      const history = await visitor.call(`messages?conversation_id=${conversationId}`);
      reply = (history.body.messages as { role: string; content: string }[]).find(
        (m) => m.role === 'assistant',
      );
      if (!reply) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(reply?.content).toBe(FAKE_DEFAULT_REPLY);
    await visitor.close();
  });
});
