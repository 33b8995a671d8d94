// Files the visitor sends: a chunk of its own, fetched the first time the visitor picks, drops or
// pastes a file or a message with files shows, so the chat window does not carry it. Preact and
// are not used here: everything is built with DOM calls, so nothing of the app's is split out of it. The chat function names the path (inside the visitor's conversation
// folder) and refuses what the tenant does not take, in words, before any byte leaves; Storage's
// policies decide the upload itself. Files picked together are sent as one message as soon as they
// are all up (the ones refused stay in the tray, explained, until dismissed). The tray is built
// with DOM calls; names are text, always: never markup, never a URL.

export interface Uploader {
  auth: { session(): Promise<{ access_token: string }> };
  actions: { send(text: string, files?: unknown[]): boolean };
  options: { supabaseUrl: string; supabaseKey: string };
  ensure(): Promise<{ id: string }>;
}

interface File_ {
  path: string;
  name: string;
  type: string;
  size: number;
  /** The visitor's own picture, shown before the server has it. */
  preview?: string;
}

const MAX_FILES = 5;

type Words = [
  remove: string,
  refusedType: string,
  tooLarge: string,
  failed: string,
  tooMany: string,
  uploading: string,
  files: string,
];
const WORDS: Record<string, Words> = {
  en: [
    'Remove {name}',
    '{name} cannot be sent: this kind of file is not accepted here.',
    '{name} is too large: files can be up to {max} MB.',
    '{name} could not be uploaded. Please try again.',
    'At most 5 files per message.',
    'Uploading {name}',
    'Files to send',
  ],
  he: [
    'הסרת {name}',
    'לא ניתן לשלוח את {name}: סוג קובץ זה אינו מתקבל כאן.',
    '{name} גדול מדי: קבצים יכולים להיות עד {max} MB.',
    'לא ניתן היה להעלות את {name}. נא לנסות שוב.',
    'עד 5 קבצים בהודעה.',
    'מעלה את {name}',
    'קבצים לשליחה',
  ],
};

const fill = (template: string, values: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '');

/** The files of a message as the server (or the visitor's own send) gave them; others dropped. */
export function toFiles(value: unknown): File_[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter(
      (f) =>
        f &&
        typeof f === 'object' &&
        typeof f.path === 'string' &&
        typeof f.name === 'string' &&
        typeof f.type === 'string',
    )
    .slice(0, MAX_FILES)
    .map((f) => ({
      path: f.path,
      name: f.name,
      type: f.type,
      size: typeof f.size === 'number' ? f.size : 0,
      ...(typeof f.preview === 'string' && f.preview.startsWith('blob:')
        ? { preview: f.preview }
        : {}),
    }));
}

const CSS = `
.tray{position:absolute;inset-inline:0;inset-block-end:100%;display:flex;flex-wrap:wrap;gap:6px;padding:6px 12px;margin:0;list-style:none;background:var(--bg);border-top:1px solid var(--line)}
.tray li{display:flex;align-items:center;gap:6px;max-width:100%;border:1px solid var(--line);border-radius:10px;padding:4px 6px;font-size:13px}
.tray img,.files img{display:block;object-fit:cover;border-radius:8px}
.tray img{width:36px;height:36px}
.tray .name,.files .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:180px}
.tray progress{width:60px}
.tray .error{white-space:normal}
.tray button{background:none;border:0;color:inherit;cursor:pointer;font-size:16px;line-height:1;padding:2px 4px;border-radius:6px}
.files{display:flex;flex-direction:column;gap:6px;margin-top:6px}
.files a{color:inherit;display:inline-flex;align-items:center;gap:6px}
.files img{max-width:220px;max-height:220px}
`;

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string) => {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  return node;
};

type Adopt = (root: ShadowRoot, css: string) => void;
let chat: Uploader;
let adopt: Adopt;
let styled = false;
const style = (node: Node) => {
  const root = node.getRootNode();
  if (!styled && root instanceof ShadowRoot) {
    styled = true;
    adopt(root, CSS);
  }
};

async function headers() {
  return {
    apikey: chat.options.supabaseKey,
    authorization: `Bearer ${(await chat.auth.session()).access_token}`,
  };
}

