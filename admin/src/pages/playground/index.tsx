import { useEffect, useRef, useState } from 'preact/hooks';
import { markdown } from '../../../../widget/src/shared/markdown.ts';
import { problem } from '../../data/client.ts';
import {
  type ChatMessage,
  openPlayground,
  type Playground,
  type ReplyDebug,
  replyDebug,
} from '../../data/playground.ts';
import { locale } from '../../i18n/index.ts';
import type { PageProps } from '../types.ts';
import { m } from './messages.ts';

// Replies are read back by polling the visitor's history: the page waits for one reply at a
// time, and the chat API is the visitor's own view, so what shows here is what a customer gets.
const POLL_MS = 1000;
const WAIT_MS = 90_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const ROLE = { user: 'you', assistant: 'bot', agent: 'staff', system: 'system' } as const;

export default function PlaygroundPage({ tenantId }: PageProps) {
  const [session, setSession] = useState<Playground | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [waiting, setWaiting] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const log = useRef<HTMLOListElement>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    let live = true;
    let opened: Playground | null = null;
    setSession(null);
    setMessages([]);
    setSelected(null);
    setError(null);
    openPlayground(tenantId, locale.value)
      .then((s) => {
        opened = s;
        if (live) setSession(s);
        else void s.close();
      })
      .catch((e) => live && setError(problem(e)));
    return () => {
      live = false;
      void opened?.close();
    };
  }, [tenantId, generation]);

  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView({ block: 'nearest' });
  }, [messages.length, waiting]);

  const send = async (event: Event) => {
    event.preventDefault();
    await ask(text.trim());
  };

  const ask = async (content: string) => {
    if (!session || !content || waiting) return;
    setError(null);
    setNotice(null);
    setWaiting(true);
    try {
      const mine = await session.send(content);
      setText('');
      let seen = [...messages.filter((x) => x.id !== mine.id), mine];
      setMessages(seen);
      const deadline = Date.now() + WAIT_MS;
      let answered = false;
      while (!answered && Date.now() < deadline) {
        await sleep(POLL_MS);
        const { messages: fresh } = await session.since(mine.created_at);
        const known = new Set(seen.map((x) => x.id));
        const added = fresh.filter((x) => !known.has(x.id));
        if (added.length) {
          seen = [...seen, ...added];
          setMessages(seen);
        }
        const reply = added.filter((x) => x.role !== 'user').at(-1);
        if (reply) {
          answered = true;
          if (reply.role === 'assistant') setSelected(reply.id);
        }
      }
      if (!answered) setNotice(m('noReply'));
    } catch (e) {
      setError(problem(e));
    } finally {
      setWaiting(false);
      input.current?.focus();
    }
  };

  return (
    <section class="page playground" aria-labelledby="playground-title">
      <header class="page-head">
        <h1 id="playground-title">{m('title')}</h1>
        <button
          type="button"
          onClick={() => setGeneration((g) => g + 1)}
          disabled={waiting}
          data-admin="playground-new"
        >
          {m('newConversation')}
        </button>
      </header>
      <p class="muted">{m('intro')}</p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div class="playground-layout">
        <section class="panel" aria-label={m('chatTitle')}>
          {!session && !error && <p aria-live="polite">{m('starting')}</p>}
          <ol
            class="chat-log"
            ref={log}
            data-admin="playground-log"
            data-conversation={session?.conversationId}
            aria-live="polite"
          >
            {messages.map((message) => (
              <li
                key={message.id}
                class={`from-${message.role}`}
                data-admin="playground-message"
                data-role={message.role}
                aria-current={message.id === selected ? 'true' : undefined}
              >
                <div class="muted small">{m(ROLE[message.role])}</div>
                <div>{markdown(message.content)}</div>
                {message.role === 'assistant' && (
                  <button
                    type="button"
                    aria-pressed={message.id === selected}
                    onClick={() => setSelected(message.id)}
                  >
                    {m('why')}
                  </button>
                )}
                {message.id === messages.at(-1)?.id && message.quick_replies?.length > 0 && (
                  <div class="quick-replies" data-admin="playground-quick-replies">
                    {message.quick_replies.map((reply) => (
                      <button
                        type="button"
                        key={reply}
                        disabled={waiting}
                        onClick={() => void ask(reply)}
                      >
                        {reply}
                      </button>
                    ))}
                  </div>
                )}
              </li>
            ))}
          </ol>
          {waiting && <p class="muted">{m('waiting')}</p>}
          {notice && <p role="status">{notice}</p>}
          <form class="composer-row" onSubmit={send}>
            <label class="visually-hidden" for="playground-input">
              {m('inputLabel')}
            </label>
            <input
              id="playground-input"
              ref={input}
              value={text}
              maxLength={4000}
              placeholder={m('placeholder')}
              disabled={!session}
              data-admin="playground-input"
              onInput={(e) => setText(e.currentTarget.value)}
            />
            <button
              type="submit"
              class="primary"
              disabled={!session || waiting || !text.trim()}
              data-admin="playground-send"
            >
              {m('send')}
            </button>
          </form>
        </section>
        <DebugPanel messageId={selected} />
      </div>
    </section>
  );
}

