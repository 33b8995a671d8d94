import { format, type Strings } from '../i18n.ts';

export function Csat({
  t,
  rated,
  onRate,
}: {
  t: Strings;
  rated: boolean;
  onRate(n: number): void;
}) {
  return (
    <div class="csat" data-parley="csat">
      {rated ? (
        <p role="status">{t.csatThanks}</p>
      ) : (
        <fieldset>
          <legend>{t.csatQuestion}</legend>
          <div class="stars">
            {[1, 2, 3, 4, 5].map((n) => (
              <button
                key={n}
                type="button"
                aria-label={format(t.star, { n })}
                onClick={() => onRate(n)}
              >
                {n}
              </button>
            ))}
          </div>
        </fieldset>
      )}
    </div>
  );
}
