import type { Strings } from '../i18n.ts';
import type { PrechatField } from '../types.ts';
import type { PartDeps } from './part-deps.ts';

// The tenant's questions before the first message, a chunk of its own: only tenants with a
// pre-chat form need it. The app fetches it as soon as it knows the form will show.

export interface PrechatProps {
  t: Strings;
  locale: string;
  fields: PrechatField[];
  onSubmit(answers: Record<string, string>): Promise<void>;
}

export const CSS = `
.prechat{display:flex;flex-direction:column;gap:10px;padding:12px 16px 16px;border-top:1px solid var(--line)}
.prechat p{margin:0;font-size:14px}
.q{display:flex;flex-direction:column;gap:4px;font-size:13px}
.q input{font:inherit;font-size:16px;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:10px;padding:8px 10px}
.q input[aria-invalid=true]{border-color:var(--danger)}
.start{border:0;border-radius:10px;padding:10px;background:var(--p-color);color:var(--p-on-color);font-weight:600}
`;

/** The composer replaces the form once it is answered. */
export function create({ h, useState, baseLanguage }: PartDeps) {
  const labelFor = (field: PrechatField, locale: string) => {
    const label = field.label;
    if (typeof label === 'string') return label;
    return label?.[baseLanguage(locale)] ?? label?.en ?? field.name;
  };

  return function Prechat({ t, locale, fields, onSubmit }: PrechatProps) {
    const [invalid, setInvalid] = useState<Record<string, boolean>>({});
    const [busy, setBusy] = useState(false);
    const mark = (el: EventTarget | null) => {
      if (el instanceof HTMLInputElement)
        setInvalid((v) => ({ ...v, [el.name]: !el.validity.valid }));
    };

    return h(
      'form',
      {
        class: 'prechat',
        'data-parley': 'prechat',
        'aria-labelledby': 'parley-prechat-intro',
        // The browser's own checks announce the first problem; aria-invalid marks every field.
        onInvalidCapture: (event) => mark(event.target),
        onSubmit: (event) => {
          event.preventDefault();
          const form = event.currentTarget as HTMLFormElement;
          const answers: Record<string, string> = {};
          for (const field of fields) {
            const input = form.elements.namedItem(field.name);
            if (input instanceof HTMLInputElement) answers[field.name] = input.value;
          }
          setBusy(true);
          void onSubmit(answers).finally(() => setBusy(false));
        },
      },
      h('p', { id: 'parley-prechat-intro' }, t.prechatIntro),
      fields.map((field) => {
        const id = `parley-prechat-${field.name}`;
        return h(
          'div',
          { class: 'q', key: field.name },
          h(
            'label',
            { for: id },
            labelFor(field, locale),
            field.required && h('span', { 'aria-hidden': 'true' }, ' *'),
          ),
          h('input', {
            id,
            name: field.name,
            type: field.type === 'email' ? 'email' : 'text',
            autocomplete: field.type === 'email' ? 'email' : field.name === 'name' ? 'name' : 'on',
            maxLength: field.type === 'email' ? 320 : 1000,
            required: field.required === true,
            'aria-invalid': invalid[field.name] ? 'true' : undefined,
            onInput: (event) => invalid[field.name] && mark(event.currentTarget),
          }),
        );
      }),
      h(
        'button',
        { type: 'submit', class: 'start', 'data-parley': 'prechat-submit', disabled: busy },
        t.prechatSubmit,
      ),
    );
  };
}
