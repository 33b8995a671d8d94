import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatHarness,
  createTenant,
  runWorker,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';

// Files a visitor sends and the transcript it may ask for by email: what the visitor may do, and
// what another visitor, pointing at the first one's files or conversation, may not.

let h: ChatHarness;
let shop: TestTenant;

const PNG = Uint8Array.from(
  atob(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  ),
  (ch) => ch.charCodeAt(0),
);

beforeAll(async () => {
  h = await startChatHarness();
  shop = await createTenant(h, { llm: null });
}, 180_000);
afterAll(() => h?.close());

async function conversationWith() {
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: shop.key, locale: 'en' });
  expect(session.status).toBe(201);
  return { visitor, conversationId: session.body.conversation.id as string };
}

async function upload(visitor: Visitor, conversationId: string, name: string) {
  const slot = await visitor.call('attachments', {
    conversation_id: conversationId,
    name,
    type: 'image/png',
    size: PNG.byteLength,
  });
  expect(slot.status).toBe(201);
  const path = slot.body.path as string;
  const { error } = await visitor.client.storage
    .from('attachments')
    .upload(path, new Blob([PNG], { type: 'image/png' }), { contentType: 'image/png' });
  expect(error).toBeNull();
  return path;
}

describe('attachments', () => {
  it('a message carries the uploaded file, with type and size from Storage, and the bot is told of it', async () => {
    const { visitor, conversationId } = await conversationWith();
    const name = '<img src=x onerror=alert(1)>.png';
    const path = await upload(visitor, conversationId, name);
    expect(path.startsWith(`${shop.id}/${conversationId}/`)).toBe(true);
    expect(path).not.toContain('<');
    const sent = await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: crypto.randomUUID(),
      content: '',
      attachments: [{ path, name }],
    });
    expect(sent.status).toBe(202);
    expect(sent.body.message.attachments).toEqual([
      { path, name, type: 'image/png', size: PNG.byteLength },
    ]);
    const [note] = await h.db.asService((sql) =>
      sql.query<{ note: string }>(
        'select private.attachment_note(attachments) as note from public.messages where id = $1',
        [sent.body.message.id],
      ),
    );
    expect(note?.note).toBe(`[The visitor attached: ${name} (image/png, 1 KB)]`);
    await runWorker(h);
  }, 60_000);

  it('refuses types and sizes the bucket does not take, in words', async () => {
    const { visitor, conversationId } = await conversationWith();
    const exe = await visitor.call('attachments', {
      conversation_id: conversationId,
      name: 'setup.exe',
      type: 'application/x-msdownload',
      size: 1000,
    });
    expect(exe.status).toBe(415);
    expect(exe.body.error.code).toBe('attachment_type_refused');
    expect(exe.body.error.message).toContain('image/png');
    const big = await visitor.call('attachments', {
      conversation_id: conversationId,
      name: 'huge.png',
      type: 'image/png',
      size: 50 * 1024 * 1024,
    });
    expect(big.status).toBe(413);
    expect(big.body.error.message).toMatch(/5 MB/);
    const bad = await visitor.call('attachments', { conversation_id: conversationId, size: -1 });
    expect(bad.status).toBe(400);
  });

  it("another visitor can neither read, write, list nor attach the first one's files", async () => {
    const a = await conversationWith();
    const b = await conversationWith();
    const path = await upload(a.visitor, a.conversationId, 'photo.png');

    const read = await b.visitor.client.storage.from('attachments').download(path);
    expect(read.data).toBeNull();
    const signed = await b.visitor.client.storage.from('attachments').createSignedUrl(path, 60);
    expect(signed.data).toBeNull();
    const listed = await b.visitor.client.storage
      .from('attachments')
      .list(`${shop.id}/${a.conversationId}`);
    expect(listed.data ?? []).toEqual([]);
    const written = await b.visitor.client.storage
      .from('attachments')
      .upload(`${shop.id}/${a.conversationId}/intruder.png`, new Blob([PNG]), {
        contentType: 'image/png',
      });
    expect(written.error).not.toBeNull();
    // B cannot get a slot in A's conversation, nor attach A's file to its own message.
    const slot = await b.visitor.call('attachments', {
      conversation_id: a.conversationId,
      name: 'x.png',
      type: 'image/png',
      size: 10,
    });
    expect(slot.status).toBe(404);
    const attached = await b.visitor.call('messages', {
      conversation_id: b.conversationId,
      client_msg_id: crypto.randomUUID(),
      content: 'look',
      attachments: [{ path, name: 'photo.png' }],
    });
    expect(attached.status).toBe(422);
    // The database itself keeps a message's files inside its own conversation's folder.
    const direct = await b.visitor.client.from('messages').insert({
      conversation_id: b.conversationId,
      role: 'user',
      content: 'x',
      attachments: [{ path, name: 'p.png', type: 'image/png', size: 1 }],
    });
    expect(direct.error).not.toBeNull();
    // A's own file is there for A.
    const own = await a.visitor.client.storage.from('attachments').download(path);
    expect(own.data?.size).toBe(PNG.byteLength);
  }, 60_000);
});

describe('email transcript', () => {
  it("emails the visitor's own conversation without staff notes, rate limited", async () => {
    const { visitor, conversationId } = await conversationWith();
    const said = await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: crypto.randomUUID(),
      content: 'Where is order 77123?',
    });
    expect(said.status).toBe(202);
    await h.db.asService((sql) =>
      sql.query(
        `insert into public.messages (conversation_id, role, content, is_private)
         values ($1, 'agent', 'INTERNAL-NOTE-secret', true)`,
        [conversationId],
      ),
    );
    const sent = await visitor.call('transcript', {
      conversation_id: conversationId,
      email: 'Visitor@Example.com',
    });
    expect(sent.status).toBe(202);
    expect(sent.body).toEqual({ sent: true, to: 'visitor@example.com' });
    await expect
      .poll(() => h.stack.output(), { timeout: 10_000 })
      .toContain('email to visitor@example.com');
    const mail = h.stack
      .output()
      .slice(h.stack.output().lastIndexOf('email to visitor@example.com'));
    expect(mail).toContain('Where is order 77123?');
    expect(mail).not.toContain('INTERNAL-NOTE-secret');

    const other = await conversationWith();
    const foreign = await other.visitor.call('transcript', {
      conversation_id: conversationId,
      email: 'thief@example.com',
    });
    expect(foreign.status).toBe(404);
    expect(h.stack.output()).not.toContain('thief@example.com');

    const invalid = await visitor.call('transcript', {
      conversation_id: conversationId,
      email: 'not-an-address',
    });
    expect(invalid.status).toBe(400);
    const again = await visitor.call('transcript', {
      conversation_id: conversationId,
      email: 'visitor@example.com',
    });
    expect(again.status).toBe(202);
    const limited = await visitor.call('transcript', {
      conversation_id: conversationId,
      email: 'visitor@example.com',
    });
    expect(limited.status).toBe(429);
  }, 60_000);
});
