import type { ComponentChild, h as createElement } from 'preact';

// Buttons and cards under a bot or agent message: a chunk of its own, fetched the first time a
// message carries them, so the chat window does not pay for it. Preact's h, the URL check and the
// stylesheet helper come from the app as arguments: importing them here would split them out of
// the app into a shared chunk. Everything is checked again here, whatever the server promised: a
// part that does not fit is dropped, links and pictures are http(s) only, text stays text.

type Loose = Record<string, unknown>;

interface Button {
  label: string;
  url?: string;
  payload?: string;
}

interface Card {
  title: string;
  text: string | null;
  image: string | undefined;
  buttons: Button[];
}

const CSS = `
.rich{display:flex;flex-direction:column;gap:8px;margin-top:6px;max-width:100%}
.rich .chips a.chip{text-decoration:none;display:inline-flex;align-items:center}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{flex:1 1 180px;max-width:260px;display:flex;flex-direction:column;border:1px solid var(--line);border-radius:12px;overflow:hidden;background:var(--bg)}
.card img{width:100%;height:120px;object-fit:cover;display:block;background:var(--bot)}
.card .body{padding:8px 10px;display:flex;flex-direction:column;gap:6px}
.card h3{margin:0;font-size:14px;font-weight:600;overflow-wrap:anywhere}
.card p{margin:0;font-size:13px;color:var(--muted);overflow-wrap:anywhere}
`;

const isObject = (v: unknown): v is Loose => !!v && typeof v === 'object' && !Array.isArray(v);
const text = (v: unknown, max: number) =>
  typeof v === 'string' && v.trim() ? v.slice(0, max) : null;
const list = (v: unknown, max: number) =>
  Array.isArray(v) ? v.filter(isObject).slice(0, max) : [];

function toButtons(v: unknown, max: number, safeUrl: (raw: string) => string | undefined) {
  const buttons: Button[] = [];
  for (const b of list(v, max)) {
    const label = text(b.label, 80);
    if (!label) continue;
    // A link that is not http(s) is dropped, never shown as a button that goes nowhere.
    if (typeof b.url === 'string') {
      const url = safeUrl(b.url);
      if (url) buttons.push({ label, url });
    } else {
      const payload = text(b.payload, 200);
      if (payload) buttons.push({ label, payload });
    }
  }
  return buttons;
}

/** The rich part as the widget shows it, or null when nothing of it fits. */
export function toRich(v: unknown, safeUrl: (raw: string) => string | undefined) {
  if (!isObject(v)) return null;
  const buttons = toButtons(v.buttons, 5, safeUrl);
  const cards: Card[] = [];
  for (const c of list(v.cards, 10)) {
    const title = text(c.title, 120);
    if (!title) continue;
    cards.push({
      title,
      text: text(c.text, 1000),
      image: typeof c.image_url === 'string' ? safeUrl(c.image_url) : undefined,
      buttons: toButtons(c.buttons, 3, safeUrl),
    });
  }
  return buttons.length || cards.length ? { buttons, cards } : null;
}

export interface RichProps {
  rich: unknown;
  /** A postback: its payload is sent as the visitor's message. */
  onSend(text: string): void;
}

export function createRich(
  h: typeof createElement,
  safeUrl: (raw: string) => string | undefined,
  adoptStyles: (root: ShadowRoot, css: string) => void,
) {
  let styled = false;
  const style = (el: Element | null) => {
    const root = el?.getRootNode();
    if (styled || !(root instanceof ShadowRoot)) return;
    styled = true;
    adoptStyles(root, CSS);
  };
  const buttonRow = (buttons: Button[], onSend: (text: string) => void): ComponentChild =>
    buttons.length
      ? h(
          'div',
          { class: 'chips' },
          buttons.map((b, i) =>
            b.url
              ? h(
                  'a',
                  {
                    key: i,
                    class: 'chip',
                    href: b.url,
                    target: '_blank',
                    rel: 'noopener noreferrer',
                    'data-parley': 'rich-link',
                  },
                  b.label,
                )
              : h(
                  'button',
                  {
                    key: i,
                    type: 'button',
                    class: 'chip',
                    'data-parley': 'rich-postback',
                    onClick: () => onSend(b.payload as string),
                  },
                  b.label,
                ),
          ),
        )
      : null;

  return function Rich({ rich, onSend }: RichProps): ComponentChild {
    const shown = toRich(rich, safeUrl);
    if (!shown) return null;
    return h(
      'div',
      { class: 'rich', 'data-parley': 'rich', ref: style },
      shown.cards.length > 0 &&
        h(
          'div',
          { class: 'cards', role: 'list' },
          shown.cards.map((card, i) =>
            h(
              'div',
              { key: i, class: 'card', role: 'listitem', 'data-parley': 'card' },
              card.image && h('img', { src: card.image, alt: '', loading: 'lazy' }),
              h(
                'div',
                { class: 'body' },
                h('h3', null, card.title),
                card.text && h('p', null, card.text),
                buttonRow(card.buttons, onSend),
              ),
            ),
          ),
        ),
      buttonRow(shown.buttons, onSend),
    );
  };
}
