import type { h as createElement } from 'preact';
import type { useEffect as effectHook, useRef as refHook } from 'preact/hooks';

// A small emoji picker: a chunk of its own, fetched when the visitor first opens it (the loader
// and the chat window carry none of it). Preact comes from the app as arguments so it is not split
// out of the app. Keyboard: arrows move through the grid, Home/End jump, Enter or Space picks,
// Escape closes and gives focus back to the button that opened it.

const EMOJI =
  '😀 😂 😊 😍 🤔 😅 😢 😡 👍 👎 👏 🙏 👋 💪 🎉 ❤️ 🔥 ✨ ✅ ❌ ⭐ 📦 🚚 💳 🛒 📅 ⏰ 📎 💬 ❓ ❗ 🙂'.split(
    ' ',
  );
const COLUMNS = 8;

const CSS = `
.emoji{position:absolute;inset-block-end:100%;inset-inline-end:8px;display:grid;grid-template-columns:repeat(${COLUMNS},36px);gap:2px;padding:6px;background:var(--bg);border:1px solid var(--line);border-radius:12px;box-shadow:0 6px 24px rgba(0,0,0,.18);z-index:3}
.emoji button{width:36px;height:36px;font-size:20px;border:0;border-radius:8px;background:none;cursor:pointer;padding:0}
.emoji button:hover,.emoji button:focus-visible{background:var(--bot)}
`;

export interface PickerProps {
  label: string;
  onPick(emoji: string): void;
  onClose(): void;
}

export function createPicker(
  h: typeof createElement,
  useEffect: typeof effectHook,
  useRef: typeof refHook,
  adopt: (root: ShadowRoot, css: string) => void,
) {
  let styled = false;
  return function Picker({ label, onPick, onClose }: PickerProps) {
    const grid = useRef<HTMLDivElement>(null);
    useEffect(() => {
      const root = grid.current?.getRootNode();
      if (!styled && root instanceof ShadowRoot) {
        styled = true;
        adopt(root, CSS);
      }
      grid.current?.querySelector('button')?.focus();
    }, []);
    const move = (event: KeyboardEvent) => {
      const buttons = [...(grid.current?.querySelectorAll('button') ?? [])];
      const at = buttons.indexOf(event.target as HTMLButtonElement);
      const rtl = getComputedStyle(grid.current as Element).direction === 'rtl';
      const step: Record<string, number> = {
        ArrowRight: rtl ? -1 : 1,
        ArrowLeft: rtl ? 1 : -1,
        ArrowDown: COLUMNS,
        ArrowUp: -COLUMNS,
        Home: -at,
        End: buttons.length - 1 - at,
      };
      if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        onClose();
      } else if (event.key in step) {
        event.preventDefault();
        const next = Math.min(buttons.length - 1, Math.max(0, at + (step[event.key] ?? 0)));
        buttons[next]?.focus();
      }
    };
    return h(
      'div',
      {
        class: 'emoji',
        role: 'group',
        'aria-label': label,
        ref: grid,
        onKeyDown: move,
        'data-parley': 'emoji',
      },
      EMOJI.map((emoji) =>
        h('button', { type: 'button', key: emoji, onClick: () => onPick(emoji) }, emoji),
      ),
    );
  };
}
