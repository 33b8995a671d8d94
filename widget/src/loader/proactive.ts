import { adoptStyles } from '../shared/adopt-styles.ts';

// Proactive greetings: a chunk the loader fetches only when the tenant has rules
// (bot_config.proactive). A rule fires on time on the page, a URL pattern, scroll depth, exit
// intent or a returning visitor, and shows its message in a bubble above the launcher; one visitor
// sees a rule at most `times` times every `every_days` days (once a day unless the tenant says
// otherwise), counted in this browser's localStorage. Nothing is sent anywhere.

export interface ProactiveOptions {
  key: string;
  root: ShadowRoot;
  rules: unknown;
  open(): void;
  isOpen(): boolean;
}

export interface ProactiveModule {
  start(options: ProactiveOptions): void;
}

interface Rule {
  id: string;
  trigger: 'time' | 'url' | 'scroll' | 'exit' | 'returning';
  message: string;
  seconds: number;
  pattern: string;
  percent: number;
  times: number;
  days: number;
}

interface Memory {
  /** The day (UTC, as days since the epoch) this browser first saw the widget. */
  first?: number;
  /** Per rule, when it was shown (epoch ms). */
  shown?: Record<string, number[]>;
}

const DAY = 86_400_000;
const TRIGGERS = ['time', 'url', 'scroll', 'exit', 'returning'];

const CSS = `
.greet{position:absolute;bottom:68px;right:0;width:max-content;max-width:min(280px,calc(100vw - 40px));display:flex;align-items:flex-start;gap:4px;background:#fff;color:#111827;border-radius:14px;box-shadow:0 6px 24px rgb(0 0 0/.2);padding:4px;font:15px/1.4 system-ui,sans-serif}
:host([data-position=left]) .greet{right:auto;left:0}
.greet .say{all:unset;cursor:pointer;padding:8px 10px;overflow-wrap:anywhere}
.greet .shut{all:unset;cursor:pointer;width:28px;height:28px;display:grid;place-items:center;border-radius:8px;font-size:18px;color:#4b5563}
.greet :focus-visible{outline:2px solid var(--p-ring,#1d4ed8);outline-offset:1px}
@media (prefers-color-scheme:dark){.greet{background:#1f2937;color:#f9fafb}.greet .shut{color:#d1d5db}.greet :focus-visible{outline-color:var(--p-ring-dark,#93c5fd)}}
`;

const num = (v: unknown, low: number, high: number, fallback: number) =>
  typeof v === 'number' && v >= low && v <= high ? v : fallback;

export function toRules(value: unknown): Rule[] {
  if (!Array.isArray(value)) return [];
  const rules: Rule[] = [];
  for (const [i, r] of value.slice(0, 10).entries()) {
    if (!r || typeof r !== 'object') continue;
    const rule = r as Record<string, unknown>;
    const message = typeof rule.message === 'string' ? rule.message.trim().slice(0, 300) : '';
    if (!message || !TRIGGERS.includes(rule.trigger as string)) continue;
    rules.push({
      id: `${i}:${message.slice(0, 40)}`,
      trigger: rule.trigger as Rule['trigger'],
      message,
      seconds: num(rule.seconds, 1, 3600, 10),
      pattern: typeof rule.pattern === 'string' ? rule.pattern.slice(0, 200) : '',
      percent: num(rule.percent, 1, 100, 50),
      times: num(rule.times, 1, 100, 1),
      days: num(rule.every_days, 1, 365, 1),
    });
  }
  return rules;
}

/** `*` matches anything; everything else is literal, compared with the whole URL. */
export function urlMatches(pattern: string, url: string): boolean {
  const literal = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`, 'i').test(url);
}

export function start({ key, root, rules: raw, open, isOpen }: ProactiveOptions) {
  const rules = toRules(raw);
  const storageKey = `parley:${key}:proactive`;
  let memory: Memory = {};
  try {
    memory = JSON.parse(localStorage.getItem(storageKey) ?? '{}') as Memory;
  } catch {
    // storage blocked or garbled: every visit is a first visit
  }
  const today = Math.floor(Date.now() / DAY);
  const returning = typeof memory.first === 'number' && memory.first < today;
  memory.first = typeof memory.first === 'number' ? memory.first : today;
  const save = () => {
    try {
      localStorage.setItem(storageKey, JSON.stringify(memory));
    } catch {
      // a full or blocked storage only means the cap is counted per page view
    }
  };
  save();

  adoptStyles(root, CSS);
  let bubble: HTMLElement | null = null;
  const hide = () => {
    bubble?.remove();
    bubble = null;
  };
  window.Parley?.on('open', hide);

  const allowed = (rule: Rule) => {
    const recent = (memory.shown?.[rule.id] ?? []).filter((t) => t > Date.now() - rule.days * DAY);
    return recent.length < rule.times;
  };

  const show = (rule: Rule) => {
    if (bubble || isOpen() || !allowed(rule)) return;
    memory.shown ??= {};
    memory.shown[rule.id] = [
      ...(memory.shown[rule.id] ?? []).filter((t) => t > Date.now() - 365 * DAY),
      Date.now(),
    ];
    save();
    bubble = document.createElement('div');
    bubble.className = 'greet';
    bubble.dataset.parley = 'proactive';
    bubble.setAttribute('role', 'status');
    const say = document.createElement('button');
    say.type = 'button';
    say.className = 'say';
    say.dir = 'auto';
    say.dataset.parley = 'proactive-open';
    say.textContent = rule.message;
    say.addEventListener('click', () => {
      hide();
      open();
    });
    const shut = document.createElement('button');
    shut.type = 'button';
    shut.className = 'shut';
    shut.dataset.parley = 'proactive-close';
    shut.setAttribute(
      'aria-label',
      document.documentElement.lang.startsWith('he') ? 'סגירה' : 'Dismiss',
    );
    shut.textContent = '×';
    shut.addEventListener('click', hide);
    bubble.append(say, shut);
    root.append(bubble);
  };

  for (const rule of rules) {
    if (!allowed(rule)) continue;
    switch (rule.trigger) {
      case 'time':
        setTimeout(() => show(rule), rule.seconds * 1000);
        break;
      case 'url':
        if (urlMatches(rule.pattern, location.href)) setTimeout(() => show(rule), 1000);
        break;
      case 'returning':
        if (returning) setTimeout(() => show(rule), 1000);
        break;
      case 'scroll': {
        const onScroll = () => {
          const page = document.documentElement;
          const seen = (scrollY + innerHeight) / Math.max(page.scrollHeight, 1);
          if (seen * 100 < rule.percent) return;
          removeEventListener('scroll', onScroll);
          show(rule);
        };
        addEventListener('scroll', onScroll, { passive: true });
        break;
      }
      case 'exit': {
        // The pointer leaving through the top of the window: towards the tabs or the address bar.
        const onLeave = (event: MouseEvent) => {
          if (event.relatedTarget || event.clientY > 0) return;
          document.removeEventListener('mouseout', onLeave);
          show(rule);
        };
        document.addEventListener('mouseout', onLeave);
        break;
      }
    }
  }
}
