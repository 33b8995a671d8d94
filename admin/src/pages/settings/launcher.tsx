import { useState } from 'preact/hooks';
import type { BotConfig, BotSettings } from '../../data/bot-settings.ts';
import { lcm } from './launcher-messages.ts';
import { Section } from './parts.tsx';

// The widget's launcher (icon, label, offsets) and its proactive greeting rules, saved in
// bot_config; the database checks their shape (tenants_launcher_shape, tenants_proactive_shape)
// and a refusal is shown in words by the section.

const ICONS = ['chat', 'help', 'mail', 'heart'] as const;

interface Props {
  settings: BotSettings;
  readOnly: boolean;
  saveConfig(patch: Partial<BotConfig>): Promise<void>;
}

const asObject = (v: unknown) =>
  (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as Record<string, unknown>;

function offset(text: string): number | undefined {
  if (!text.trim()) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 200) throw new Error(lcm('badOffset'));
  return n;
}

export function LauncherSettings({ settings, readOnly, saveConfig }: Props) {
  const launcher = asObject(settings.bot_config.launcher);
  const [icon, setIcon] = useState(String(launcher.icon ?? 'chat'));
  const [label, setLabel] = useState(typeof launcher.label === 'string' ? launcher.label : '');
  const [x, setX] = useState(launcher.offset_x === undefined ? '' : String(launcher.offset_x));
  const [y, setY] = useState(launcher.offset_y === undefined ? '' : String(launcher.offset_y));
  const rules = settings.bot_config.proactive;
  const [json, setJson] = useState(
    Array.isArray(rules) && rules.length ? JSON.stringify(rules, null, 2) : '',
  );
  const save = () => {
    let proactive: unknown = [];
    if (json.trim()) {
      try {
        proactive = JSON.parse(json);
      } catch (error) {
        throw new Error(lcm('badJson', { reason: (error as Error).message }));
      }
      if (!Array.isArray(proactive)) throw new Error(lcm('notList'));
    }
    const next: Record<string, unknown> = { icon };
    if (label.trim()) next.label = label.trim();
    const ox = offset(x);
    const oy = offset(y);
    if (ox !== undefined) next.offset_x = ox;
    if (oy !== undefined) next.offset_y = oy;
    return saveConfig({ launcher: next, proactive });
  };
  return (
    <Section id="launcher" title={lcm('title')} readOnly={readOnly} onSave={save}>
      <label>
        {lcm('icon')}
        <select name="launcher-icon" value={icon} onChange={(e) => setIcon(e.currentTarget.value)}>
          {ICONS.map((i) => (
            <option key={i} value={i}>
              {lcm(`icon_${i}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {lcm('label')}
        <input
          name="launcher-label"
          maxLength={40}
          value={label}
          onInput={(e) => setLabel(e.currentTarget.value)}
        />
      </label>
      <label>
        {lcm('offsetX')}
        <input
          name="launcher-offset-x"
          type="number"
          inputMode="numeric"
          min={0}
          max={200}
          value={x}
          onInput={(e) => setX(e.currentTarget.value)}
        />
      </label>
      <label>
        {lcm('offsetY')}
        <input
          name="launcher-offset-y"
          type="number"
          inputMode="numeric"
          min={0}
          max={200}
          value={y}
          onInput={(e) => setY(e.currentTarget.value)}
        />
      </label>
      <label>
        {lcm('rules')}
        <textarea
          name="proactive-rules"
          dir="ltr"
          rows={6}
          value={json}
          onInput={(e) => setJson(e.currentTarget.value)}
        />
      </label>
    </Section>
  );
}
