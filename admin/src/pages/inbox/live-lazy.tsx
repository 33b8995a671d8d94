import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import { t } from '../../i18n/index.ts';

// Stand-ins that render the inbox's live-chat parts once their chunk has arrived.

type Live = typeof import('./live.ts');
let chunk: Promise<Live> | null = null;
const load = () => {
  chunk ??= import('./live.ts');
  // A failed download may be retried by the next part that asks.
  chunk.catch(() => (chunk = null));
  return chunk;
};

function lazyPart<P extends object>(pick: (live: Live) => ComponentType<P>) {
  return (props: P) => {
    const [Part, setPart] = useState<ComponentType<P> | null>(null);
    const [failed, setFailed] = useState<string | null>(null);
    useEffect(() => {
      let mounted = true;
      load().then(
        (live) => mounted && setPart(() => pick(live)),
        (error) => mounted && setFailed(problem(error)),
      );
      return () => {
        mounted = false;
      };
    }, []);
    if (failed)
      return (
        <p class="error" role="alert">
          {t('actionFailed', { message: failed })}
        </p>
      );
    return Part ? <Part {...props} /> : null;
  };
}

export const PresenceBar = lazyPart((live) => live.PresenceBar);
export const VisitorReceipt = lazyPart((live) => live.VisitorReceipt);
export const HandoffFacts = lazyPart((live) => live.HandoffFacts);