/** Uploads one file, showing its progress in `row`; its path, or null once refused in words. */
async function upload(file: File, row: HTMLLIElement, words: Words): Promise<File_ | null> {
  const name = file.name || 'file';
  const progress = el('progress');
  progress.max = 1;
  progress.value = 0;
  progress.setAttribute('aria-label', fill(words[5], { name }));
  row.insertBefore(progress, row.lastChild);
  const refuse = (text: string) => {
    progress.remove();
    const error = el('span', text);
    error.className = 'error';
    error.setAttribute('role', 'alert');
    row.insertBefore(error, row.lastChild);
    return null;
  };
  try {
    const conversation = await chat.ensure();
    const response = await fetch(`${chat.options.supabaseUrl}/functions/v1/chat/attachments`, {
      method: 'POST',
      headers: { ...(await headers()), 'content-type': 'application/json' },
      body: JSON.stringify({
        conversation_id: conversation.id,
        name,
        type: file.type || 'application/octet-stream',
        size: file.size,
      }),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const code = body?.error?.code;
      const max = /([\d.]+) MB/.exec(body?.error?.message ?? '')?.[1] ?? '';
      return refuse(
        fill(
          code === 'attachment_type_refused'
            ? words[1]
            : code === 'attachment_too_large'
              ? words[2]
              : words[3],
          { name, max },
        ),
      );
    }
    const path = body.path as string;
    const auth = await headers();
    await new Promise<void>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${chat.options.supabaseUrl}/storage/v1/object/attachments/${path}`);
      xhr.setRequestHeader('apikey', auth.apikey);
      xhr.setRequestHeader('authorization', auth.authorization);
      xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
      xhr.setRequestHeader('x-upsert', 'false');
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) progress.value = event.loaded / event.total;
      };
      xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error(String(xhr.status))));
      xhr.onerror = () => reject(new Error('network'));
      xhr.send(file);
    });
    return { path, name, type: file.type, size: file.size };
  } catch {
    return refuse(fill(words[3], { name }));
  }
}

async function uploadAndSend(anchor: HTMLElement, files: File[]) {
  const language = (anchor.closest('[lang]')?.getAttribute('lang') ?? 'en').slice(0, 2);
  const words = (WORDS[language] ?? WORDS.en) as Words;
  const form = anchor.closest('form') as HTMLFormElement;
  style(form);
  let tray = form.querySelector<HTMLUListElement>('.tray');
  if (!tray) {
    tray = el('ul');
    tray.className = 'tray';
    tray.dataset.parley = 'tray';
    tray.setAttribute('aria-label', words[6]);
    form.prepend(tray);
  }
  const list = tray;
  const rows = files.slice(0, MAX_FILES).map((file) => {
    const row = el('li');
    row.dataset.parley = 'pending';
    const name = file.name || 'file';
    let preview: string | undefined;
    if (file.type.startsWith('image/')) {
      preview = URL.createObjectURL(file);
      const img = el('img');
      img.src = preview;
      img.alt = '';
      row.append(img);
    }
    const remove = el('button', '×');
    remove.type = 'button';
    remove.setAttribute('aria-label', fill(words[0], { name }));
    remove.addEventListener('click', () => {
      row.remove();
      if (!list.childElementCount) list.remove();
      anchor.focus();
    });
    const label = el('span', name);
    label.className = 'name';
    row.append(label, remove);
    list.append(row);
    return { file, row, preview };
  });
  if (files.length > MAX_FILES) {
    const note = el('li', words[4]);
    note.setAttribute('role', 'alert');
    note.dataset.parley = 'pending';
    list.append(note);
  }
  const done = await Promise.all(rows.map((r) => upload(r.file, r.row, words)));
  const sent: File_[] = [];
  rows.forEach((r, i) => {
    const file = done[i];
    if (!file) return;
    sent.push(r.preview ? { ...file, preview: r.preview } : file);
    r.row.remove();
  });
  if (!list.childElementCount) list.remove();
  if (sent.length) chat.actions.send('', sent);
}

/**
 * Uploads the files dropped or pasted on the composer `anchor` is in and sends them; without
 * files, lets the visitor choose them first.
 */
export function add(anchor: HTMLElement, uploader: Uploader, adoptStyles: Adopt, files?: File[]) {
  chat = uploader;
  adopt = adoptStyles;
  if (files) return void uploadAndSend(anchor, files);
  const chooser = el('input');
  chooser.type = 'file';
  chooser.multiple = true;
  chooser.addEventListener('change', () => void uploadAndSend(anchor, [...(chooser.files ?? [])]));
  chooser.click();
}

/** Draws a message's files into `box`: pictures shown, other files as links, by signed URLs. */
export async function show(
  box: HTMLElement,
  value: unknown,
  uploader: Uploader,
  adoptStyles: Adopt,
) {
  chat = uploader;
  adopt = adoptStyles;
  const list = toFiles(value);
  const key = list.map((f) => f.path).join('\n');
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  style(box);
  const draw = (urls: Record<string, string>) =>
    box.replaceChildren(
      ...list.map((f) => {
        const url = urls[f.path];
        const src = f.type.startsWith('image/') ? url || f.preview : undefined;
        const item = el(url ? 'a' : 'span');
        item.dataset.parley = 'file';
        if (src) {
          const img = el('img');
          img.src = src;
          img.alt = f.name;
          item.append(img);
        } else {
          const name = el('span', f.name);
          name.className = 'name';
          item.append('📄 ', name);
        }
        if (url && item instanceof HTMLAnchorElement) {
          item.href = url;
          item.target = '_blank';
          item.rel = 'noopener noreferrer';
        }
        return item;
      }),
    );
  draw({});
  const urls: Record<string, string> = {};
  for (const f of list) {
    try {
      const response = await fetch(
        `${chat.options.supabaseUrl}/storage/v1/object/sign/attachments/${f.path}`,
        {
          method: 'POST',
          headers: { ...(await headers()), 'content-type': 'application/json' },
          body: JSON.stringify({ expiresIn: 3600 }),
        },
      );
      const signed = (await response.json())?.signedURL;
      if (response.ok && typeof signed === 'string' && signed.startsWith('/'))
        urls[f.path] = `${chat.options.supabaseUrl}/storage/v1${signed}`;
    } catch {
      // Shown by name only: still says what was sent.
    }
  }
  if (box.dataset.key === key) draw(urls);
}
