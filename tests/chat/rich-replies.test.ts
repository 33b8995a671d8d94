import { describe, expect, it } from 'vitest';
import { draftFromN8n, readN8nAnswer } from '../../functions/_shared/agent/n8n.ts';
import { richSchema } from '../../functions/_shared/messages/rich.ts';

// A workflow's buttons and cards are checked before a reply is written (the same limits as the
// database's messages_rich_shape): a malformed or unsafe one makes the whole answer a problem the
// tenant sees, never a stored part the widget would have to drop.

const rich = {
  buttons: [
    { label: 'Track my order', url: 'https://shop.example/track' },
    { label: 'Returns', payload: 'How do returns work?' },
  ],
  cards: [{ title: 'Blue mug', text: '12 oz', image_url: 'https://cdn.example/mug.png' }],
};

describe('rich replies from n8n', () => {
  it('keeps buttons and cards with the reply', () => {
    const answer = readN8nAnswer({ reply: 'Here you go', rich });
    expect('reply' in answer).toBe(true);
    if ('reply' in answer) expect(draftFromN8n(answer.reply).rich).toEqual(rich);
  });

  it('stores nothing for an empty rich part', () => {
    const answer = readN8nAnswer({ reply: 'Hi', rich: { buttons: [], cards: [] } });
    if (!('reply' in answer)) throw new Error('refused');
    expect(draftFromN8n(answer.reply).rich).toBeNull();
  });

  it.each([
    [{ buttons: [{ label: 'x', url: 'javascript:alert(1)' }] }],
    [{ buttons: [{ label: 'x', url: 'data:text/html,<script>1</script>' }] }],
    [{ buttons: [{ label: 'x', url: 'https://a.example', payload: 'both' }] }],
    [{ buttons: [{ label: 'x' }] }],
    [{ cards: [{ title: 'x', image_url: 'javascript:alert(1)' }] }],
    [{ cards: [{ text: 'no title' }] }],
    [{ cards: [{ title: 'x', onclick: 'alert(1)' }] }],
    [{ buttons: Array(6).fill({ label: 'x', payload: 'p' }) }],
    [{ html: '<b>x</b>' }],
    [[{ buttons: [] }]],
  ])('refuses %j', (bad) => {
    expect(richSchema.safeParse(bad).success).toBe(false);
    expect(readN8nAnswer({ reply: 'Hi', rich: bad })).toHaveProperty('problem');
  });
});
