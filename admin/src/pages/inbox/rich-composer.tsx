import type { Signal } from '@preact/signals';
import { useState } from 'preact/hooks';
import { t } from '../../i18n/index.ts';

// Buttons and a card under a staff reply. The draft is checked here against the rules
// post_agent_message and the widget apply (the database checks again), and the composer reads
// the outcome: a reply is not sent while it does not fit.

interface DraftButton {
  label: string;
  kind: 'url' | 'payload';
  value: string;
}

interface DraftCard {
  title: string;
  text: string;
  image: string;
  buttons: DraftButton[];
}

interface Draft {
  buttons: DraftButton[];
  card: DraftCard | null;
}

type Button = { label: string; url: string } | { label: string; payload: string };

export interface RichOutcome {
  rich: { buttons?: Button[]; cards?: Record<string, unknown>[] } | null;
  error: string | null;
}

const HTTP_URL = /^https?:\/\/\S+$/i;

function checkButtons(buttons: DraftButton[], where: string): Button[] | string {
  const out: Button[] = [];
  for (const [i, b] of buttons.entries()) {
    const label = b.label.trim();
    const value = b.value.trim();
    const name = `${where} ${i + 1}`;
    if (!label || label.length > 80) return t('richLabelRule', { name });
    if (b.kind === 'url') {
      if (!HTTP_URL.test(value) || value.length > 2048) return t('richUrlRule', { name });
      out.push({ label, url: value });
    } else {
      if (!value || value.length > 200) return t('richPayloadRule', { name });
      out.push({ label, payload: value });
    }
  }
  return out;
}

/** The stored shape of a draft, or why it does not fit. */
export function checkDraft(draft: Draft): RichOutcome {
  const buttons = checkButtons(draft.buttons, t('richButton'));
  if (typeof buttons === 'string') return { rich: null, error: buttons };
  const rich: NonNullable<RichOutcome['rich']> = {};
  if (buttons.length) rich.buttons = buttons;
  const card = draft.card;
  if (card) {
    const title = card.title.trim();
    const text = card.text.trim();
    const image = card.image.trim();
    if (!title || title.length > 120) return { rich: null, error: t('richTitleRule') };
    if (text.length > 1000) return { rich: null, error: t('richTextRule') };
    if (image && (!HTTP_URL.test(image) || image.length > 2048))
      return { rich: null, error: t('richImageRule') };
    const cardButtons = checkButtons(card.buttons, t('richCardButton'));
    if (typeof cardButtons === 'string') return { rich: null, error: cardButtons };
    rich.cards = [
      {
        title,
        ...(text ? { text } : {}),
        ...(image ? { image_url: image } : {}),
        ...(cardButtons.length ? { buttons: cardButtons } : {}),
      },
    ];
  }
  return { rich: rich.buttons || rich.cards ? rich : null, error: null };
}

const newButton = (): DraftButton => ({ label: '', kind: 'url', value: '' });

function ButtonRows({
  buttons,
  max,
  where,
  onChange,
}: {
  buttons: DraftButton[];
  max: number;
  where: string;
  onChange: (next: DraftButton[]) => void;
}) {
  const set = (i: number, patch: Partial<DraftButton>) =>
    onChange(buttons.map((b, j) => (j === i ? { ...b, ...patch } : b)));
  return (
    <div class="rich-buttons">
      {buttons.map((b, i) => {
        const name = `${where} ${i + 1}`;
        return (
          <div class="rich-row" key={i} data-admin="rich-button">
            <input
              aria-label={t('richLabelOf', { name })}
              placeholder={t('richLabel')}
              maxLength={80}
              dir="auto"
              value={b.label}
              onInput={(e) => set(i, { label: e.currentTarget.value })}
              data-admin="rich-label"
            />
            <select
              aria-label={t('richKindOf', { name })}
              value={b.kind}
              onChange={(e) => set(i, { kind: e.currentTarget.value as DraftButton['kind'] })}
              data-admin="rich-kind"
            >
              <option value="url">{t('richKindUrl')}</option>
              <option value="payload">{t('richKindPayload')}</option>
            </select>
            <input
              aria-label={t(b.kind === 'url' ? 'richUrlOf' : 'richPayloadOf', { name })}
              placeholder={b.kind === 'url' ? 'https://' : t('richPayload')}
              dir={b.kind === 'url' ? 'ltr' : 'auto'}
              maxLength={b.kind === 'url' ? 2048 : 200}
              value={b.value}
              onInput={(e) => set(i, { value: e.currentTarget.value })}
              data-admin="rich-value"
            />
            <button
              type="button"
              class="link"
              aria-label={t('richRemoveOf', { name })}
              onClick={() => onChange(buttons.filter((_, j) => j !== i))}
            >
              ×
            </button>
          </div>
        );
      })}
      {buttons.length < max && (
        <button
          type="button"
          class="chip"
          onClick={() => onChange([...buttons, newButton()])}
          data-admin="rich-add-button"
        >
          {t('richAddButton', { name: where })}
        </button>
      )}
    </div>
  );
}

export function RichComposer({ outcome }: { outcome: Signal<RichOutcome> }) {
  const [draft, setDraft] = useState<Draft>({ buttons: [], card: null });
  const update = (next: Draft) => {
    setDraft(next);
    outcome.value = checkDraft(next);
  };
  const card = draft.card;
  const setCard = (patch: Partial<DraftCard>) =>
    card && update({ ...draft, card: { ...card, ...patch } });
  return (
    <fieldset class="rich-composer" data-admin="rich-composer">
      <legend>{t('richTitle')}</legend>
      <ButtonRows
        buttons={draft.buttons}
        max={5}
        where={t('richButton')}
        onChange={(buttons) => update({ ...draft, buttons })}
      />
      {card ? (
        <div class="rich-card" data-admin="rich-card">
          <input
            aria-label={t('richCardTitle')}
            placeholder={t('richCardTitle')}
            maxLength={120}
            dir="auto"
            value={card.title}
            onInput={(e) => setCard({ title: e.currentTarget.value })}
            data-admin="rich-card-title"
          />
          <textarea
            aria-label={t('richCardText')}
            placeholder={t('richCardText')}
            maxLength={1000}
            rows={2}
            dir="auto"
            value={card.text}
            onInput={(e) => setCard({ text: e.currentTarget.value })}
            data-admin="rich-card-text"
          />
          <input
            aria-label={t('richCardImage')}
            placeholder={t('richCardImage')}
            maxLength={2048}
            dir="ltr"
            value={card.image}
            onInput={(e) => setCard({ image: e.currentTarget.value })}
            data-admin="rich-card-image"
          />
          <ButtonRows
            buttons={card.buttons}
            max={3}
            where={t('richCardButton')}
            onChange={(buttons) => setCard({ buttons })}
          />
          <button
            type="button"
            class="link"
            onClick={() => update({ ...draft, card: null })}
            data-admin="rich-remove-card"
          >
            {t('richRemoveCard')}
          </button>
        </div>
      ) : (
        <button
          type="button"
          class="chip"
          onClick={() =>
            update({ ...draft, card: { title: '', text: '', image: '', buttons: [] } })
          }
          data-admin="rich-add-card"
        >
          {t('richAddCard')}
        </button>
      )}
    </fieldset>
  );
}
