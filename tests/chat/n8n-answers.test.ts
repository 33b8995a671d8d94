import { describe, expect, it } from 'vitest';
import { callbackUrl, readN8nAnswer } from '../../functions/_shared/agent/n8n.ts';

// What counts as the workflow's answer to the relay, and where it is told to call back.

describe('readN8nAnswer', () => {
  it.each([
    [{ reply: 'Shipped.' }, 'Shipped.'],
    [{ output: 'From the AI Agent.' }, 'From the AI Agent.'],
    [[{ output: 'One item from Respond to Webhook.' }], 'One item from Respond to Webhook.'],
    [{ reply: '', handoff: true }, ''],
  ])('takes %j', (json, text) => {
    const answer = readN8nAnswer(json);
    expect('reply' in answer).toBe(true);
    if ('reply' in answer)
      expect((answer.reply.reply ?? answer.reply.output ?? '').trim()).toBe(text);
  });

  it.each([
    [{ message: 'Workflow was started' }],
    [{}],
    [{ reply: '   ' }],
    [{ reply: 42 }],
    [[{ reply: 'a' }, { reply: 'b' }]],
    [null],
    ['just text'],
  ])('refuses %j', (json) => {
    expect(readN8nAnswer(json)).toHaveProperty('problem');
  });
});

describe('callbackUrl', () => {
  it('is the project URL’s n8n-callback, unless the platform names another', () => {
    expect(callbackUrl({ SUPABASE_URL: 'https://abc.supabase.co/' })).toBe(
      'https://abc.supabase.co/functions/v1/n8n-callback',
    );
    expect(
      callbackUrl({
        SUPABASE_URL: 'http://kong:8000',
        PARLEY_N8N_CALLBACK_URL: 'https://chat.example.com/functions/v1/n8n-callback',
      }),
    ).toBe('https://chat.example.com/functions/v1/n8n-callback');
    expect(callbackUrl({})).toBeNull();
  });
});
