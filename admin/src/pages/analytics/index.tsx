import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  type ActivityDay,
  type AgentFigures,
  addDays,
  dayIn,
  loadDaily,
  loadTimeZone,
  type Range,
  type SupportDay,
  saveTimeZone,
  timeZones,
} from '../../data/analytics.ts';
import { problem } from '../../data/client.ts';
import { currentMembership } from '../../data/tenants.ts';
import { locale } from '../../i18n/index.ts';
import type { PageProps } from '../types.ts';
import { Chart, type ChartSeries } from './chart.tsx';
import { History } from './history.tsx';
import { m } from './messages.ts';

// The analytics page: the tenant's activity and support figures per day over a range of days in
// the tenant's own time zone, each chart with its numbers as text and as a table, and the
// conversation history with its filters and CSV export.

type Preset = '7' | '30' | '90' | 'custom';

interface Daily {
  activity: ActivityDay[];
  support: SupportDay[];
  agents: AgentFigures[];
}

const sum = (values: (number | null | undefined)[]) =>
  values.reduce<number>((a, v) => a + (v ?? 0), 0);
const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);

export const fmt = {
  int: (v: number) => new Intl.NumberFormat(locale.value).format(v),
  percent: (v: number) =>
    new Intl.NumberFormat(locale.value, { style: 'percent', maximumFractionDigits: 1 }).format(v),
  score: (v: number) => new Intl.NumberFormat(locale.value, { maximumFractionDigits: 2 }).format(v),
  usd: (v: number) =>
    new Intl.NumberFormat(locale.value, {
      style: 'currency',
      currency: 'USD',
      maximumFractionDigits: v > 0 && v < 1 ? 4 : 2,
    }).format(v),
  duration: (seconds: number) => {
    const unit = (value: number, u: 'second' | 'minute' | 'hour') =>
      new Intl.NumberFormat(locale.value, {
        style: 'unit',
        unit: u,
        unitDisplay: 'narrow',
        maximumFractionDigits: 1,
      }).format(value);
    if (seconds < 90) return unit(Math.round(seconds), 'second');
    if (seconds < 5400) return unit(seconds / 60, 'minute');
    return unit(seconds / 3600, 'hour');
  },
  day: (day: string) =>
    new Intl.DateTimeFormat(locale.value, {
      day: 'numeric',
      month: 'short',
      timeZone: 'UTC',
    }).format(new Date(`${day}T00:00:00Z`)),
};

interface ChartDefinition {
  id: string;
  title: string;
  series: ChartSeries[];
  format: (v: number) => string;
  text: string;
}

function busiest(days: string[], values: number[]): string {
  let at = -1;
  values.forEach((v, i) => {
    if (v > 0 && (at === -1 || v > (values[at] ?? 0))) at = i;
  });
  const day = days[at];
  return day ? ` ${m('busiest', { day: fmt.day(day), value: fmt.int(values[at] ?? 0) })}` : '';
}

