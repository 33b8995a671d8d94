import { verifyRequest } from '../../../functions/_shared/webhooks/signature.ts';
import type { HttpService, LocalServices } from '../services.ts';

// DEMO DATA. A pretend n8n instance for the seeded demo tenant (Trailhead Outfitters): the two
// tool webhooks supabase/seed.sql points at, answering from made-up orders and a pretend fitting
// calendar. Nothing here is real; it exists so the local demo's bot can call tools end to end.
//
// It behaves like a careful real workflow would: it refuses calls whose Standard Webhooks
// signature does not verify, and answers a repeated webhook-id with its first answer instead of
// acting twice (Parley retries a call, crash retries included, with the same webhook-id).

/** The secret seed.sql gives the demo tenant's tools. Public on purpose: it guards demo data. */
export const DEMO_TOOL_SECRET = 'whsec_ZGVtby10b29sLXNlY3JldC1ub3QtZm9yLXByb2R1Y3Rpb24=';

export interface DemoN8nOptions {
  secret?: string;
  /** The calendar's clock (bookings, delivery dates); signatures are checked against the real one. */
  now?: () => Date;
}

const STORE_TIME_ZONE = 'America/Denver';
const FITTING_MINUTES = 30;
const BOOKING_HORIZON_DAYS = 90;
// Twice the signature window: a replay older than this is refused by its timestamp anyway.
const REPLAY_MEMORY_MS = 10 * 60_000;

type Answer = { status: number; body: unknown };

export function createDemoN8n(
  services: Pick<LocalServices, 'log'>,
  options: DemoN8nOptions = {},
): HttpService {
  const secret = options.secret ?? DEMO_TOOL_SECRET;
  const now = options.now ?? (() => new Date());
  // Promises, so that a retry arriving while the first attempt is still being handled waits for
  // the same answer.
  const answered = new Map<string, { at: number; answer: Promise<Answer> }>();

  const handlers: Record<
    string,
    (args: Record<string, unknown>, deliveryId: string) => Promise<Answer>
  > = {
    '/demo/n8n/order-status': async (args) => orderStatus(args, now()),
    '/demo/n8n/book-fitting': (args, deliveryId) => bookFitting(args, deliveryId, now()),
  };

  return {
    async fetch(request) {
      const { pathname } = new URL(request.url);
      const handler = handlers[pathname];
      if (!handler) return json(404, { error: 'not_found' });
      if (request.method !== 'POST') return json(405, { error: 'method_not_allowed' });

      const raw = new Uint8Array(await request.arrayBuffer());
      const verified = verifyRequest({ secrets: [secret], headers: request.headers, body: raw });
      if (!verified.ok) {
        services.log(`demo n8n: refused a call to ${pathname} (${verified.code})`);
        return json(401, { error: verified.code });
      }

      const at = now().getTime();
      for (const [id, entry] of answered) {
        if (at - entry.at > REPLAY_MEMORY_MS) answered.delete(id);
      }
      const earlier = answered.get(verified.id);
      if (earlier) {
        const { status, body } = await earlier.answer;
        return json(status, body, { 'X-Demo-Replay': 'true' });
      }

      const call = parseCall(new TextDecoder().decode(raw));
      if (!call) return json(400, { error: 'bad_request', message: 'expected a Parley tool call' });
      const answer = handler(call.arguments, verified.id);
      answered.set(verified.id, { at, answer });
      const { status, body } = await answer;
      return json(status, body);
    },
  };
}

function parseCall(text: string): { arguments: Record<string, unknown> } | null {
  try {
    const body = JSON.parse(text) as { arguments?: unknown };
    const args = body?.arguments;
    if (args === null || typeof args !== 'object' || Array.isArray(args)) return null;
    return { arguments: args as Record<string, unknown> };
  } catch {
    return null;
  }
}

// --- Order status --------------------------------------------------------------------------------

interface DemoOrder {
  email: string;
  status: 'processing' | 'shipped' | 'out_for_delivery' | 'delivered' | 'returned';
  items: string[];
  carrier: string | null;
  tracking_number: string | null;
  tracking_url: string | null;
  /** Days relative to today, so the demo never shows deliveries years in the past. */
  placedDaysAgo: number;
  etaInDays: number | null;
  deliveredDaysAgo: number | null;
  note?: string;
}

const ORDERS: Record<string, DemoOrder> = {
  'TH-10421': {
    email: 'jordan@example.com',
    status: 'shipped',
    items: ['Ridgeline GTX hiking boots (US 10)', 'Merino hiking socks, 2 pairs'],
    carrier: 'UPS',
    tracking_number: '1Z999AA10123456784',
    tracking_url: 'https://www.ups.com/track?tracknum=1Z999AA10123456784',
    placedDaysAgo: 3,
    etaInDays: 2,
    deliveredDaysAgo: null,
  },
  'TH-10422': {
    email: 'priya@example.com',
    status: 'processing',
    items: ['Summit 45L backpack'],
    carrier: null,
    tracking_number: null,
    tracking_url: null,
    placedDaysAgo: 0,
    etaInDays: 5,
    deliveredDaysAgo: null,
    note: 'Ships from the Denver warehouse within one business day.',
  },
  'TH-10423': {
    email: 'alex@example.com',
    status: 'delivered',
    items: ['Trailhead rain shell (M)'],
    carrier: 'USPS',
    tracking_number: '9400111899223197428490',
    tracking_url: 'https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223197428490',
    placedDaysAgo: 9,
    etaInDays: null,
    deliveredDaysAgo: 4,
  },
  'TH-10424': {
    email: 'sam@example.com',
    status: 'out_for_delivery',
    items: ['Trekking poles, carbon', 'Headlamp 400 lm'],
    carrier: 'FedEx',
    tracking_number: '771234567890',
    tracking_url: 'https://www.fedex.com/fedextrack/?trknbr=771234567890',
    placedDaysAgo: 4,
    etaInDays: 0,
    deliveredDaysAgo: null,
  },
  'TH-10425': {
    email: 'casey@example.com',
    status: 'returned',
    items: ['Alpine down jacket (L)'],
    carrier: 'UPS',
    tracking_number: '1Z999AA10123456799',
    tracking_url: 'https://www.ups.com/track?tracknum=1Z999AA10123456799',
    placedDaysAgo: 30,
    etaInDays: null,
    deliveredDaysAgo: 25,
    note: 'Return received; refund issued to the original payment method.',
  },
};

