import type { Strings } from '../i18n.ts';
import type { PartDeps } from './part-deps.ts';

// The closing survey, a chunk of its own: it shows only once a conversation is resolved. The app
// fetches it as soon as a person has the conversation, so it is there by the time it shows.

export interface CsatProps {
  t: Strings;
  rated: boolean;
  onRate(n: number, comment?: string): void;
}

export const CSS = `
.csat{align-self:stretch;text-align:center;border:1px solid var(--line);border-radius:12px;padding:10px}
.csat p{margin:0}.csat fieldset{border:0;margin:0;padding:0}.csat legend{padding:0;margin:0 auto 8px}
.csat .stars{display:flex;justify-content:center;gap:6px}
.csat button{width:38px;height:38px;border-radius:50%;border:1px solid var(--line);background:var(--bg)}
.csat button:hover,.csat button[aria-pressed=true]{background:var(--p-color);color:var(--p-on-color)}
.csat textarea{display:block;width:100%;box-sizing:border-box;margin:8px 0;font:inherit;border:1px solid var(--line);border-radius:8px;padding:6px;resize:vertical}
.csat button.csat-send{width:auto;height:auto;border-radius:8px;padding:6px 14px}
`;

export function create({ h, useState, format }: PartDeps) {
  return function Csat({ t, rated, onRate }: CsatProps) {
    const [score, setScore] = useState<number | null>(null);
    const [comment, setComment] = useState('');
    if (rated) {
      return h(
        'div',
        { class: 'csat', 'data-parley': 'csat' },
        h('p', { role: 'status' }, t.csatThanks),
      );
    }
    // A star picks the score; the comment is optional and goes with it in one submission, so the
    // tenant gets one rating, not a score and then a correction.
    return h(
      'form',
      {
        class: 'csat',
        'data-parley': 'csat',
        onSubmit: (e) => {
          e.preventDefault();
          if (score !== null) onRate(score, comment.trim() || undefined);
        },
      },
      h(
        'fieldset',
        null,
        h('legend', null, t.csatQuestion),
        h(
          'div',
          { class: 'stars' },
          [1, 2, 3, 4, 5].map((n) =>
            h(
              'button',
              {
                key: n,
                type: 'button',
                'aria-label': format(t.star, { n }),
                'aria-pressed': score === n,
                onClick: () => setScore(n),
              },
              n,
            ),
          ),
        ),
      ),
      score !== null && [
        h('textarea', {
          key: 'comment',
          'aria-label': t.csatComment,
          placeholder: t.csatComment,
          maxLength: 2000,
          rows: 2,
          dir: 'auto',
          value: comment,
          onInput: (e: Event) => setComment((e.currentTarget as HTMLTextAreaElement).value),
          'data-parley': 'csat-comment',
        }),
        h(
          'button',
          { key: 'send', type: 'submit', class: 'csat-send', 'data-parley': 'csat-send' },
          t.send,
        ),
      ],
    );
  };
}
