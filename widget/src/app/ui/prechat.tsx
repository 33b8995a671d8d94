import { useState } from 'preact/hooks';
import { baseLanguage, type Strings } from '../i18n.ts';
import type { PrechatField } from '../types.ts';

interface Props {
  t: Strings;
  locale: string;
  fields: PrechatField[];
  onSubmit(answers: Record<string, string>): Promise<void>;
}

const labelFor = (field: PrechatField, locale: string) => {
  const label = field.label;
  if (typeof label === 'string') return label;
  return label?.[baseLanguage(locale)] ?? label?.en ?? field.name;
};

/** The tenant's questions before the first message; the composer replaces it once answered. */
export function Prechat({ t, locale, fields, onSubmit }: Props) {
  const [invalid, setInvalid] = useState<Record<string, boolean>>({});
  const [busy, setBusy] = useState(false);
  const mark = (el: EventTarget | null) => {
    if (el instanceof HTMLInputElement)
      setInvalid((v) => ({ ...v, [el.name]: !el.validity.valid }));
  };

  return (
    <form
      class="prechat"
      data-parley="prechat"
      aria-labelledby="parley-prechat-intro"
      // The browser's own checks announce the first problem; aria-invalid marks every field.
      onInvalidCapture={(event) => mark(event.target)}
      onSubmit={(event) => {
        event.preventDefault();
        const form = event.currentTarget;
        const answers: Record<string, string> = {};
        for (const field of fields) {
          const input = form.elements.namedItem(field.name);
          if (input instanceof HTMLInputElement) answers[field.name] = input.value;
        }
        setBusy(true);
        void onSubmit(answers).finally(() => setBusy(false));
      }}
    >
      <p id="parley-prechat-intro">{t.prechatIntro}</p>
      {fields.map((field) => {
        const id = `parley-prechat-${field.name}`;
        return (
          <div class="q" key={field.name}>
            <label for={id}>
              {labelFor(field, locale)}
              {field.required && <span aria-hidden="true"> *</span>}
            </label>
            <input
              id={id}
              name={field.name}
              // Preact's types only accept a union of input types together with `list`.
              list={undefined}
              type={field.type === 'email' ? 'email' : 'text'}
              autocomplete={
                field.type === 'email' ? 'email' : field.name === 'name' ? 'name' : 'on'
              }
              maxLength={field.type === 'email' ? 320 : 1000}
              required={field.required === true}
              aria-invalid={invalid[field.name] ? 'true' : undefined}
              onInput={(event) => invalid[field.name] && mark(event.currentTarget)}
            />
          </div>
        );
      })}
      <button type="submit" class="start" data-parley="prechat-submit" disabled={busy}>
        {t.prechatSubmit}
      </button>
    </form>
  );
}
