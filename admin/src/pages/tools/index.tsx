import { useEffect, useState } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import {
  listTemplates,
  listTools,
  type Template,
  type Tool,
  type ToolStats,
  toolStats,
} from '../../data/tools.ts';
import { t } from '../../i18n/index.ts';
import { href, navigate } from '../../router.ts';
import type { PageProps } from '../types.ts';
import { millis, percent } from './format.ts';
import { m } from './messages.ts';
import { ToolPage } from './tool.tsx';

/** The Tools page: the tenant's tools with their numbers, the template catalog, one tool. */
export default function ToolsPage({ tenantId, params }: PageProps) {
  const [id, template] = params;
  if (id === 'new' && template)
    return <ToolPage key={`new-${template}`} tenantId={tenantId} template={template} />;
  if (id === 'new') return <Catalog tenantId={tenantId} />;
  if (id) return <ToolPage key={id} tenantId={tenantId} toolId={id} />;
  return <ToolList tenantId={tenantId} />;
}

function ToolList({ tenantId }: { tenantId: string }) {
  const [tools, setTools] = useState<Tool[] | null>(null);
  const [stats, setStats] = useState<ToolStats[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    Promise.all([listTools(tenantId), toolStats(tenantId)])
      .then(([list, numbers]) => {
        if (!live) return;
        setTools(list);
        setStats(numbers);
      })
      .catch((e) => live && setError(problem(e)));
    return () => {
      live = false;
    };
  }, [tenantId]);
  const statsOf = (toolId: string) => stats.find((s) => s.tenant_tool_id === toolId);

  return (
    <section class="page tools" aria-labelledby="tools-title">
      <header class="page-head">
        <h1 id="tools-title">{m('title')}</h1>
        <a class="button primary" href={href(tenantId, 'tools', 'new')} data-admin="new-tool">
          {m('newTool')}
        </a>
      </header>
      <p class="muted">{m('intro')}</p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {tools === null && !error && <p aria-live="polite">{t('loading')}</p>}
      {tools?.length === 0 && <p class="empty-note">{m('empty')}</p>}
      {tools && tools.length > 0 && (
        <div class="table-scroll">
          <table class="data-table" data-admin="tool-list">
            <thead>
              <tr>
                <th scope="col">{m('name')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{m('calls')}</th>
                <th scope="col">{m('successRate')}</th>
                <th scope="col">{m('p50')}</th>
                <th scope="col">{m('p95')}</th>
              </tr>
            </thead>
            <tbody>
              {tools.map((tool) => {
                const s = statsOf(tool.id);
                return (
                  <tr key={tool.id} data-tool={tool.name}>
                    <th scope="row">
                      <a href={href(tenantId, 'tools', tool.id)}>{tool.name}</a>
                      <div class="muted small">{hostOf(tool.webhook_url)}</div>
                    </th>
                    <td>{tool.enabled ? m('enabled') : m('disabled')}</td>
                    <td>{s?.calls ?? 0}</td>
                    <td>{percent(s?.success_rate)}</td>
                    <td>{millis(s?.p50_ms)}</td>
                    <td>{millis(s?.p95_ms)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function Catalog({ tenantId }: { tenantId: string }) {
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    listTemplates()
      .then(setTemplates)
      .catch((e) => setError(problem(e)));
  }, []);
  return (
    <section class="page tools" aria-labelledby="catalog-title">
      <p>
        <a href={href(tenantId, 'tools')}>{m('back')}</a>
      </p>
      <h1 id="catalog-title">{m('catalogTitle')}</h1>
      <p class="muted">{m('catalogIntro')}</p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {templates === null && !error && <p aria-live="polite">{t('loading')}</p>}
      <ul class="card-grid" data-admin="catalog">
        {(templates ?? []).map((template) => (
          <li key={template.id} class="card">
            <h2>{template.name}</h2>
            <p>{template.description}</p>
            <button
              type="button"
              data-template={template.slug}
              onClick={() => navigate(tenantId, 'tools', 'new', template.slug)}
            >
              {m('useTemplate', { name: template.name })}
            </button>
          </li>
        ))}
        <li class="card">
          <h2>{m('blank')}</h2>
          <p>{m('blankDescription')}</p>
          <button
            type="button"
            data-template="blank"
            onClick={() => navigate(tenantId, 'tools', 'new', 'blank')}
          >
            {m('useTemplate', { name: m('blank') })}
          </button>
        </li>
      </ul>
    </section>
  );
}