const fixed = (value: number | null | undefined, digits = 3) =>
  value === null || value === undefined ? '–' : Number(value).toFixed(digits);
const json = (value: unknown) => JSON.stringify(value, null, 2) ?? '';

function DebugPanel({ messageId }: { messageId: string | null }) {
  const [debug, setDebug] = useState<ReplyDebug | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!messageId) return;
    let live = true;
    setDebug(undefined);
    setError(null);
    replyDebug(messageId)
      .then((d) => live && setDebug(d))
      .catch((e) => live && setError(problem(e)));
    return () => {
      live = false;
    };
  }, [messageId]);

  return (
    <section class="panel" aria-labelledby="debug-title" data-admin="debug-panel">
      <h2 id="debug-title">{m('debugTitle')}</h2>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {!messageId && <p class="muted">{m('debugEmpty')}</p>}
      {messageId && debug === undefined && !error && <p aria-live="polite">{m('debugLoading')}</p>}
      {messageId && debug === null && <p>{m('debugMissing')}</p>}
      {debug && (
        <div data-admin="debug" data-message={messageId}>
          <dl class="debug-facts">
            <dt>{m('question')}</dt>
            <dd>{debug.question}</dd>
            {debug.retrieval_query && debug.retrieval_query !== debug.question && (
              <>
                <dt>{m('query')}</dt>
                <dd>{debug.retrieval_query}</dd>
              </>
            )}
            <dt>{m('engine')}</dt>
            <dd data-admin="debug-engine">{debug.engine}</dd>
            <dt>{m('model')}</dt>
            <dd data-admin="debug-model">
              {[debug.provider, debug.model].filter(Boolean).join(' · ') || m('none')}
            </dd>
            <dt>{m('fallback')}</dt>
            <dd data-admin="debug-fallback">{debug.fallback_reason ?? m('none')}</dd>
            <dt>{m('rounds')}</dt>
            <dd>{debug.rounds}</dd>
            <dt>{m('latency')}</dt>
            <dd data-admin="debug-latency">
              {debug.latency_ms === null ? '–' : m('ms', { ms: debug.latency_ms })}
            </dd>
            <dt>{m('tokens')}</dt>
            <dd data-admin="debug-tokens">
              {m('tokensValue', {
                in: debug.usage?.tokens_in ?? 0,
                out: debug.usage?.tokens_out ?? 0,
              })}
            </dd>
            <dt>{m('cost')}</dt>
            <dd data-admin="debug-cost">
              {debug.usage?.cost_usd === null || debug.usage?.cost_usd === undefined
                ? '–'
                : `$${Number(debug.usage.cost_usd).toFixed(6)}`}
            </dd>
          </dl>
          <h3>{m('passages')}</h3>
          {debug.chunks.length === 0 ? (
            <p class="muted">{m('noPassages')}</p>
          ) : (
            <div class="table-scroll">
              <table class="data-table">
                <thead>
                  <tr>
                    <th scope="col">{m('passage')}</th>
                    <th scope="col">{m('score')}</th>
                    <th scope="col">{m('fullText')}</th>
                    <th scope="col">{m('vector')}</th>
                    <th scope="col">{m('similarity')}</th>
                  </tr>
                </thead>
                <tbody>
                  {debug.chunks.map((chunk, i) => (
                    <tr key={chunk.chunk_id ?? i} data-admin="debug-passage">
                      <th scope="row">
                        {[chunk.title, chunk.heading].filter(Boolean).join(' › ') || '–'}
                      </th>
                      <td>{fixed(chunk.score, 4)}</td>
                      <td>{chunk.full_text_rank ?? '–'}</td>
                      <td>{chunk.semantic_rank ?? '–'}</td>
                      <td>{fixed(chunk.similarity)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h3>{m('toolCalls')}</h3>
          {debug.tool_calls.length === 0 ? (
            <p class="muted">{m('noTools')}</p>
          ) : (
            <ul class="debug-tools">
              {debug.tool_calls.map((call) => {
                const run = debug.executions.find((e) => e.id === call.execution_id);
                return (
                  <li
                    key={call.call_id}
                    data-admin="debug-tool"
                    data-success={String(call.success)}
                  >
                    <strong>{call.name}</strong>{' '}
                    <span class={call.success ? 'ok' : 'error'}>
                      {call.success ? m('ok') : m('failed')}
                    </span>
                    {run && (
                      <>
                        {' · '}
                        <span data-admin="debug-tool-duration">
                          {run.duration_ms === null ? '–' : m('ms', { ms: run.duration_ms })}
                        </span>
                        {run.http_status ? ` · HTTP ${run.http_status}` : ''}
                        {` · ${m('attempts')}: ${run.attempts}`}
                        {run.error && <div class="error">{run.error}</div>}
                        <details>
                          <summary>{m('arguments')}</summary>
                          <pre dir="ltr">{json(run.arguments)}</pre>
                        </details>
                        {run.response !== undefined && (
                          <details>
                            <summary>{m('response')}</summary>
                            <pre dir="ltr">{json(run.response)}</pre>
                          </details>
                        )}
                      </>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
