import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatHarness,
  createTenant,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';

// The pre-chat form's answers on POST /chat/sessions: required when the tenant asks for them,
// stored on the new conversation only.

let h: ChatHarness;
let tenant: TestTenant;

const prechatForm = {
  enabled: true,
  fields: [
    { name: 'name', label: 'Your name', type: 'text', required: true },
    { name: 'email', label: 'Email', type: 'email', required: true },
    { name: 'order', label: 'Order number', type: 'text' },
  ],
};

beforeAll(async () => {
  h = await startChatHarness();
  tenant = await createTenant(h, { botConfig: { prechat_form: prechatForm } });
}, 120_000);

afterAll(async () => {
  await h?.close();
});

const conversationsOf = (visitor: Visitor) =>
  h.db.asService((sql) =>
    sql.query<{ id: string; prechat: Record<string, unknown>; contact_id: string | null }>(
      'select id, prechat, contact_id from public.conversations where visitor_id = $1',
      [visitor.userId],
    ),
  );

describe('pre-chat answers on a new session', () => {
  it('refuses a new conversation without the required answers and stores nothing', async () => {
    const visitor = await Visitor.signIn(h);
    const bare = await visitor.call('sessions', { key: tenant.key });
    expect(bare.status).toBe(400);
    expect(bare.body.error.code).toBe('prechat_required');
    expect(bare.body.error.message).toContain('email');

    const partial = await visitor.call('sessions', {
      key: tenant.key,
      prechat: { fields: { name: 'Ada', email: '   ' } },
    });
    expect(partial.status).toBe(400);
    expect(partial.body.error.code).toBe('prechat_required');
    expect(await conversationsOf(visitor)).toEqual([]);
  });

  it('validates the answers', async () => {
    const visitor = await Visitor.signIn(h);
    const fields = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, 'x']));
    for (const prechat of [
      { name: 'Ada', email: 'not-an-email' },
      { name: 'x'.repeat(201), email: 'ada@example.com' },
      { fields: { name: 'Ada', email: 'ada@example.com', note: 'x'.repeat(1001) } },
      { fields: { ...fields, name: 'Ada', email: 'ada@example.com' } },
      { fields: { ['k'.repeat(65)]: 'x', name: 'Ada', email: 'ada@example.com' } },
    ]) {
      const res = await visitor.call('sessions', { key: tenant.key, prechat });
      expect(res.status, JSON.stringify(prechat).slice(0, 80)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect(await conversationsOf(visitor)).toEqual([]);
  });

  it('stores valid answers on the new conversation, not on a contact', async () => {
    const visitor = await Visitor.signIn(h);
    const prechat = {
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      fields: { name: 'Ada Lovelace', email: 'ada@example.com', order: 'A-1001' },
    };
    const res = await visitor.call('sessions', { key: tenant.key, prechat });
    expect(res.status).toBe(201);
    const rows = await conversationsOf(visitor);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBe(res.body.conversation.id);
    expect(rows[0]?.prechat).toEqual(prechat);
    expect(rows[0]?.contact_id).toBeNull();
    const contacts = await h.db.asService((sql) =>
      sql.query('select id from public.contacts where tenant_id = $1', [tenant.id]),
    );
    expect(contacts).toEqual([]);

    // The open conversation is resumed without asking again.
    const again = await visitor.call('sessions', { key: tenant.key });
    expect(again.status).toBe(200);
    expect(again.body.conversation.id).toBe(res.body.conversation.id);
    expect(again.body.config.prechat_form).toEqual(prechatForm);
  });

  it('does not ask a visitor whose identity is verified', async () => {
    const visitor = await Visitor.signIn(h);
    const identifier = 'customer-42';
    const identityHash = createHmac('sha256', tenant.identitySecret)
      .update(identifier)
      .digest('hex');
    const res = await visitor.call('sessions', {
      key: tenant.key,
      visitor: { identifier, identityHash },
    });
    expect(res.status).toBe(201);
    const rows = await conversationsOf(visitor);
    expect(rows[0]?.prechat).toEqual({});
  });

  it('leaves tenants without the form alone', async () => {
    const plain = await createTenant(h);
    const visitor = await Visitor.signIn(h);
    const res = await visitor.call('sessions', { key: plain.key });
    expect(res.status).toBe(201);
  });
});
