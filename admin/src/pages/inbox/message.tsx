import { markdown, safeHref } from '../../../../widget/src/shared/markdown.ts';
import type { Grounding, Message, ToolExecution } from '../../data/conversation.ts';
import { formatTime, type MessageKey, t } from '../../i18n/index.ts';
import { memberName } from '../../ui/names.ts';
import { Attachments } from './attachments.tsx';

const ROLE_LABEL: Record<Message['role'], MessageKey> = {
  user: 'roleUser',
  assistant: 'roleAssistant',
  agent: 'roleStaff',
  system: 'roleSystem',
};

const json = (value: unknown) => JSON.stringify(value, null, 2) ?? '';

interface Props {
  message: Message;
  grounding: Grounding | undefined;
  tools: ToolExecution[] | undefined;
}

/** One entry of the transcript. Text goes through the widget's Markdown subset: never as HTML. */
export function TranscriptMessage({ message, grounding, tools }: Props) {
  const who =
    message.role === 'agent'
      ? message.author_name || memberName(message.author_id)
      : t(ROLE_LABEL[message.role]);
  return (
    <li
      class={`message message-${message.role}${message.is_private ? ' private' : ''}`}
      data-admin="message"
      data-role={message.role}
      data-private={message.is_private ? 'true' : 'false'}
      data-id={message.id}
    >
      <div class="message-meta">
        <span class="message-author">{who}</span>
        {message.is_private && <span class="tag note-tag">{t('internalNote')}</span>}
        <time dateTime={message.created_at}>{formatTime(message.created_at)}</time>
      </div>
      <div class="message-body" data-admin="content">
        {markdown(message.content)}
      </div>
      {message.rich != null && message.role !== 'user' && <RichSummary rich={message.rich} />}
      {Array.isArray(message.attachments) && message.attachments.length > 0 && (
        <Attachments files={message.attachments} />
      )}
      {message.role === 'assistant' && (
        <Grounded message={message} grounding={grounding} tools={tools} />
      )}
    </li>
  );
}

function Grounded({ message, grounding, tools }: Props) {
  const sources = message.sources.filter((s) => s.title || s.url);
  if (!grounding && !sources.length && !tools?.length) return null;
  return (
    <div class="grounding">
      {grounding && (
        <p class="muted">
          {t('answeredBy', {
            engine: [grounding.engine, grounding.model].filter(Boolean).join(' · '),
          })}
          {grounding.fallback_reason &&
            ` — ${t('fallback', { reason: grounding.fallback_reason })}`}
        </p>
      )}
      {sources.length > 0 && (
        <details data-admin="sources">
          <summary>
            {t('sources')} ({sources.length})
          </summary>
          <ul>
            {sources.map((s, i) => {
              const link = s.url ? safeHref(s.url) : null;
              return (
                <li key={i} dir="auto">
                  {link ? (
                    <a href={link} target="_blank" rel="noopener noreferrer">
                      {s.title || link}
                    </a>
                  ) : (
                    s.title
                  )}
                </li>
              );
            })}
          </ul>
        </details>
      )}
      {tools && tools.length > 0 && (
        <details data-admin="tool-calls">
          <summary>
            {t('toolCalls')} ({tools.length})
          </summary>
          <ul>
            {tools.map((x) => (
              <li key={x.id}>
                <strong>{x.tool_name}</strong>{' '}
                <span class={x.success ? 'ok' : 'failed'}>
                  {x.success ? t('toolOk') : t('toolFailed')}
                </span>
                {x.duration_ms !== null && <span class="muted"> · {x.duration_ms} ms</span>}
                {x.n8n_execution_id && (
                  <span class="muted"> · {t('n8nExecution', { id: x.n8n_execution_id })}</span>
                )}
                {x.error && <span class="muted"> · {x.error}</span>}
                <div class="tool-io">
                  <span>{t('arguments')}</span>
                  <pre>{json(x.arguments)}</pre>
                  {x.response !== undefined && (
                    <>
                      <span>{t('response')}</span>
                      <pre>{json(x.response)}</pre>
                    </>
                  )}
                </div>
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

type Loose = Record<string, unknown>;
const objects = (v: unknown): Loose[] =>
  Array.isArray(v) ? v.filter((x): x is Loose => !!x && typeof x === 'object') : [];
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** What the visitor was shown under the reply, as text and safe links: staff see what went out. */
function RichSummary({ rich }: { rich: unknown }) {
  const part = rich && typeof rich === 'object' ? (rich as Loose) : {};
  const buttons = (list: unknown) =>
    objects(list).map((b, i) => {
      const link = b.url ? safeHref(str(b.url)) : null;
      return (
        <li key={i} dir="auto" class="chip">
          {link ? (
            <a href={link} target="_blank" rel="noopener noreferrer">
              {str(b.label)}
            </a>
          ) : (
            `${str(b.label)} → “${str(b.payload)}”`
          )}
        </li>
      );
    });
  return (
    <div class="rich-summary" data-admin="rich">
      {objects(part.cards).map((c, i) => (
        <div key={i} class="rich-card-summary" data-admin="rich-card">
          <strong dir="auto">{str(c.title)}</strong>
          {c.text ? <p dir="auto">{str(c.text)}</p> : null}
          {c.image_url && safeHref(str(c.image_url)) ? (
            <span class="muted" dir="ltr">
              {str(c.image_url)}
            </span>
          ) : null}
          <ul class="rich-buttons">{buttons(c.buttons)}</ul>
        </div>
      ))}
      <ul class="rich-buttons">{buttons(part.buttons)}</ul>
    </div>
  );
}
