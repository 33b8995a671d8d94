// pg_cron 1.6's schedule language and its run times, in GMT like pg_cron's default cron.timezone.
//
// The cron form is a port of pg_cron's own parser (src/entry.c, Paul Vixie's crontab parser)
// rather than a general cron library, because its quirks are the contract: a day field that
// merely starts with '*' (as in '*/2') counts as a wildcard when day-of-month and day-of-week are
// combined; a field may carry trailing junk after a valid element ('5!') and anything after the
// fifth field is ignored, both leftovers of parsing crontab lines where the command follows; and
// L, W, #, ? and six-field schedules are not part of the language.

export interface CronFields {
  /** minute[0..59], hour[0..23], day[1..31], month[1..12], weekday[0..7] (0 and 7 are Sunday). */
  minute: boolean[];
  hour: boolean[];
  day: boolean[];
  month: boolean[];
  weekday: boolean[];
  /** The day-of-month / day-of-week field began with '*'. Either one makes the days AND, not OR. */
  dayStar: boolean;
  weekdayStar: boolean;
  /** '$' as day of month: the last day of the month. */
  lastDay: boolean;
}

export type Schedule =
  | { kind: 'cron'; fields: CronFields }
  | { kind: 'interval'; seconds: number }
  /** '@reboot': once when the scheduler starts. */
  | { kind: 'reboot' };

export class InvalidScheduleError extends Error {
  override readonly name = 'InvalidScheduleError';
  constructor(readonly schedule: string) {
    super(`invalid schedule: ${schedule}`);
  }
}

/** Parses a schedule as pg_cron does: cron first, then '[1-59] seconds'. */
export function parseSchedule(text: string): Schedule {
  const cron = parseCronEntry(text);
  if (cron) return cron;
  const seconds = parseInterval(text);
  if (seconds !== null) return { kind: 'interval', seconds };
  throw new InvalidScheduleError(text);
}

// pg_cron reads it with sscanf(lower(text), " %u secon%c%c %c"): the space before "second" is
// optional, and a trailing blank is allowed after "seconds" but not after "second".
function parseInterval(text: string): number | null {
  const match = /^\s*\+?(\d+)\s*second(?:s\s*)?$/.exec(text.toLowerCase());
  if (!match) return null;
  const seconds = Number(match[1]);
  return seconds >= 1 && seconds <= 59 ? seconds : null;
}

// ------------------------------------------------------------------------------------------------
// The crontab parser. C's get_char() yields '\0' once at the end of the buffer, then EOF.

const EOF = null;
type Ch = string | null;

const MONTH_NAMES = [
  'jan',
  'feb',
  'mar',
  'apr',
  'may',
  'jun',
  'jul',
  'aug',
  'sep',
  'oct',
  'nov',
  'dec',
];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

class Reader {
  private position = 0;
  private readonly pushedBack: Ch[] = [];
  constructor(private readonly text: string) {}

  next(): Ch {
    if (this.pushedBack.length > 0) return this.pushedBack.pop() ?? EOF;
    if (this.position < this.text.length) return this.text[this.position++] ?? EOF;
    if (this.position++ === this.text.length) return '\0';
    return EOF;
  }

  pushBack(ch: Ch) {
    this.pushedBack.push(ch);
  }
}

const isBlank = (ch: Ch) => ch === ' ' || ch === '\t';
const isAlnum = (ch: Ch) => ch !== EOF && /^[A-Za-z0-9]$/.test(ch);

function skipBlanks(ch: Ch, r: Reader): Ch {
  while (isBlank(ch)) ch = r.next();
  return ch;
}

function skipNonBlanks(ch: Ch, r: Reader): Ch {
  while (ch !== EOF && ch !== ' ' && ch !== '\t' && ch !== '\n' && ch !== '\0') ch = r.next();
  return ch;
}

// Leading blank lines and '#' comment lines are skipped, as in a crontab file.
function skipComments(r: Reader) {
  let ch: Ch = r.next();
  while (ch !== EOF) {
    ch = skipBlanks(ch, r);
    if (ch === EOF) break;
    if (ch !== '\n' && ch !== '#') break;
    while (ch !== '\n' && ch !== EOF) ch = r.next();
    ch = r.next();
  }
  if (ch !== EOF) r.pushBack(ch);
}

const bits = (size: number) => new Array<boolean>(size).fill(false);

function setRange(field: boolean[], low: number, from: number, to: number, step = 1) {
  for (let n = from; n <= to; n += step) field[n - low] = true;
}

type Parsed = { value: number; ch: Ch } | null;

function getNumber(low: number, names: string[] | null, ch: Ch, r: Reader): Parsed {
  let text = '';
  while (isAlnum(ch)) {
    text += ch;
    ch = r.next();
  }
  if (text === '') return null;
  const named = names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return { value: named + low, ch };
  return /^\d+$/.test(text) ? { value: Number(text), ch } : null;
}

// range = number | number "-" number ["/" number] | "*" ["/" number]
function getRange(
  field: boolean[],
  low: number,
  high: number,
  names: string[] | null,
  ch: Ch,
  r: Reader,
): Ch | undefined {
  let from: number;
  let to: number;
  if (ch === '*') {
    from = low;
    to = high;
    ch = r.next();
    if (ch === EOF) return undefined;
  } else {
    const first = getNumber(low, names, ch, r);
    if (!first) return undefined;
    ch = first.ch;
    from = first.value;
    if (ch !== '-') {
      // A step needs a range: '1/20' is refused.
      if (ch === '/' || from < low || from > high) return undefined;
      field[from - low] = true;
      return ch;
    }
    const second = getNumber(low, names, r.next(), r);
    if (!second) return undefined;
    ch = second.ch;
    to = second.value;
  }
  let step = 1;
  if (ch === '/') {
    const parsed = getNumber(0, null, r.next(), r);
    if (!parsed || parsed.value <= 0) return undefined;
    ch = parsed.ch;
    step = parsed.value;
  }
  if (from < low || from > high || to < low || to > high || step > high) return undefined;
  // A reversed range ('30-10') is accepted and selects nothing.
  setRange(field, low, from, to, step);
  return ch;
}

