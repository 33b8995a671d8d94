import type { ComponentChildren, h as createElement, VNode } from 'preact';
import type { useEffect as effectHook, useState as stateHook } from 'preact/hooks';
import type { Chat } from '../chat.ts';
import type { Message } from '../types.ts';

// The visitor's earlier conversations, a chunk of its own fetched when the visitor asks for them,
// so the chat window does not carry it. Preact, its hooks and the Markdown renderer come from the
// app as arguments: importing them here would split them out of the app into a shared chunk.

interface Past {
  id: string;
  status: string;
  activity_at: string;
  last_message: string | null;
}

const WORDS: Record<
  string,
  [title: string, back: string, empty: string, failed: string, resume: string]
> = {
  en: [
    'Earlier conversations',
    'Back',
    'No earlier conversations.',
    'They could not be loaded.',
    'Continue this conversation',
  ],
  es: [
    'Conversaciones anteriores',
    'Volver',
    'No hay conversaciones anteriores.',
    'No se pudieron cargar.',
    'Continuar esta conversación',
  ],
  pt: [
    'Conversas anteriores',
    'Voltar',
    'Nenhuma conversa anterior.',
    'Não foi possível carregá-las.',
    'Continuar esta conversa',
  ],
  fr: [
    'Conversations précédentes',
    'Retour',
    'Aucune conversation précédente.',
    'Impossible de les charger.',
    'Reprendre cette conversation',
  ],
  de: [
    'Frühere Gespräche',
    'Zurück',
    'Keine früheren Gespräche.',
    'Sie konnten nicht geladen werden.',
    'Dieses Gespräch fortsetzen',
  ],
  he: [
    'שיחות קודמות',
    'חזרה',
    'אין שיחות קודמות.',
    'לא ניתן היה לטעון אותן.',
    'להמשיך את השיחה הזו',
  ],
};

export interface HistoryProps {
  chat: Chat;
  onClose(): void;
}

export function createHistory(
  h: typeof createElement,
  useState: typeof stateHook,
  useEffect: typeof effectHook,
  markdown: (source: string) => VNode[],
) {
  return function History({ chat, onClose }: HistoryProps) {
    const [list, setList] = useState<Past[] | null>(null);
    const [open, setOpen] = useState<Message[] | null>(null);
    const [openId, setOpenId] = useState('');
    const [failed, setFailed] = useState(false);
    const locale = chat.state.locale.value;
    const [title, back, empty, failure, resume] =
      WORDS[locale.slice(0, 2)] ?? (WORDS.en as string[]);
    useEffect(() => {
      chat.actions
        .history()
        .then((r) =>
          setList(
            (r as { conversations: Past[] }).conversations.filter(
              (c) => c.id !== chat.state.conversation.value?.id,
            ),
          ),
        )
        .catch(() => setFailed(true));
    }, []);
    const show = (id: string) =>
      chat.actions
        .history(id)
        .then((r) => {
          setOpenId(id);
          setOpen((r as { messages: Message[] }).messages);
        })
        .catch(() => setFailed(true));
    const when = (iso: string) => new Date(iso).toLocaleString(locale, { dateStyle: 'medium' });
    let body: ComponentChildren;
    if (failed) body = h('p', { class: 'notice', role: 'alert' }, failure);
    else if (open)
      body = [
        ...open.map((m) =>
          h(
            'div',
            { class: 'msg', 'data-role': m.role, 'data-parley': 'history-message', key: m.id },
            h(
              'div',
              { class: 'bubble', dir: 'auto' },
              m.role === 'user' ? m.content : markdown(m.content),
            ),
          ),
        ),
        // Back to the chat window, now writing in this conversation (a resolved one reopens for
        // staff on the visitor's next message, as it would have in the window).
        h(
          'button',
          {
            type: 'button',
            class: 'chip',
            'data-parley': 'history-continue',
            onClick: () =>
              chat.actions
                .reopen(openId)
                .then(onClose)
                .catch(() => setFailed(true)),
          },
          resume,
        ),
      ];
    else if (list)
      body = list.length
        ? h(
            'ul',
            { class: 'chips' },
            list.map((c) =>
              h(
                'li',
                { key: c.id },
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'chip',
                    'data-parley': 'history-item',
                    onClick: () => show(c.id),
                  },
                  `${when(c.activity_at)} · ${c.last_message ?? ''}`,
                ),
              ),
            ),
          )
        : h('p', { class: 'notice' }, empty);
    return h(
      'section',
      { class: 'log', 'data-parley': 'history', 'aria-label': title },
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          'data-parley': 'history-back',
          onClick: () => (open ? setOpen(null) : onClose()),
        },
        back,
      ),
      body,
    );
  };
}
