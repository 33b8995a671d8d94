import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.ts';
import type { PageDefinition } from './index.ts';
import type { PageProps } from './types.ts';

// Renders a page definition: its component when bundled, else its chunk once loaded. A chunk that
// fails to load (a deploy replaced it, the network dropped) says so and offers a retry.

const loaded = new Map<string, ComponentType<PageProps>>();

export function PageView({ definition, ...props }: PageProps & { definition: PageDefinition }) {
  const [, setVersion] = useState(0);
  const [failed, setFailed] = useState(false);
  const Component = definition.component ?? loaded.get(definition.id);

  useEffect(() => {
    if (Component || !definition.load) return;
    let live = true;
    setFailed(false);
    definition
      .load()
      .then((module) => {
        loaded.set(definition.id, module.default);
        if (live) setVersion((v) => v + 1);
      })
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [definition, Component, failed]);

  if (Component) return <Component {...props} />;
  if (failed) {
    return (
      <div class="empty" role="alert">
        <p>{t('pageLoadFailed')}</p>
        <button type="button" onClick={() => setFailed(false)}>
          {t('retry')}
        </button>
      </div>
    );
  }
  return (
    <p class="empty" aria-busy="true">
      {t('loading')}
    </p>
  );
}