function getList(
  field: boolean[],
  low: number,
  high: number,
  names: string[] | null,
  ch: Ch,
  r: Reader,
): Ch | undefined {
  for (;;) {
    const next = getRange(field, low, high, names, ch, r);
    if (next === undefined) return undefined;
    if (next !== ',') {
      ch = next;
      break;
    }
    ch = r.next();
  }
  return skipBlanks(skipNonBlanks(ch, r), r);
}

function emptyFields(): CronFields {
  return {
    minute: bits(60),
    hour: bits(24),
    day: bits(31),
    month: bits(12),
    weekday: bits(8),
    dayStar: false,
    weekdayStar: false,
    lastDay: false,
  };
}

function keyword(name: string): Schedule | null {
  if (name === 'reboot' || name === 'restart') return { kind: 'reboot' };
  const f = emptyFields();
  f.minute[0] = true;
  switch (name) {
    case 'yearly':
    case 'annually':
      // pg_cron sets the month with FIRST_MINUTE (0), which is out of range, so no month is set
      // and '@yearly' never runs there. Kept, so that it does not run here either.
      f.hour[0] = true;
      f.day[0] = true;
      f.weekday.fill(true);
      f.weekdayStar = true;
      break;
    case 'monthly':
      f.hour[0] = true;
      f.day[0] = true;
      f.month.fill(true);
      f.weekday.fill(true);
      f.weekdayStar = true;
      break;
    case 'weekly':
      f.hour[0] = true;
      f.day.fill(true);
      f.month.fill(true);
      f.weekday[0] = true;
      f.weekday[7] = true;
      f.weekdayStar = true;
      break;
    case 'daily':
    case 'midnight':
      f.hour[0] = true;
      f.day.fill(true);
      f.month.fill(true);
      f.weekday.fill(true);
      break;
    case 'hourly':
      f.hour.fill(true);
      f.day.fill(true);
      f.month.fill(true);
      f.weekday.fill(true);
      break;
    default:
      return null;
  }
  return { kind: 'cron', fields: f };
}

function parseCronEntry(text: string): Schedule | null {
  const r = new Reader(text);
  skipComments(r);
  let ch: Ch | undefined = r.next();
  if (ch === EOF) return null;

  if (ch === '@') {
    let name = '';
    for (ch = r.next(); ch !== EOF && !' \t\n\0'.includes(ch); ch = r.next()) name += ch;
    return keyword(name);
  }

  const f = emptyFields();
  ch = getList(f.minute, 0, 59, null, ch, r);
  if (ch === undefined || ch === EOF) return null;
  ch = getList(f.hour, 0, 23, null, ch, r);
  if (ch === undefined || ch === EOF) return null;
  if (ch === '$') {
    ch = r.next();
    if (!isBlank(ch)) return null;
    ch = skipBlanks(ch, r);
    f.lastDay = true;
  } else {
    f.dayStar = ch === '*';
    ch = getList(f.day, 1, 31, null, ch, r);
  }
  if (ch === undefined || ch === EOF) return null;
  ch = getList(f.month, 1, 12, MONTH_NAMES, ch, r);
  if (ch === undefined || ch === EOF) return null;
  f.weekdayStar = ch === '*';
  ch = getList(f.weekday, 0, 7, DAY_NAMES, ch, r);
  if (ch === undefined || ch === EOF) return null;

  if (f.weekday[0] || f.weekday[7]) {
    f.weekday[0] = true;
    f.weekday[7] = true;
  }
  return { kind: 'cron', fields: f };
}

// ------------------------------------------------------------------------------------------------
// Run times.

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
// Long enough for any date a schedule can name (29 February on a given weekday recurs within 28
// years), short enough to give up quickly on one that names none ('0 0 30 2 *').
const SEARCH_DAYS = 29 * 366;

/** Whether the schedule runs on this UTC day (pg_cron's ShouldRunTask, minus the time of day). */
export function runsOnDay(f: CronFields, date: Date): boolean {
  if (!f.month[date.getUTCMonth()]) return false;
  const day = date.getUTCDate();
  const lastOfMonth = new Date(date.getTime() + DAY).getUTCDate() === 1;
  const onDay = (f.day[day - 1] ?? false) || (f.lastDay && lastOfMonth);
  const onWeekday = f.weekday[date.getUTCDay()] ?? false;
  return f.dayStar || f.weekdayStar ? onDay && onWeekday : onDay || onWeekday;
}

/** The first minute strictly after `after` (epoch ms) at which the schedule runs; null if none. */
export function nextCronTime(f: CronFields, after: number): number | null {
  if (!f.minute.includes(true) || !f.hour.includes(true)) return null;
  const first = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  let dayStart = Math.floor(first / DAY) * DAY;
  let fromMinute = (first - dayStart) / MINUTE;
  for (let i = 0; i < SEARCH_DAYS; i++, dayStart += DAY, fromMinute = 0) {
    if (!runsOnDay(f, new Date(dayStart))) continue;
    for (let m = fromMinute; m < 24 * 60; m++) {
      if (f.hour[Math.floor(m / 60)] && f.minute[m % 60]) return dayStart + m * MINUTE;
    }
  }
  return null;
}
