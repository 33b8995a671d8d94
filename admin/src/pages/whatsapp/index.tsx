import { useCallback, useEffect, useState } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import { currentMembership } from '../../data/tenants.ts';
import { t } from '../../i18n/index.ts';
import type { PageProps } from '../types.ts';
import { Broadcasts } from './broadcasts.tsx';
import { Connections } from './connections.tsx';
import { type Connection, listConnections, listTemplates, type Template } from './data.ts';
import { Flows } from './flows.tsx';
import { m } from './messages.ts';

/** The WhatsApp page: numbers, their templates, keyword flows and broadcasts. */
export default function WhatsAppPage({ tenantId }: PageProps) {
  const readOnly = currentMembership.value?.role === 'platform';
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      const [list, tpls] = await Promise.all([listConnections(tenantId), listTemplates(tenantId)]);
      setConnections(list);
      setTemplates(tpls);
      setError(null);
    } catch (e) {
      setError(m('loadFailed', { reason: problem(e) }));
    }
  }, [tenantId]);
  useEffect(() => {
    void reload();
  }, [reload]);

  return (
    <section class="page whatsapp" aria-labelledby="whatsapp-title">
      <h1 id="whatsapp-title">{m('title')}</h1>
      <p class="muted">{m('intro')}</p>
      {readOnly && <p class="muted">{m('readOnly')}</p>}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {connections === null && !error && <p aria-live="polite">{t('loading')}</p>}
      {connections && (
        <>
          <Connections
            tenantId={tenantId}
            connections={connections}
            templates={templates}
            readOnly={readOnly}
            onChange={reload}
          />
          <Flows tenantId={tenantId} readOnly={readOnly} />
          <Broadcasts tenantId={tenantId} templates={templates} readOnly={readOnly} />
        </>
      )}
    </section>
  );
}
