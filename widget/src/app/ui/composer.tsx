import { useRef, useState } from 'preact/hooks';
import { MAX_LENGTH } from '../chat.ts';
import { format, type Strings } from '../i18n.ts';
import { attachFiles, toggleEmoji } from './extras.tsx';
import { SendIcon } from './icons.tsx';

interface Props {
  t: Strings;
  disabled: boolean;
  onSend(text: string, files?: unknown[]): boolean;
  onTyping(): void;
}

export function Composer({ t, disabled, onSend, onTyping }: Props) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  const length = text.length;
  const over = length > MAX_LENGTH;
  const empty = !text.trim();
  // A count nobody is near only adds noise; it shows once the limit is worth knowing about.
  const nearLimit = length >= MAX_LENGTH * 0.9;

  const grow = (el: HTMLTextAreaElement) => {
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight + 2, 140)}px`;
  };
  // Files dropped or pasted fetch the attachments chunk, which uploads and sends them.
  const add = (list?: FileList | null) => {
    if (list?.length) void attachFiles(input.current as HTMLElement, [...list]);
  };
  const submit = () => {
    if (disabled || empty || over) return;
    if (onSend(text)) {
      setText('');
      if (input.current) {
        input.current.value = '';
        grow(input.current);
      }
    }
  };

  return (
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
      <button
        type="button"
        class="tool"
        data-parley="attach"
        aria-label={t.attach}
        disabled={disabled}
        onClick={(event) => void attachFiles(event.currentTarget)}
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
        type="button"
        class="tool"
        data-parley="emoji-button"
        aria-label={t.emoji}
        aria-expanded="false"
        disabled={disabled}
        onClick={(event) => void toggleEmoji(event.currentTarget, t.emoji)}
      >
        🙂
      </button>
      <button
        type="submit"
        class="send"
        data-parley="send"
        aria-label={t.send}
        disabled={disabled || empty || over}
      >
        <SendIcon />
      </button>
    </form>
  );
}
