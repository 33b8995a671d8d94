import { useEffect, useState } from 'preact/hooks';
import { must, problem, supabase } from '../../data/client.ts';
import { lm } from './live-chat-messages.ts';
import { Section } from './parts.tsx';

// The tenant's live-chat settings (docs/admin.md, "Presence and routing", "Handoff triggers",
// "Business hours"): written to the tenants row under RLS, so only owners and admins can save,
// and checked again by the database's constraints.

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
type Day = (typeof DAYS)[number];
type Hours = Partial<Record<Day, [string, string][]>> & { holidays?: string[] };

interface LiveSettings {
  auto_assign: boolean;
  max_open_per_agent: number;
  time_zone: string;
  business_hours: Hours | null;
  handoff_rules: {
    keywords?: string[] | Record<string, string[]> | null;
    low_confidence?: number | null;
    repeated_question?: boolean | null;
  };
}

const COLUMNS = 'auto_assign, max_open_per_agent, time_zone, business_hours, handoff_rules';

const value = (form: HTMLFormElement, name: string) =>
  (form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '';
const checked = (form: HTMLFormElement, name: string) =>
  (form.elements.namedItem(name) as HTMLInputElement | null)?.checked ?? false;
const nonEmpty = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** "en: refund, speak to a manager" lines into {en: [...]}; the line in error otherwise. */
export function parseKeywords(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of nonEmpty(text)) {
    const match = /^([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)\s*:(.*)$/.exec(line);
    if (!match) throw new Error(lm('badKeywords', { line }));
    const words = (match[2] ?? '')
      .split(',')
      .map((w) => w.trim())
      .filter(Boolean);
    if (words.length) out[match[1] as string] = [...(out[match[1] as string] ?? []), ...words];
  }
  return out;
}

function keywordLines(keywords: LiveSettings['handoff_rules']['keywords']): string {
  if (!keywords) return '';
  if (Array.isArray(keywords)) return `en: ${keywords.join(', ')}`;
  return Object.entries(keywords)
    .map(([lang, words]) => `${lang}: ${words.join(', ')}`)
    .join('\n');
}

export function LiveChatSettings({ tenantId, readOnly }: { tenantId: string; readOnly: boolean }) {
  const [settings, setSettings] = useState<LiveSettings | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [staffed, setStaffed] = useState(false);
  const db = supabase();

  const load = async () => {
    const row = must(
      await db.from('tenants').select(COLUMNS).eq('id', tenantId).single(),
    ) as LiveSettings;
    setSettings(row);
    setStaffed(row.business_hours !== null);
  };
  useEffect(() => {
    load().catch((e) => setFailed(problem(e)));
  }, [tenantId]);
  const save = async (patch: Partial<LiveSettings>) => {
    // Counted, not returned: some of the row's columns are not the caller's to read back.
    const result = await db.from('tenants').update(patch, { count: 'exact' }).eq('id', tenantId);
    if (result.error) throw result.error;
    if (result.count === 0) throw new Error(lm('refused'));
    await load();
  };

  if (failed)
    return (
      <p class="error" role="alert">
        {failed}
      </p>
    );
  if (!settings) return null;
  const hours = settings.business_hours ?? {};
  const rules = settings.handoff_rules ?? {};
  const formOf = (id: string) =>
    document.querySelector<HTMLFormElement>(`[data-admin="section-${id}"] form`) as HTMLFormElement;

  return (
    <>
      <Section
        id="routing"
        title={lm('routing')}
        readOnly={readOnly}
        onSave={() => {
          const form = formOf('routing');
          return save({
            auto_assign: checked(form, 'auto_assign'),
            max_open_per_agent: Number(value(form, 'max_open_per_agent')),
          });
        }}
      >
        <label class="choice">
          <input type="checkbox" name="auto_assign" defaultChecked={settings.auto_assign} />
          {lm('autoAssign')}
        </label>
        <label>
          {lm('cap')}
          <input
            type="number"
            name="max_open_per_agent"
            min={1}
            max={200}
            required
            defaultValue={String(settings.max_open_per_agent)}
            data-admin="routing-cap"
          />
        </label>
      </Section>

      <Section
        id="hours"
        title={lm('hours')}
        readOnly={readOnly}
        onSave={() => {
          const form = formOf('hours');
          if (!checked(form, 'staffed')) {
            return save({ business_hours: null, time_zone: value(form, 'time_zone').trim() });
          }
          const next: Hours = {};
          for (const day of DAYS) {
            if (!checked(form, `${day}-open`)) continue;
            const from = value(form, `${day}-from`);
            const to = value(form, `${day}-to`) || '24:00';
            if (!from || (to !== '24:00' && from >= to)) {
              throw new Error(lm('badTimes', { day: lm(day) }));
            }
            next[day] = [[from, to === '00:00' ? '24:00' : to]];
          }
          const holidays = nonEmpty(value(form, 'holidays'));
          for (const line of holidays) {
            if (!/^\d{4}-\d{2}-\d{2}$/.test(line)) throw new Error(lm('badDate', { line }));
          }
          next.holidays = holidays;
          return save({ business_hours: next, time_zone: value(form, 'time_zone').trim() });
        }}
      >
        <label>
          {lm('timeZone')}
          <input
            name="time_zone"
            required
            defaultValue={settings.time_zone}
            autocomplete="off"
            dir="ltr"
          />
        </label>
        <label class="choice">
          <input
            type="checkbox"
            name="staffed"
            checked={staffed}
            onChange={(e) => setStaffed((e.currentTarget as HTMLInputElement).checked)}
            data-admin="hours-on"
          />
          {lm('hoursOn')}
        </label>
        {staffed && (
          <>
            <table class="hours">
              <thead>
                <tr>
                  <th scope="col">{lm('day')}</th>
                  <th scope="col">{lm('open')}</th>
                  <th scope="col">{lm('from')}</th>
                  <th scope="col">{lm('to')}</th>
                </tr>
              </thead>
              <tbody>
                {DAYS.map((day) => {
                  const slot = hours[day]?.[0];
                  return (
                    <tr key={day}>
                      <th scope="row">{lm(day)}</th>
                      <td>
                        <input
                          type="checkbox"
                          name={`${day}-open`}
                          aria-label={`${lm(day)}: ${lm('open')}`}
                          defaultChecked={!!slot}
                        />
                      </td>
                      <td>
                        <input
                          type="time"
                          name={`${day}-from`}
                          aria-label={`${lm(day)}: ${lm('from')}`}
                          defaultValue={slot?.[0] ?? '09:00'}
                        />
                      </td>
                      <td>
                        <input
                          type="time"
                          name={`${day}-to`}
                          aria-label={`${lm(day)}: ${lm('to')}`}
                          defaultValue={slot?.[1] === '24:00' ? '00:00' : (slot?.[1] ?? '17:00')}
                        />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <label>
              {lm('holidays')}
              <textarea
                name="holidays"
                rows={3}
                dir="ltr"
                defaultValue={(hours.holidays ?? []).join('\n')}
              />
            </label>
          </>
        )}
      </Section>

      <Section
        id="triggers"
        title={lm('triggers')}
        readOnly={readOnly}
        onSave={() => {
          const form = formOf('triggers');
          const floor = value(form, 'low_confidence').trim();
          const keywords = parseKeywords(value(form, 'keywords'));
          return save({
            handoff_rules: {
              ...(Object.keys(keywords).length ? { keywords } : {}),
              ...(floor ? { low_confidence: Number(floor) } : {}),
              repeated_question: checked(form, 'repeated_question'),
            },
          });
        }}
      >
        <label>
          {lm('keywords')}
          <textarea
            name="keywords"
            rows={3}
            defaultValue={keywordLines(rules.keywords)}
            data-admin="handoff-keywords"
          />
        </label>
        <label>
          {lm('lowConfidence')}
          <input
            type="number"
            name="low_confidence"
            min={0}
            max={1}
            step={0.05}
            defaultValue={rules.low_confidence == null ? '' : String(rules.low_confidence)}
          />
        </label>
        <label class="choice">
          <input
            type="checkbox"
            name="repeated_question"
            defaultChecked={rules.repeated_question === true}
          />
          {lm('repeated')}
        </label>
      </Section>
    </>
  );
}