async function orderStatus(args: Record<string, unknown>, now: Date): Promise<Answer> {
  const number =
    typeof args.order_number === 'string' ? args.order_number.trim().toUpperCase() : '';
  if (!/^TH-\d{4,8}$/.test(number)) {
    return { status: 422, body: { found: false, error: 'order_number must look like TH-10421' } };
  }
  const order = ORDERS[number];
  const email = typeof args.email === 'string' ? args.email.trim().toLowerCase() : null;
  // A wrong email reads exactly like an unknown number, so the lookup cannot be used to learn
  // which order numbers exist.
  if (!order || (email !== null && email !== order.email)) {
    return { status: 200, body: { found: false, order_number: number, demo: true } };
  }
  const today = localDate(now);
  return {
    status: 200,
    body: {
      found: true,
      demo: true,
      order_number: number,
      status: order.status,
      items: order.items,
      placed_on: addDays(today, -order.placedDaysAgo),
      carrier: order.carrier,
      tracking_number: order.tracking_number,
      tracking_url: order.tracking_url,
      estimated_delivery: order.etaInDays === null ? null : addDays(today, order.etaInDays),
      delivered_on:
        order.deliveredDaysAgo === null ? null : addDays(today, -order.deliveredDaysAgo),
      ...(order.note ? { note: order.note } : {}),
    },
  };
}

// --- Fittings ------------------------------------------------------------------------------------

interface Store {
  address: string;
  /** Opening hours by weekday (0 = Sunday), in minutes after midnight, store time. */
  hours: (weekday: number) => { open: number; close: number };
}

// The hours the demo knowledge base gives (seed.sql, "Stores and opening hours").
const STORES: Record<string, Store> = {
  Denver: {
    address: '1450 Larimer Street, Denver',
    hours: (weekday) => (weekday === 0 ? { open: 600, close: 1080 } : { open: 540, close: 1200 }),
  },
  Boulder: {
    address: '1800 Pearl Street, Boulder',
    hours: () => ({ open: 600, close: 1140 }),
  },
};

async function bookFitting(
  args: Record<string, unknown>,
  deliveryId: string,
  now: Date,
): Promise<Answer> {
  const refuse = (error: string): Answer => ({ status: 422, body: { booked: false, error } });
  const { store: storeName, date, time, name } = args;
  const store = typeof storeName === 'string' ? STORES[storeName] : undefined;
  if (!store) return refuse(`store must be one of ${Object.keys(STORES).join(', ')}`);
  if (typeof date !== 'string' || !isCalendarDate(date)) {
    return refuse('date must be a calendar date, YYYY-MM-DD');
  }
  if (typeof time !== 'string' || !/^([01]\d|2[0-3]):[0-5]\d$/.test(time)) {
    return refuse('time must be HH:MM, 24-hour clock');
  }
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 100) {
    return refuse('name is required');
  }

  const today = localDate(now);
  const start = minutesOf(time);
  if (date < today || (date === today && start <= localMinutes(now))) {
    return refuse('that time is in the past; pick a later date or time');
  }
  if (date > addDays(today, BOOKING_HORIZON_DAYS)) {
    return refuse(`fittings can be booked up to ${BOOKING_HORIZON_DAYS} days ahead`);
  }
  const { open, close } = store.hours(new Date(`${date}T12:00:00Z`).getUTCDay());
  if (start < open || start + FITTING_MINUTES > close) {
    return refuse(
      `the ${storeName} store offers fittings from ${clock(open)} to ${clock(close - FITTING_MINUTES)} that day`,
    );
  }

  return {
    status: 200,
    body: {
      booked: true,
      demo: true,
      // Derived from the webhook-id, so a retried call names the same booking.
      reference: `FIT-${(await sha256Hex(deliveryId)).slice(0, 6).toUpperCase()}`,
      store: storeName,
      address: store.address,
      date,
      time,
      duration_minutes: FITTING_MINUTES,
      name: name.trim(),
    },
  };
}

// --- Helpers -------------------------------------------------------------------------------------

const storeClock = new Intl.DateTimeFormat('en-CA', {
  timeZone: STORE_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function storeParts(now: Date): Record<string, string> {
  return Object.fromEntries(storeClock.formatToParts(now).map((p) => [p.type, p.value]));
}

/** Today in the stores' time zone, YYYY-MM-DD. */
function localDate(now: Date): string {
  const p = storeParts(now);
  return `${p.year}-${p.month}-${p.day}`;
}

function localMinutes(now: Date): number {
  const p = storeParts(now);
  return Number(p.hour) * 60 + Number(p.minute);
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function isCalendarDate(date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false;
  const d = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === date;
}

function minutesOf(time: string): number {
  const [h = 0, m = 0] = time.split(':').map(Number);
  return h * 60 + m;
}

function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}
