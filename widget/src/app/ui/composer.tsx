import type { FunctionComponent } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { MAX_LENGTH } from '../chat.ts';
import { format, type Strings } from '../i18n.ts';
import type { Attach } from './attach.ts';
import type { PickerProps } from './emoji.ts';
import { loadAttach, loadPicker } from './extras.tsx';
import { SendIcon } from './icons.tsx';

interface Props {
  t: Strings;
  language: string;
  disabled: boolean;
  onSend(text: string, files?: unknown[]): boolean;
  onTyping(): void;
}

export function Composer({ t, language, disabled, onSend, onTyping }: Props) {
  const [text, setText] = useState('');
  const [files, setFiles] = useState<Attach | null>(null);
  const [Picker, setPicker] = useState<FunctionComponent<PickerProps> | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const chooser = useRef<HTMLInputElement>(null);
  const emojiButton = useRef<HTMLButtonElement>(null);
  const length = text.length;
  const over = length > MAX_LENGTH;
  const empty = !text.trim();
  // A count nobody is near only adds noise; it shows once the limit is worth knowing about.
  const nearLimit = length >= MAX_LENGTH * 0.9;

  const grow = (el: HTMLTextAreaElement) => {
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight + 2, 140)}px`;
  };
  // Files picked, dropped or pasted fetch the attachments chunk, which uploads them at once.
  const add = (list?: FileList | null) => {
    // Copied now: the input is cleared (and its list emptied) before the chunk arrives.
    const chosen = [...(list ?? [])];
    if (chosen.length)
      void loadAttach().then((a) => {
        setFiles(() => a);
        a.add(chosen, language);
      });
  };
  const submit = () => {
    const ready = files?.ready();
    if (disabled || over || (empty && !ready)) return;
    if (onSend(text, ready)) {
      files?.clear();
      setText('');
      if (input.current) {
        input.current.value = '';
        grow(input.current);
      }
    }
  };
  const insert = (emoji: string) => {
    const el = input.current as HTMLTextAreaElement;
    const at = el.selectionStart ?? text.length;
    const next = text.slice(0, at) + emoji + text.slice(el.selectionEnd ?? at);
    setText(next);
    el.value = next;
    el.focus();
    el.setSelectionRange(at + emoji.length, at + emoji.length);
  };

  return (
    <>
      {files && <files.Tray />}
      <form
        class="composer"
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
        onDragOver={(event) => event.preventDefault()}
        onDrop={(event) => {
          event.preventDefault();
          add(event.dataTransfer?.files);
        }}
      >
        {Picker && (
          <Picker
            label={t.emoji}
            onPick={insert}
            onClose={() => {
              setPicker(null);
              emojiButton.current?.focus();
            }}
          />
        )}
        <input
          ref={chooser}
          type="file"
          multiple
          hidden
          data-parley="file-input"
          onChange={(event) => {
            add(event.currentTarget.files);
            event.currentTarget.value = '';
          }}
        />
        <button
          type="button"
          class="tool"
          data-parley="attach"
          aria-label={t.attach}
          disabled={disabled}
          onClick={() => chooser.current?.click()}
        >
          📎
        </button>
        <div class="field">
          <textarea
            ref={input}
            data-parley="input"
            rows={1}
            value={text}
            disabled={disabled}
            placeholder={t.placeholder}
            aria-label={t.placeholder}
            aria-describedby={nearLimit ? 'parley-counter' : undefined}
            onInput={(event) => {
              setText(event.currentTarget.value);
              grow(event.currentTarget);
              onTyping();
            }}
            onPaste={(event) => {
              if (event.clipboardData?.files.length) {
                event.preventDefault();
                add(event.clipboardData.files);
              }
            }}
            onKeyDown={(event) => {
              // Enter sends; Shift+Enter and IME composition keep their usual meaning.
              if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
                event.preventDefault();
                submit();
              }
            }}
          />
          <span
            class="counter"
            id="parley-counter"
            data-parley="counter"
            data-over={String(over)}
            hidden={!nearLimit}
            title={format(t.characters, { n: length, max: MAX_LENGTH })}
          >
            {length}/{MAX_LENGTH}
          </span>
        </div>
        <button
          ref={emojiButton}
          type="button"
          class="tool"
          data-parley="emoji-button"
          aria-label={t.emoji}
          aria-expanded={!!Picker}
          disabled={disabled}
          onClick={() =>
            Picker ? setPicker(null) : void loadPicker().then((p) => setPicker(() => p))
          }
        >
          🙂
        </button>
        <button
          type="submit"
          class="send"
          data-parley="send"
          aria-label={t.send}
          disabled={disabled || over || (empty && !files)}
        >
          <SendIcon />
        </button>
      </form>
    </>
  );
}
