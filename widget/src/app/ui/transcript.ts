import type { Uploader } from './attach.ts';

// "Email me this conversation": a chunk of its own, fetched when the visitor asks, built with DOM
// calls so it needs nothing of the app's. The chat function checks the conversation is the
// visitor's, leaves staff notes out and limits how often.

type Words = [label: string, send: string, sent: string, failed: string, close: string];
const WORDS: Record<string, Words> = {
  en: [
    'Your email address',
    'Send',
    'Sent to {to}.',
    'It could not be sent. Please check the address or try again later.',
    'Close',
  ],
  he: [
    'כתובת הדוא״ל שלך',
    'שליחה',
    'נשלח אל {to}.',
    'לא ניתן היה לשלוח. נא לבדוק את הכתובת או לנסות שוב מאוחר יותר.',
    'סגירה',
  ],
};

const CSS = `
.transcript{flex-basis:100%;display:flex;flex-wrap:wrap;align-items:center;justify-content:center;gap:6px;font-size:13px}
.transcript label{display:flex;flex-direction:column;gap:2px}
.transcript input{font:inherit;font-size:16px;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:6px 8px}
.transcript p{flex-basis:100%;text-align:center;margin:0;min-height:1em}
.actions{flex-wrap:wrap}
`;
let styled = false;

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string) => {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  return node;
};

/** Shows the form under the links `button` sits among (once), its address field focused. */
export function open(
  button: HTMLElement,
  chat: Uploader,
  adopt: (root: ShadowRoot, css: string) => void,
) {
  const row = button.parentElement as HTMLElement;
  const existing = row.querySelector<HTMLInputElement>('.transcript input');
  if (existing) return existing.focus();
  const root = button.getRootNode();
  if (!styled && root instanceof ShadowRoot) {
    styled = true;
    adopt(root, CSS);
  }
  const language = (button.closest('[lang]')?.getAttribute('lang') ?? 'en').slice(0, 2);
  const w = (WORDS[language] ?? WORDS.en) as Words;
  const form = el('form');
  form.className = 'transcript';
  form.dataset.parley = 'transcript';
  const label = el('label');
  const input = el('input');
  input.type = 'email';
  input.required = true;
  input.autocomplete = 'email';
  label.append(el('span', w[0]), input);
  const send = el('button', w[1]);
  send.type = 'submit';
  send.className = 'chip';
  const close = el('button', w[4]);
  close.type = 'button';
  close.className = 'link';
  close.addEventListener('click', () => {
    form.remove();
    button.focus();
  });
  const status = el('p');
  status.setAttribute('role', 'status');
  status.dataset.parley = 'transcript-status';
  form.append(label, send, close, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    send.disabled = true;
    const to = input.value.trim();
    let ok = false;
    try {
      const conversation = await chat.ensure();
      const response = await fetch(`${chat.options.supabaseUrl}/functions/v1/chat/transcript`, {
        method: 'POST',
        headers: {
          apikey: chat.options.supabaseKey,
          authorization: `Bearer ${(await chat.auth.session()).access_token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ conversation_id: conversation.id, email: to }),
      });
      ok = response.ok;
    } catch {
      // Said below, in words.
    }
    status.textContent = ok ? w[2].replace('{to}', to) : w[3];
    send.disabled = false;
  });
  row.append(form);
  input.focus();
}
