import { useState } from 'preact/hooks';
import { format, type Strings } from '../i18n.ts';

export function Csat({
  t,
  rated,
  onRate,
}: {
  t: Strings;
  rated: boolean;
  onRate(n: number, comment?: string): void;
}) {
  const [score, setScore] = useState<number | null>(null);
  const [comment, setComment] = useState('');
  if (rated) {
    return (
      <div class="csat" data-parley="csat">
        <p role="status">{t.csatThanks}</p>
      </div>
    );
  }
  // A star picks the score; the comment is optional and goes with it in one submission, so the
  // tenant gets one rating, not a score and then a correction.
  return (
    <form
      class="csat"
      data-parley="csat"
      onSubmit={(e) => {
        e.preventDefault();
        if (score !== null) onRate(score, comment.trim() || undefined);
      }}
    >
      <fieldset>
        <legend>{t.csatQuestion}</legend>
        <div class="stars">
          {[1, 2, 3, 4, 5].map((n) => (
            <button
              key={n}
              type="button"
              aria-label={format(t.star, { n })}
              aria-pressed={score === n}
              onClick={() => setScore(n)}
            >
              {n}
            </button>
          ))}
        </div>
      </fieldset>
      {score !== null && (
        <>
          <textarea
            aria-label={t.csatComment}
            placeholder={t.csatComment}
            maxLength={2000}
            rows={2}
            dir="auto"
            value={comment}
            onInput={(e) => setComment(e.currentTarget.value)}
            data-parley="csat-comment"
          />
          <button type="submit" class="csat-send" data-parley="csat-send">
            {t.send}
          </button>
        </>
      )}
    </form>
  );
}
