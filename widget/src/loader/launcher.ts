import { adoptStyles } from '../shared/adopt-styles.ts';

// The part painted at once: the host's reset, its placement and the launcher bubble. Everything
// lives in the shadow root, so neither the page's CSS nor ours crosses the boundary.

const CSS = `
:host{all:initial!important;position:fixed!important;z-index:2147483000!important;bottom:20px!important;right:20px!important;left:auto!important;top:auto!important;display:block!important;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif!important;color-scheme:light dark!important;direction:ltr!important}
:host([data-position=left]){left:20px!important;right:auto!important}
.launcher{all:unset;box-sizing:border-box;display:grid;place-items:center;position:relative;width:56px;height:56px;border-radius:50%;cursor:pointer;background:var(--p-color);color:var(--p-on-color);box-shadow:0 4px 14px rgb(0 0 0/.25);transition:transform .15s}
.launcher:hover{transform:scale(1.05)}
.launcher:focus-visible{outline:3px solid var(--p-color);outline-offset:3px}
.launcher svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.launcher .x{display:none}
.launcher[aria-expanded=true] .x{display:block}
.launcher[aria-expanded=true] .ico{display:none}
.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;box-sizing:border-box;border-radius:10px;background:#b91c1c;color:#fff;font:700 12px/20px system-ui,sans-serif;text-align:center}
.badge[hidden]{display:none}
@media (prefers-reduced-motion:reduce){.launcher{transition:none}.launcher:hover{transform:none}}
`;

const SVG = 'http://www.w3.org/2000/svg';

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
  button.append(
    icon('ico', 'M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z'),
    icon('x', 'M6 6l12 12M18 6L6 18'),
  );
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.dataset.parley = 'badge';
  badge.setAttribute('aria-hidden', 'true');
  badge.hidden = true;
  button.append(badge);
  root.append(button);
  return { button, badge };
}
