import { describe, expect, it } from 'vitest';
import {
  type CronFields,
  InvalidScheduleError,
  nextCronTime,
  parseSchedule,
} from '../../supabase/local/cron-schedule.ts';

function fields(schedule: string): CronFields {
  const parsed = parseSchedule(schedule);
  if (parsed.kind !== 'cron') throw new Error(`${schedule} is not a cron schedule`);
  return parsed.fields;
}

/** The next `count` run times after `from`, as ISO strings. */
function runs(schedule: string, from: string, count = 3): string[] {
  const f = fields(schedule);
  const out: string[] = [];
  let after = Date.parse(from);
  for (let i = 0; i < count; i++) {
    const next = nextCronTime(f, after);
    if (next === null) break;
    out.push(new Date(next).toISOString());
    after = next;
  }
  return out;
}

describe('five-field schedules (GMT)', () => {
  it('runs at the start of each matching minute, strictly after the given time', () => {
    expect(runs('* * * * *', '2026-03-01T10:00:00.000Z')).toEqual([
      '2026-03-01T10:01:00.000Z',
      '2026-03-01T10:02:00.000Z',
      '2026-03-01T10:03:00.000Z',
    ]);
    expect(runs('* * * * *', '2026-03-01T10:00:59.999Z', 1)).toEqual(['2026-03-01T10:01:00.000Z']);
  });

  it('handles lists, ranges and steps', () => {
    expect(runs('*/20 * * * *', '2026-03-01T10:05:00Z')).toEqual([
      '2026-03-01T10:20:00.000Z',
      '2026-03-01T10:40:00.000Z',
      '2026-03-01T11:00:00.000Z',
    ]);
    expect(runs('5,10-12 8 * * *', '2026-03-01T08:06:00Z', 4)).toEqual([
      '2026-03-01T08:10:00.000Z',
      '2026-03-01T08:11:00.000Z',
      '2026-03-01T08:12:00.000Z',
      '2026-03-02T08:05:00.000Z',
    ]);
    expect(runs('0 0-23/6 * * *', '2026-03-01T00:00:00Z')).toEqual([
      '2026-03-01T06:00:00.000Z',
      '2026-03-01T12:00:00.000Z',
      '2026-03-01T18:00:00.000Z',
    ]);
  });

  it('runs the retention schedule of the migrations daily at 03:17', () => {
    expect(runs('17 3 * * *', '2026-03-01T03:17:00Z', 2)).toEqual([
      '2026-03-02T03:17:00.000Z',
      '2026-03-03T03:17:00.000Z',
    ]);
  });

  it('reads month and weekday names, and 7 as Sunday', () => {
    // 2026-03-01 is a Sunday.
    expect(runs('0 12 * * sun', '2026-03-01T00:00:00Z', 2)).toEqual(
      runs('0 12 * * 7', '2026-03-01T00:00:00Z', 2),
    );
    expect(runs('0 12 * * SUN', '2026-03-01T00:00:00Z', 2)).toEqual([
      '2026-03-01T12:00:00.000Z',
      '2026-03-08T12:00:00.000Z',
    ]);
    expect(runs('0 0 1 jun-aug *', '2026-01-01T00:00:00Z')).toEqual([
      '2026-06-01T00:00:00.000Z',
      '2026-07-01T00:00:00.000Z',
      '2026-08-01T00:00:00.000Z',
    ]);
    expect(runs('0 9 * * mon-fri', '2026-03-06T10:00:00Z', 2)).toEqual([
      '2026-03-09T09:00:00.000Z',
      '2026-03-10T09:00:00.000Z',
    ]);
  });

  it('ORs day of month and day of week unless one of them starts with *', () => {
    // The 13th or any Friday.
    expect(runs('0 0 13 * 5', '2026-03-01T00:00:00Z', 3)).toEqual([
      '2026-03-06T00:00:00.000Z',
      '2026-03-13T00:00:00.000Z',
      '2026-03-20T00:00:00.000Z',
    ]);
    // '*/2' starts with '*': odd days AND Fridays (Vixie cron; a bare-'*' rule would OR them).
    expect(runs('0 0 */2 * 5', '2026-03-01T00:00:00Z', 3)).toEqual([
      '2026-03-13T00:00:00.000Z',
      '2026-03-27T00:00:00.000Z',
      '2026-04-03T00:00:00.000Z',
    ]);
  });

  it("reads '$' as the last day of the month", () => {
    expect(runs('30 23 $ * *', '2026-01-15T00:00:00Z', 4)).toEqual([
      '2026-01-31T23:30:00.000Z',
      '2026-02-28T23:30:00.000Z',
      '2026-03-31T23:30:00.000Z',
      '2026-04-30T23:30:00.000Z',
    ]);
    expect(runs('0 0 $ 2 *', '2027-03-01T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:00.000Z']);
  });

  it('finds rare dates and gives up on impossible ones', () => {
    expect(runs('0 0 29 2 *', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
    expect(nextCronTime(fields('0 0 30 2 *'), Date.parse('2026-01-01T00:00:00Z'))).toBeNull();
    // A reversed range is accepted and selects nothing.
    expect(nextCronTime(fields('30-10 * * * *'), 0)).toBeNull();
  });
});

describe('@keywords', () => {
  it('@daily, @midnight, @hourly, @weekly and @monthly', () => {
    expect(runs('@daily', '2026-03-01T10:00:00Z', 2)).toEqual([
      '2026-03-02T00:00:00.000Z',
      '2026-03-03T00:00:00.000Z',
    ]);
    expect(runs('@midnight', '2026-03-01T10:00:00Z', 1)).toEqual(['2026-03-02T00:00:00.000Z']);
    expect(runs('@hourly', '2026-03-01T10:00:00Z', 2)).toEqual([
      '2026-03-01T11:00:00.000Z',
      '2026-03-01T12:00:00.000Z',
    ]);
    expect(runs('@weekly', '2026-03-02T00:00:00Z', 2)).toEqual([
      '2026-03-08T00:00:00.000Z',
      '2026-03-15T00:00:00.000Z',
    ]);
    expect(runs('@monthly', '2026-03-02T00:00:00Z', 2)).toEqual([
      '2026-04-01T00:00:00.000Z',
      '2026-05-01T00:00:00.000Z',
    ]);
  });

  it('@yearly parses but, as in pg_cron 1.6 (no month is set), never runs', () => {
    expect(nextCronTime(fields('@yearly'), 0)).toBeNull();
    expect(nextCronTime(fields('@annually'), 0)).toBeNull();
  });

  it('@reboot and @restart', () => {
    expect(parseSchedule('@reboot')).toEqual({ kind: 'reboot' });
    expect(parseSchedule('@restart')).toEqual({ kind: 'reboot' });
  });
});

describe("'N seconds'", () => {
  it.each([
    ['1 seconds', 1],
    ['10 seconds', 10],
    ['59 seconds', 59],
    ['2 second', 2],
    ['30 SECONDS', 30],
    ['  5 seconds  ', 5],
    ['10seconds', 10],
  ])('%j is every %i s', (schedule, seconds) => {
    expect(parseSchedule(schedule)).toEqual({ kind: 'interval', seconds });
  });
});

describe('what pg_cron tolerates', () => {
  it('ignores text after the fifth field and junk after an element', () => {
    expect(fields('* * * * * *')).toEqual(fields('* * * * *'));
    expect(fields('1-2-3 * * * *')).toEqual(fields('1-2 * * * *'));
    expect(fields('0 0 * * 5#3')).toEqual(fields('0 0 * * 5'));
    expect(fields('@daily at midnight')).toEqual(fields('@daily'));
  });
});

describe('invalid schedules', () => {
  it.each([
    '',
    '   ',
    '* * * *',
    '61 * * * *',
    '* 24 * * *',
    '* * 0 * *',
    '* * 32 * *',
    '* * * 13 *',
    '* * * * 8',
    '*/0 * * * *',
    '*/60 * * * *',
    '1/20 * * * *',
    '5-70 * * * *',
    '0 0 $,1 * *',
    '* * * febr *',
    'foo bar baz qux quux',
    '@Daily',
    '@dailyx',
    '@every_minute',
    '0 seconds',
    '60 seconds',
    '-5 seconds',
    '10 second ',
    '10 seconds 5',
    '1 minute',
    '0 0 L * *',
    '0 0 15W * *',
    '0 0 ? * *',
  ])('%j', (schedule) => {
    expect(() => parseSchedule(schedule)).toThrow(InvalidScheduleError);
    expect(() => parseSchedule(schedule)).toThrow(`invalid schedule: ${schedule}`);
  });
});
