import { useState } from 'preact/hooks';

// A value to copy (a secret shown once, the embed snippet), read-only, with a copy button; the
// settings and onboarding pages pass their own words.

/** A value to copy, read-only; `note` says why it matters (shown once, paste it…). */
export function Copyable(props: {
  copy: string;
  copied: string;
  label: string;
  value: string;
  name: string;
  note?: string;
  multiline?: boolean;
}) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.value);
      setCopied(true);
    } catch {
      // No clipboard (an insecure origin, a refused permission): the text stays selectable.
      setCopied(false);
    }
  };
  const common = {
    readOnly: true,
    value: props.value,
    'data-admin': props.name,
    onFocus: (e: FocusEvent) => (e.currentTarget as HTMLInputElement).select(),
  };
  return (
    <div class="copyable">
      <label for={`copy-${props.name}`}>{props.label}</label>
      {props.multiline ? (
        <textarea id={`copy-${props.name}`} rows={3} {...common} />
      ) : (
        <input id={`copy-${props.name}`} type="text" {...common} />
      )}
      <div class="settings-actions">
        <button type="button" onClick={() => void copy()}>
          {props.copy}
        </button>
        <span role="status">{copied ? props.copied : ''}</span>
      </div>
      {props.note && <p class="note">{props.note}</p>}
    </div>
  );
}
