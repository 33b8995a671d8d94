import type { h as createElement } from 'preact';
import type { useState as stateHook } from 'preact/hooks';
import type { Uploader } from './attach.ts';

// "Email me this conversation": a chunk of its own, fetched when the visitor asks. The chat
// function checks the conversation is the visitor's, leaves staff notes out and limits how often.

type Words = [
  label: string,
  send: string,
  sending: string,
  sent: string,
  failed: string,
  close: string,
];
const WORDS: Record<string, Words> = {
  en: [
    'Your email address',
    'Send',
    'Sending…',
    'Sent to {to}.',
    'It could not be sent. Please check the address or try again later.',
    'Close',
  ],
  he: [
    'כתובת הדוא״ל שלך',
    'שליחה',
    'שולח…',
    'נשלח אל {to}.',
    'לא ניתן היה לשלוח. נא לבדוק את הכתובת או לנסות שוב מאוחר יותר.',
    'סגירה',
  ],
};

export function createTranscript(
  h: typeof createElement,
  useState: typeof stateHook,
  chat: Uploader,
) {
  return function Transcript({ language, onClose }: { language: string; onClose(): void }) {
    const w = (WORDS[language] ?? WORDS.en) as Words;
    const [email, setEmail] = useState('');
    const [state, setState] = useState<'idle' | 'sending' | 'sent' | 'failed'>('idle');
    const submit = async (event: Event) => {
      event.preventDefault();
      setState('sending');
      try {
        const conversation = await chat.ensure();
        const response = await fetch(`${chat.options.supabaseUrl}/functions/v1/chat/transcript`, {
          method: 'POST',
          headers: {
            apikey: chat.options.supabaseKey,
            authorization: `Bearer ${(await chat.auth.session()).access_token}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ conversation_id: conversation.id, email: email.trim() }),
        });
        setState(response.ok ? 'sent' : 'failed');
      } catch {
        setState('failed');
      }
    };
    return h(
      'form',
      { class: 'transcript', 'data-parley': 'transcript', onSubmit: submit },
      h(
        'label',
        null,
        h('span', null, w[0]),
        h('input', {
          type: 'email',
          required: true,
          autoComplete: 'email',
          value: email,
          onInput: (e: Event) => setEmail((e.currentTarget as HTMLInputElement).value),
        }),
      ),
      h(
        'button',
        { type: 'submit', class: 'chip', disabled: state === 'sending' },
        state === 'sending' ? w[2] : w[1],
      ),
      h('button', { type: 'button', class: 'link', onClick: onClose }, w[5]),
      h(
        'p',
        { role: 'status', 'data-parley': 'transcript-status' },
        state === 'sent' ? w[3].replace('{to}', email.trim()) : state === 'failed' ? w[4] : '',
      ),
    );
  };
}
