import type { Actor } from './world.ts';

// The written expectations of the row level security matrix, shared by the SQL matrix
// (tests/database/rls-matrix.test.ts, run as PostgREST runs statements) and the HTTP matrix
// (tests/rest/rls-matrix-http.test.ts, run through /rest/v1 with supabase-js). They are written
// from the policies in supabase/migrations and the rules in DESIGN.md, not from running the code.

/** Allowed operations, one position each: s(elect) i(nsert) u(pdate) d(elete), '-' = denied. */
export type Ops = `${'s' | '-'}${'i' | '-'}${'u' | '-'}${'d' | '-'}`;

const NONE = '----' satisfies Ops;

/** Actors not named are denied everything. */
const only = (allowed: Partial<Record<Actor, Ops>>): Record<Actor, Ops> => ({
  anon: NONE,
  visitorA: NONE,
  visitorB: NONE,
  agentA: NONE,
  adminA: NONE,
  ownerA: NONE,
  ownerB: NONE,
  platformAdmin: NONE,
  ...allowed,
});

// Staff of tenant A by role, with a platform admin who reads (and only reads) everything.
const membersRead = {
  agentA: 's---',
  adminA: 's---',
  ownerA: 's---',
  platformAdmin: 's---',
} as const;
const adminsCurate = {
  agentA: 's---',
  adminA: 'siud',
  ownerA: 'siud',
  platformAdmin: 's---',
} as const;
const membersWork = {
  agentA: 'siu-',
  adminA: 'siud',
  ownerA: 'siud',
  platformAdmin: 's---',
} as const;
const adminsOnly = { adminA: 'siud', ownerA: 'siud', platformAdmin: 's---' } as const;
const adminsRead = { adminA: 's---', ownerA: 's---', platformAdmin: 's---' } as const;

/**
 * One entry per case (a table, or a table with a particular target row). Keys are the case names
 * used by each matrix to pick its target rows; the table is the part before " (".
 */
