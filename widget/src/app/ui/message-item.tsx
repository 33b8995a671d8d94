import { type FunctionComponent, h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { adoptStyles } from '../../shared/adopt-styles.ts';
import { markdown, safeHref } from '../../shared/markdown.ts';
import { imageUrl } from '../../shared/safe-url.ts';
import { textDirection } from '../direction.ts';
import { format, type Strings } from '../i18n.ts';
import type { Message } from '../types.ts';
import { showFiles } from './extras.tsx';
import { ThumbDownIcon, ThumbUpIcon } from './icons.tsx';
import type { RichProps } from './rich.ts';

interface Props {
  message: Message;
  t: Strings;
  locale: string;
  uiDir: 'ltr' | 'rtl';
  onRate(message: Message, rating: 'up' | 'down'): void;
  onRetry(message: Message): void;
  onSend(text: string): void;
}

// Buttons and cards come as a chunk, fetched once the first message carrying them shows.
let richChunk: Promise<FunctionComponent<RichProps>> | undefined;

function RichPart(props: RichProps) {
  const [Rich, setRich] = useState<FunctionComponent<RichProps> | null>(null);
  useEffect(() => {
    richChunk ??= import('./rich.ts').then((m) => m.createRich(h, imageUrl, adoptStyles));
    richChunk.then((c) => setRich(() => c)).catch(() => {});
  }, []);
  return Rich && <Rich {...props} />;
}

function time(iso: string, locale: string) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  let label: string;
  try {
    label = date.toLocaleTimeString(locale, { hour: 'numeric', minute: '2-digit' });
  } catch {
    label = date.toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' });
  }
  return <time dateTime={date.toISOString()}>{label}</time>;
}

export function MessageItem({ message, t, locale, uiDir, onRate, onRetry, onSend }: Props) {
  const { role } = message;
  const bot = role === 'assistant';
  const avatar = imageUrl(message.author?.avatar_url);
  const sources = bot ? (message.sources ?? []).filter((s) => s?.title || s?.url) : [];
  return (
    <div
      class="msg"
      data-parley="message"
      data-role={role}
      data-id={message.id}
      data-local={message.local}
      dir={textDirection(message.content, uiDir)}
    >
      {role === 'agent' && message.author?.name && (
        <div class="author">
          {avatar && <img src={avatar} alt="" />}
          <span>{message.author.name}</span>
        </div>
      )}
      <div class="bubble" data-parley="content">
        {role === 'user' || role === 'system' ? message.content : markdown(message.content)}
      </div>
      {!!message.attachments && (
        <div class="files" ref={(box) => void showFiles(box, message.attachments)} />
      )}
      {message.rich && (bot || role === 'agent') && (
        <RichPart rich={message.rich} onSend={onSend} />
      )}
      {sources.length > 0 && (
        <details class="sources" data-parley="sources">
          <summary>
            {sources.length === 1 ? t.sourceOne : format(t.sourceCount, { n: sources.length })}
          </summary>
          <ul>
            {sources.map((source, i) => {
              const href = source.url ? safeHref(source.url) : null;
              const title = source.title || source.url || '';
              return (
                <li key={i} title={title}>
                  {href ? (
                    <a href={href} target="_blank" rel="noopener noreferrer">
                      {title}
                    </a>
                  ) : (
                    title
                  )}
                </li>
              );
            })}
          </ul>
        </details>
      )}
      {role !== 'system' && (
        <div class="meta">
          {role === 'user' && <span class="sr">{t.you}</span>}
          {time(message.created_at, locale)}
          {message.local === 'sending' && <span>{t.sending}</span>}
          {message.local === 'failed' && (
            <>
              <span class="err" role="alert">
                {t.failed}
              </span>
              <button
                type="button"
                class="link"
                data-parley="retry"
                onClick={() => onRetry(message)}
              >
                {t.retry}
              </button>
            </>
          )}
          {bot && message.id && (
            <>
              <button
                type="button"
                class="thumb"
                data-parley="thumb-up"
                aria-label={t.helpful}
                aria-pressed={message.feedback === 1 || message.feedback === 'up'}
                onClick={() => onRate(message, 'up')}
              >
                <ThumbUpIcon />
              </button>
              <button
                type="button"
                class="thumb"
                data-parley="thumb-down"
                aria-label={t.notHelpful}
                aria-pressed={message.feedback === -1 || message.feedback === 'down'}
                onClick={() => onRate(message, 'down')}
              >
                <ThumbDownIcon />
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}