function charts(data: Daily): ChartDefinition[] {
  const { activity: a, support: s } = data;
  const days = a.map((d) => d.day);
  const conversations = sum(a.map((d) => d.conversations));
  const botOnly = sum(a.map((d) => d.bot_only));
  const handoffs = sum(s.map((d) => d.handoffs));
  const ratings = sum(s.map((d) => d.csat_count));
  const csat = ratio(sum(s.map((d) => (d.csat_average ?? 0) * d.csat_count)), ratings);
  const calls = sum(a.map((d) => d.tool_calls));
  const successes = sum(a.map((d) => d.tool_successes));
  const pct = (v: number | null) => (v === null ? m('none') : fmt.percent(v));
  let slowest = -1;
  s.forEach((d, i) => {
    const v = d.first_response_p90_seconds;
    if (v !== null && (slowest === -1 || v > (s[slowest]?.first_response_p90_seconds ?? 0)))
      slowest = i;
  });
  const slow = s[slowest];
  return [
    {
      id: 'conversations',
      title: m('conversations'),
      series: [
        { label: m('conversations'), values: a.map((d) => d.conversations), color: '--chart-1' },
        { label: m('botOnly'), values: a.map((d) => d.bot_only), color: '--chart-2' },
      ],
      format: fmt.int,
      text:
        m('total', { value: fmt.int(conversations) }) +
        busiest(
          days,
          a.map((d) => d.conversations),
        ),
    },
    {
      id: 'messages',
      title: m('messages'),
      series: [
        { label: m('fromVisitors'), values: a.map((d) => d.user_messages), color: '--chart-1' },
        { label: m('fromBot'), values: a.map((d) => d.bot_messages), color: '--chart-2' },
        { label: m('fromTeam'), values: a.map((d) => d.agent_messages), color: '--chart-3' },
      ],
      format: fmt.int,
      text: m('total', {
        value: fmt.int(sum(a.map((d) => d.user_messages + d.bot_messages + d.agent_messages))),
      }),
    },
    {
      id: 'rates',
      title: m('rates'),
      series: [
        { label: m('deflection'), values: a.map((d) => d.deflection_rate), color: '--chart-2' },
        { label: m('handoffRate'), values: s.map((d) => d.handoff_rate), color: '--chart-3' },
      ],
      format: fmt.percent,
      text: `${m('deflection')}: ${pct(ratio(botOnly, conversations))}. ${m('handoffRate')}: ${pct(ratio(handoffs, conversations))}.`,
    },
    {
      id: 'csat',
      title: m('csat'),
      series: [{ label: m('csat'), values: s.map((d) => d.csat_average), color: '--chart-1' }],
      format: fmt.score,
      text:
        csat === null
          ? m('noRatings')
          : m('overall', { value: m('csatOf', { average: fmt.score(csat), count: ratings }) }),
    },
    {
      id: 'first-response',
      title: m('firstResponse'),
      series: [
        {
          label: m('firstResponseMean'),
          values: s.map((d) => d.first_response_seconds),
          color: '--chart-1',
        },
        {
          label: m('firstResponseP90'),
          values: s.map((d) => d.first_response_p90_seconds),
          color: '--chart-3',
        },
      ],
      format: fmt.duration,
      text: slow
        ? m('slowestP90', {
            value: fmt.duration(slow.first_response_p90_seconds ?? 0),
            day: fmt.day(slow.day),
          })
        : m('noResponses'),
    },
    {
      id: 'tokens',
      title: m('tokens'),
      series: [
        { label: m('tokensIn'), values: a.map((d) => d.tokens_in), color: '--chart-1' },
        { label: m('tokensOut'), values: a.map((d) => d.tokens_out), color: '--chart-2' },
      ],
      format: fmt.int,
      text: m('total', { value: fmt.int(sum(a.map((d) => d.tokens_in + d.tokens_out))) }),
    },
    {
      id: 'cost',
      title: m('cost'),
      series: [{ label: m('cost'), values: a.map((d) => d.cost_usd), color: '--chart-3' }],
      format: fmt.usd,
      text: m('total', { value: fmt.usd(sum(a.map((d) => d.cost_usd))) }),
    },
    {
      id: 'tools',
      title: m('toolSuccess'),
      series: [
        { label: m('toolSuccess'), values: a.map((d) => d.tool_success_rate), color: '--chart-2' },
      ],
      format: fmt.percent,
      text:
        calls === 0
          ? m('noTools')
          : m('overall', {
              value: m('toolsOf', { rate: pct(ratio(successes, calls)), calls: fmt.int(calls) }),
            }),
    },
  ];
}

