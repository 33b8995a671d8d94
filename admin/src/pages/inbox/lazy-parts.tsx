import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../../i18n/index.ts';
import type { CopilotPanel } from './copilot.tsx';
import type { EarlierConversations } from './earlier.tsx';
import type { RichComposer } from './rich-composer.tsx';

// Parts of the inbox loaded as their own chunks once it shows, so the first load (shell and inbox
// list) does not carry them. A chunk that fails to load says so.

function lazy<P extends object>(load: () => Promise<ComponentType<P>>) {
  let loaded: ComponentType<P> | null = null;
  return function Lazy(props: P) {
    const [Component, setComponent] = useState(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (Component) return;
      let live = true;
      load()
        .then((component) => {
          loaded = component;
          if (live) setComponent(() => component);
        })
        .catch(() => live && setFailed(true));
      return () => {
        live = false;
      };
    }, [Component]);
    if (failed) {
      return (
        <p class="error" role="alert">
          {t('pageLoadFailed')}
        </p>
      );
    }
    return Component ? <Component {...props} /> : null;
  };
}

export const LazyCopilot = lazy<Parameters<typeof CopilotPanel>[0]>(() =>
  import('./copilot.tsx').then((module) => module.CopilotPanel),
);

export const LazyEarlier = lazy<Parameters<typeof EarlierConversations>[0]>(() =>
  import('./earlier.tsx').then((module) => module.EarlierConversations),
);

export const LazySoundToggle = lazy<Record<string, never>>(() =>
  import('./sound.tsx').then((module) => module.SoundToggle),
);

export const LazyRichComposer = lazy<Parameters<typeof RichComposer>[0]>(() =>
  import('./rich-composer.tsx').then((module) => module.RichComposer),
);
