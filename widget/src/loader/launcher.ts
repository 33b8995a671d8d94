import { adoptStyles } from '../shared/adopt-styles.ts';

// The part painted at once: the host's reset, its placement and the launcher bubble. Everything
// lives in the shadow root, so neither the page's CSS nor ours crosses the boundary.

const CSS = `
:host{all:initial!important;position:fixed!important;z-index:2147483000!important;bottom:var(--p-y,20px)!important;right:var(--p-x,20px)!important;left:auto!important;top:auto!important;display:block!important;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif!important;color-scheme:light dark!important;direction:ltr!important}
:host([data-position=left]){left:var(--p-x,20px)!important;right:auto!important}
.launcher{all:unset;box-sizing:border-box;display:grid;place-items:center;position:relative;width:56px;height:56px;border-radius:50%;cursor:pointer;background:var(--p-color);color:var(--p-on-color);box-shadow:0 4px 14px rgb(0 0 0/.25);transition:transform .15s}
.launcher:hover{transform:scale(1.05)}
.launcher:focus-visible{outline:3px solid var(--p-color);outline-offset:3px}
.launcher svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.launcher .x{display:none}
.launcher[aria-expanded=true] .x{display:block}
.launcher[aria-expanded=true] .ico{display:none}
.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;box-sizing:border-box;border-radius:10px;background:#b91c1c;color:#fff;font:700 12px/20px system-ui,sans-serif;text-align:center}
.badge[hidden]{display:none}
.launcher.pill{width:auto;border-radius:28px;padding:0 20px 0 16px;grid-auto-flow:column;gap:8px}
.label{font:600 15px/1 system-ui,sans-serif;white-space:nowrap}
.label[hidden],.launcher[aria-expanded=true] .label{display:none}
@media (prefers-reduced-motion:reduce){.launcher{transition:none}.launcher:hover{transform:none}}
`;

const SVG = 'http://www.w3.org/2000/svg';

/** The icons a tenant may pick (bot_config.launcher.icon); anything else is the chat bubble. */
const ICONS: Record<string, string> = {
  chat: 'M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z',
  help: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM9.1 9a3 3 0 0 1 5.8 1c0 2-3 3-3 3M12 17h.01',
  mail: 'M3 6h18v12H3zM3 7l9 6 9-6',
  heart: 'M12 20s-7-4.4-7-10a4 4 0 0 1 7-2.6A4 4 0 0 1 19 10c0 5.6-7 10-7 10z',
};

// Built as nodes: a page enforcing Trusted Types refuses any HTML string.
function icon(className: string, d: string): SVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', className);
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

export interface Launcher {
  button: HTMLButtonElement;
  badge: HTMLElement;
}

export function paintLauncher(root: ShadowRoot): Launcher {
  adoptStyles(root, CSS);
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'launcher';
  button.dataset.parley = 'launcher';
  button.setAttribute('aria-haspopup', 'dialog');
  button.setAttribute('aria-expanded', 'false');
  button.append(icon('ico', ICONS.chat as string), icon('x', 'M6 6l12 12M18 6L6 18'));
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.dataset.parley = 'badge';
  badge.setAttribute('aria-hidden', 'true');
  badge.hidden = true;
  const label = document.createElement('span');
  label.className = 'label';
  label.dir = 'auto';
  label.dataset.parley = 'launcher-label';
  label.setAttribute('aria-hidden', 'true');
  label.hidden = true;
  button.append(label, badge);
  root.append(button);
  return { button, badge };
}

const offset = (v: unknown) =>
  typeof v === 'number' && v >= 0 && v <= 200 ? `${Math.round(v)}px` : '';

/**
 * The tenant's launcher options (icon, label, offsets from the corner), checked here whatever
 * the server sent: an unknown icon is the chat bubble, a label is text of at most 40 characters.
 */
export function applyLauncher(element: HTMLElement, button: HTMLButtonElement, value: unknown) {
  const options = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const path = button.querySelector('.ico path');
  path?.setAttribute('d', ICONS[String(options.icon)] ?? (ICONS.chat as string));
  const text = typeof options.label === 'string' ? options.label.trim().slice(0, 40) : '';
  const label = button.querySelector<HTMLElement>('.label');
  if (label) {
    label.textContent = text;
    label.hidden = !text;
  }
  button.classList.toggle('pill', !!text);
  element.style.setProperty('--p-x', offset(options.offset_x));
  element.style.setProperty('--p-y', offset(options.offset_y));
}
