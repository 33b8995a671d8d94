// A small emoji picker: a chunk of its own, fetched when the visitor first opens it (the loader and
// the chat window carry none of it). Built with DOM calls, so it needs nothing of the app's: it
// inserts at the input's cursor and tells the composer through the input's own `input` event.
// Keyboard: arrows move through the grid (mirrored right to left), Home/End jump, Enter or Space
// picks (the grid stays for another), Escape closes it and gives focus back to its button.

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

let styled = false;

/** Opens the picker above the composer `button` belongs to, or closes it when it is open. */
export function toggle(
  button: HTMLButtonElement,
  label: string,
  adopt: (root: ShadowRoot, css: string) => void,
) {
  const form = button.closest('form') as HTMLFormElement;
  const close = () => {
    form.querySelector('.emoji')?.remove();
    button.setAttribute('aria-expanded', 'false');
  };
  if (form.querySelector('.emoji')) return close();
  const root = button.getRootNode();
  if (!styled && root instanceof ShadowRoot) {
    styled = true;
    adopt(root, CSS);
  }
  const grid = document.createElement('div');
  grid.className = 'emoji';
  grid.setAttribute('role', 'group');
  grid.setAttribute('aria-label', label);
  grid.dataset.parley = 'emoji';
  const input = form.querySelector('textarea') as HTMLTextAreaElement;
  for (const emoji of EMOJI) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = emoji;
    b.addEventListener('click', () => {
      input.setRangeText(emoji, input.selectionStart, input.selectionEnd, 'end');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    grid.append(b);
  }
  grid.addEventListener('keydown', (event) => {
    const buttons = [...grid.querySelectorAll('button')];
    const at = buttons.indexOf(event.target as HTMLButtonElement);
    const rtl = getComputedStyle(grid).direction === 'rtl';
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
      close();
      button.focus();
    } else if (event.key in step) {
      event.preventDefault();
      buttons[Math.min(buttons.length - 1, Math.max(0, at + (step[event.key] ?? 0)))]?.focus();
    }
  });
  form.append(grid);
  button.setAttribute('aria-expanded', 'true');
  grid.querySelector('button')?.focus();
}