export const EXPECTATIONS = {
  // The price list: signed-in people choosing a plan (ownerB too); not anonymous visitors, not anon.
  plans: only({
    agentA: 's---',
    adminA: 's---',
    ownerA: 's---',
    ownerB: 's---',
    platformAdmin: 's---',
  }),
  // Members read their tenant; owners/admins edit (some columns); nobody inserts or deletes
  // through the API (signup and removal run as the service).
  tenants: only({ agentA: 's---', adminA: 's-u-', ownerA: 's-u-', platformAdmin: 's---' }),
  // Secrets: no API role reads or writes them, owners included (the model key is write-only, the
  // others shown once): owners and admins go through set_llm_api_key and the rotate_* functions.
  tenant_secrets: only({}),
  // Target: agentA's membership; insert: a new user as agent. Owners manage everyone, admins
  // manage agents, everyone in the tenant sees the team.
  tenant_members: only({
    agentA: 's---',
    adminA: 'siud',
    ownerA: 'siud',
    platformAdmin: 's---',
  }),
  // Only platform admins see the list; changes are made by the service role.
  platform_admins: only({ platformAdmin: 's---' }),
  contacts: only(membersWork),
  // Target: visitorA's conversation. Visitors read their own and never write directly.
  conversations: only({ visitorA: 's---', ...membersWork }),
  // Target: visitorB's conversation in tenant A; insert: a conversation with visitor_id = self.
  'conversations (visitorB’s)': only({ visitorB: 's---', ...membersWork }),
  // Target: visitorA's own message; insert: a visitor message (role user) into visitorA's
  // conversation. Staff may not post as the visitor; staff edit, owners/admins delete.
  messages: only({
    visitorA: 'si--',
    agentA: 's-u-',
    adminA: 's-ud',
    ownerA: 's-ud',
    platformAdmin: 's---',
  }),
  // Same, in visitorB's conversation: the other visitor's.
  'messages (visitorB’s)': only({
    visitorB: 'si--',
    agentA: 's-u-',
    adminA: 's-ud',
    ownerA: 's-ud',
    platformAdmin: 's---',
  }),
  // Target: the bot's reply in visitorA's conversation; insert: an agent reply authored by self.
  'messages (staff reply)': only({ visitorA: 's---', ...membersWork }),
  // Target: a private note in visitorA's conversation; insert: a private note authored by self.
  // Never visible to the visitor.
  'messages (private note)': only(membersWork),
  documents: only(adminsCurate),
  document_chunks: only(adminsCurate),
  // Crawls of the tenant's site: owners and admins define them; only the crawl job writes pages.
  crawls: only(adminsOnly),
  crawl_pages: only(adminsRead),
  // The global tool catalog: staff of any tenant read it, visitors do not; the service writes.
  tools: only({
    agentA: 's---',
    adminA: 's---',
    ownerA: 's---',
    ownerB: 's---',
    platformAdmin: 's---',
  }),
  // Tool configuration carries signing secrets: owners and admins only.
  tenant_tools: only(adminsOnly),
  // The audit trail: members read, only the service writes.
  tool_executions: only(membersRead),
  webhook_endpoints: only(adminsOnly),
  // The tenant webhooks' delivery log: owners and admins read it; only the service writes it
  // (redelivery is an RPC).
  webhook_deliveries: only(adminsRead),
  // Saved replies: every member uses them, owners and admins keep the list.
  canned_responses: only(adminsCurate),
  // Agents' presence: colleagues see it; it is written only through set_agent_presence.
  agent_presence: only(membersRead),
  // Where the widget loaded: owners and admins watch it; only the chat function records it.
  widget_loads: only(adminsRead),
  // Kept by triggers only: nobody writes it through the API.
  analytics_hourly: only(adminsRead),
  // Billing: owners/admins read; only the Stripe webhook (service) writes.
  subscriptions: only(adminsRead),
  stripe_events: only({ platformAdmin: 's---' }),
  usage_daily: only(membersRead),
  // Billing and quota notices: owners and admins read them and mark them read; the service raises them.
  tenant_notices: only({ adminA: 's-u-', ownerA: 's-u-', platformAdmin: 's---' }),
  // Quota counters: owners and admins read their usage; spends are the service's bookkeeping.
  usage_counters: only(adminsRead),
  quota_spends: only({}),
  jobs: only({ platformAdmin: 's---' }),
  // The conversation engine's state: the audit trail is the tenant's to read; rate-limit counters,
  // the answer cache and webhook receipts are the service's alone.
  reply_groundings: only(membersRead),
  rate_limits: only({}),
  answer_cache: only({}),
  webhook_receipts: only({}),
  // WhatsApp numbers: owners and admins manage them (their settings write-only, by column grants).
  whatsapp_connections: only(adminsOnly),
  // Templates mirror Meta: every member reads them to pick one, only the service writes.
  whatsapp_templates: only(membersRead),
  // Keyword flows: members read them; owners and admins switch them off or delete them, and save
  // them only through the flows function (validated), so nobody inserts through the API.
  bot_flows: only({ agentA: 's---', adminA: 's-ud', ownerA: 's-ud', platformAdmin: 's---' }),
  // Broadcasts and their recipients: owners and admins read them; RPCs create, pause and resume
  // them and the service sends them, so nobody writes them through the API, agents included.
  whatsapp_broadcasts: only(adminsRead),
  whatsapp_broadcast_recipients: only(adminsRead),
  // Target: agentA's read marker in visitorA's conversation; insert: one's own marker. A marker is
  // its owner's alone.
  conversation_reads: only({
    agentA: 'siud',
    adminA: '-i--',
    ownerA: '-i--',
    platformAdmin: 's---',
  }),
  // Target: an agent invitation of tenant A. Owners and admins see and withdraw invitations
  // (admins those for agents); they are created only by invite_member, which counts seats.
  tenant_invitations: only({ adminA: 's--d', ownerA: 's--d', platformAdmin: 's---' }),
  // Operators' audit trail: they read it, nobody writes it through the API or changes it.
  platform_audit_log: only({ platformAdmin: 's---' }),
} satisfies Record<string, Record<Actor, Ops>>;

export type CaseName = keyof typeof EXPECTATIONS;

/** Tables whose rows belong to no tenant: left out of the "ownerB sees nothing of A" checks. */
export const GLOBAL_TABLES = new Set([
  'plans',
  'tools',
  'platform_admins',
  'stripe_events',
  'rate_limits',
]);

/** The operations, in the order of the letters of Ops. */
export const OPS = ['select', 'insert', 'update', 'delete'] as const;
export type Op = (typeof OPS)[number];