function Tiles({ data }: { data: Daily }) {
  const { activity: a, support: s } = data;
  const conversations = sum(a.map((d) => d.conversations));
  const ratings = sum(s.map((d) => d.csat_count));
  const csat = ratio(sum(s.map((d) => (d.csat_average ?? 0) * d.csat_count)), ratings);
  const calls = sum(a.map((d) => d.tool_calls));
  const rate = (v: number | null) => (v === null ? m('none') : fmt.percent(v));
  const tiles: [string, string, string][] = [
    ['conversations', m('conversations'), fmt.int(conversations)],
    ['deflection', m('deflection'), rate(ratio(sum(a.map((d) => d.bot_only)), conversations))],
    ['handoff', m('handoffRate'), rate(ratio(sum(s.map((d) => d.handoffs)), conversations))],
    [
      'csat',
      m('csat'),
      csat === null ? m('noRatings') : m('csatOf', { average: fmt.score(csat), count: ratings }),
    ],
    ['tokens', m('tokens'), fmt.int(sum(a.map((d) => d.tokens_in + d.tokens_out)))],
    ['cost', m('cost'), fmt.usd(sum(a.map((d) => d.cost_usd)))],
    [
      'tools',
      m('toolSuccess'),
      calls === 0
        ? m('noTools')
        : m('toolsOf', {
            rate: rate(ratio(sum(a.map((d) => d.tool_successes)), calls)),
            calls: fmt.int(calls),
          }),
    ],
  ];
  return (
    <section aria-label={m('summary')}>
      <dl class="tiles" data-admin="analytics-tiles">
        {tiles.map(([id, label, value]) => (
          <div key={id} class="tile" data-tile={id}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Figure({ chart, days }: { chart: ChartDefinition; days: string[] }) {
  const headingId = `chart-${chart.id}`;
  return (
    <figure class="chart" data-chart={chart.id} aria-labelledby={headingId}>
      <h2 id={headingId}>{chart.title}</h2>
      <ul class="legend" aria-hidden="true">
        {chart.series.map((s) => (
          <li key={s.label}>
            <span class="swatch" style={{ background: `var(${s.color})` }} />
            {s.label}
          </li>
        ))}
      </ul>
      <Chart days={days} series={chart.series} format={chart.format} />
      <figcaption data-admin="chart-text">{chart.text}</figcaption>
      <details>
        <summary>{m('showTable')}</summary>
        <div class="table-scroll">
          <table data-admin="chart-table">
            <caption class="visually-hidden">{chart.title}</caption>
            <thead>
              <tr>
                <th scope="col">{m('day')}</th>
                {chart.series.map((s) => (
                  <th scope="col" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {days.map((day, i) => (
                <tr key={day} data-day={day}>
                  <th scope="row">{fmt.day(day)}</th>
                  {chart.series.map((s) => {
                    const v = s.values[i];
                    return (
                      <td key={s.label}>
                        {v === null || v === undefined ? m('none') : chart.format(v)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

function ByAgent({ agents }: { agents: AgentFigures[] }) {
  const maybe = (v: number | null, f: (n: number) => string) => (v === null ? m('none') : f(v));
  return (
    <section class="by-agent" aria-labelledby="by-agent-title">
      <h2 id="by-agent-title">{m('byAgent')}</h2>
      {agents.length === 0 ? (
        <p class="muted">{m('noAgents')}</p>
      ) : (
        <div class="table-scroll">
          <table data-admin="by-agent">
            <thead>
              <tr>
                <th scope="col">{m('assignee')}</th>
                <th scope="col">{m('conversations')}</th>
                <th scope="col">{m('firstResponse')}</th>
                <th scope="col">{m('statusResolved')}</th>
                <th scope="col">{m('resolutionTime')}</th>
                <th scope="col">{m('csat')}</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((a) => (
                <tr key={a.agent_id} data-agent={a.agent_id}>
                  <th scope="row">{a.display_name ?? a.agent_id.slice(0, 8)}</th>
                  <td>{fmt.int(a.conversations)}</td>
                  <td>{maybe(a.first_response_seconds, fmt.duration)}</td>
                  <td>{fmt.int(a.resolved)}</td>
                  <td>{maybe(a.resolution_seconds, fmt.duration)}</td>
                  <td>
                    {a.csat_average === null
                      ? m('noRatings')
                      : m('csatOf', { average: fmt.score(a.csat_average), count: a.csat_count })}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** The tenant's time zone: owners and admins change it here; operators only see it. */
function ZonePicker({
  tenantId,
  zone,
  onSaved,
}: {
  tenantId: string;
  zone: string;
  onSaved: (zone: string) => void;
}) {
  const [choice, setChoice] = useState(zone);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const zones = useMemo(() => timeZones(zone), [zone]);
  const role = currentMembership.value?.role;
  if (role !== 'owner' && role !== 'admin') {
    return <p class="muted">{m('zoneNote', { zone })}</p>;
  }
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setStatus(null);
    try {
      await saveTimeZone(tenantId, choice);
      setStatus({ ok: true, text: m('zoneSaved', { zone: choice }) });
      onSaved(choice);
    } catch (error) {
      setStatus({ ok: false, text: m('zoneFailed', { reason: problem(error) }) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="zone-picker" data-admin="time-zone-form" onSubmit={save}>
      <label>
        {m('zoneLabel')}
        <select
          data-admin="time-zone"
          value={choice}
          onChange={(e) => setChoice((e.currentTarget as HTMLSelectElement).value)}
        >
          {zones.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" data-admin="time-zone-save" disabled={busy || choice === zone}>
        {m('zoneSave')}
      </button>
      {status && (
        <p
          class={status.ok ? 'muted' : 'error'}
          role={status.ok ? 'status' : 'alert'}
          data-admin="time-zone-status"
        >
          {status.text}
        </p>
      )}
    </form>
  );
}

export default function AnalyticsPage({ tenantId }: PageProps) {
  const [timeZone, setTimeZone] = useState<string | null>(null);
  const [preset, setPreset] = useState<Preset>('30');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [data, setData] = useState<Daily | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    loadTimeZone(tenantId)
      .then((zone) => {
        if (!live) return;
        const today = dayIn(zone);
        setTimeZone(zone);
        setTo(today);
        setFrom(addDays(today, -29));
      })
      .catch((e) => live && setError(m('loadFailed', { reason: problem(e) })));
    return () => {
      live = false;
    };
  }, [tenantId]);

  const choose = (next: Preset) => {
    setPreset(next);
    if (next !== 'custom' && timeZone) {
      const today = dayIn(timeZone);
      setTo(today);
      setFrom(addDays(today, 1 - Number(next)));
    }
  };

  const valid =
    /^\d{4}-\d{2}-\d{2}$/.test(from) &&
    /^\d{4}-\d{2}-\d{2}$/.test(to) &&
    from <= to &&
    addDays(from, 366) >= to;
  const range = useMemo<Range | null>(
    () => (timeZone && valid ? { from, to, timeZone } : null),
    [timeZone, from, to, valid],
  );

  useEffect(() => {
    if (!range) return;
    let live = true;
    setError(null);
    loadDaily(tenantId, range)
      .then((d) => live && setData(d))
      .catch((e) => live && setError(m('loadFailed', { reason: problem(e) })));
    return () => {
      live = false;
    };
  }, [tenantId, range]);

  const days = useMemo(() => data?.activity.map((d) => d.day) ?? [], [data]);
  const defs = useMemo(() => (data ? charts(data) : []), [data, locale.value]);

  return (
    <div class="analytics" data-admin="analytics">
      <h1>{m('title')}</h1>
      <form class="range" aria-label={m('range')} onSubmit={(e) => e.preventDefault()}>
        <label>
          {m('range')}
          <select
            data-admin="range-preset"
            value={preset}
            onChange={(e) => choose((e.currentTarget as HTMLSelectElement).value as Preset)}
          >
            <option value="7">{m('last7')}</option>
            <option value="30">{m('last30')}</option>
            <option value="90">{m('last90')}</option>
            <option value="custom">{m('custom')}</option>
          </select>
        </label>
        <label>
          {m('from')}
          <input
            type="date"
            data-admin="range-from"
            value={from}
            onChange={(e) => {
              setPreset('custom');
              setFrom((e.currentTarget as HTMLInputElement).value);
            }}
          />
        </label>
        <label>
          {m('to')}
          <input
            type="date"
            data-admin="range-to"
            value={to}
            onChange={(e) => {
              setPreset('custom');
              setTo((e.currentTarget as HTMLInputElement).value);
            }}
          />
        </label>
      </form>
      {timeZone && (
        <ZonePicker
          tenantId={tenantId}
          zone={timeZone}
          onSaved={(zone) => {
            // The same preset, counted in the new zone's days.
            setTimeZone(zone);
            if (preset !== 'custom') {
              const today = dayIn(zone);
              setTo(today);
              setFrom(addDays(today, 1 - Number(preset)));
            }
          }}
        />
      )}
      {timeZone && !valid && (
        <p class="error" role="alert">
          {m('badRange')}
        </p>
      )}
      {error && (
        <p class="error" role="alert" data-admin="analytics-error">
          {error}
        </p>
      )}
      {data && (
        <>
          <Tiles data={data} />
          <div class="charts">
            {defs.map((chart) => (
              <Figure key={chart.id} chart={chart} days={days} />
            ))}
          </div>
          <ByAgent agents={data.agents} />
        </>
      )}
      {range && <History tenantId={tenantId} range={range} />}
    </div>
  );
}
