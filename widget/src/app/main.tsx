import { render } from 'preact';
import { adoptStyles } from '../shared/adopt-styles.ts';
import type { App, Host } from '../shared/types.ts';
import { createChat } from './chat.ts';
import { CSS } from './styles.ts';
import { setUploader } from './ui/extras.tsx';
import { prechatPart, setPartsRoot } from './ui/parts.ts';
import { Window } from './ui/window.tsx';

/** Called by the loader once this chunk has arrived; renders into the loader's shadow root. */
export function mount(host: Host): App {
  adoptStyles(host.root, CSS);
  setPartsRoot(host.root);
  const container = document.createElement('div');
  container.className = 'app';
  host.root.append(container);

  const chat = createChat(host, prechatPart.preload);
  setUploader(chat);
  render(<Window chat={chat} host={host} />, container);

  return {
    setOpen: (open) => chat.actions.setOpen(open),
    identify: (identity) => chat.actions.identify(identity),
    setLocale: (locale) => chat.actions.setLocale(locale),
    reset: () => chat.actions.reset(),
  };
}
