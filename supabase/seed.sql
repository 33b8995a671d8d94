-- Demo data for local development: an outdoor-gear shop, its staff, a small knowledge base and
-- two n8n-style tools. Idempotent, so it can be re-applied when it changes.
--
-- Demo logins (password for all: parley-demo-1):
--   owner@trailhead.example   owner of Trailhead Outfitters
--   agent@trailhead.example   support agent of Trailhead Outfitters
--   ops@parley.example        platform operator

do $$
declare
  demo_users constant jsonb := '[
    {"id": "a0000000-0000-4000-8000-000000000001", "email": "owner@trailhead.example", "name": "Maya Ortiz"},
    {"id": "a0000000-0000-4000-8000-000000000002", "email": "agent@trailhead.example", "name": "Sam Lee"},
    {"id": "a0000000-0000-4000-8000-000000000003", "email": "ops@parley.example", "name": "Parley Ops"}
  ]';
  u jsonb;
begin
  for u in select * from jsonb_array_elements(demo_users) loop
    insert into auth.users (
      instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
      raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
      confirmation_token, recovery_token, email_change_token_new, email_change
    ) values (
      '00000000-0000-0000-0000-000000000000', (u ->> 'id')::uuid, 'authenticated', 'authenticated',
      u ->> 'email', extensions.crypt('parley-demo-1', extensions.gen_salt('bf', 10)), now(),
      '{"provider": "email", "providers": ["email"]}',
      jsonb_build_object('name', u ->> 'name'), now(), now(), '', '', '', ''
    ) on conflict (id) do nothing;

    -- Supabase Auth also keeps an identity per sign-in method.
    if to_regclass('auth.identities') is not null then
      execute $sql$
        insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
        values ($1::text, $1, jsonb_build_object('sub', $1::text, 'email', $2, 'email_verified', true), 'email', now(), now(), now())
        on conflict do nothing
      $sql$ using (u ->> 'id')::uuid, u ->> 'email';
    end if;
  end loop;
end
$$;

insert into public.platform_admins (user_id)
values ('a0000000-0000-4000-8000-000000000003')
on conflict do nothing;

insert into public.tenants (
  id, name, slug, widget_key, allowed_origins, bot_engine, bot_config, llm_config, plan_id
) values (
  'b0000000-0000-4000-8000-000000000001', 'Trailhead Outfitters', 'trailhead',
  'pk_demo_trailhead',
  -- The demo shop is served by the local stack on whatever port it runs.
  array['http://127.0.0.1:*', 'http://localhost:*'],
  'ai',
  '{
    "name": "Trailhead Assistant",
    "greeting": {
      "en": "Hi! I can help with orders, returns, sizing and boot fittings.",
      "es": "¡Hola! Te ayudo con pedidos, devoluciones, tallas y pruebas de botas.",
      "fr": "Bonjour ! Je peux vous aider pour les commandes, retours, tailles et essayages.",
      "de": "Hallo! Ich helfe bei Bestellungen, Rücksendungen, Größen und Schuhanpassungen.",
      "pt": "Olá! Posso ajudar com pedidos, devoluções, tamanhos e provas de botas.",
      "he": "שלום! אפשר לעזור בהזמנות, החזרות, מידות והתאמת נעליים."
    },
    "color": "#2f6f4f",
    "reply_time": {
      "en": "Usually replies in a few minutes",
      "es": "Suele responder en unos minutos",
      "fr": "Répond généralement en quelques minutes",
      "de": "Antwortet meist innerhalb weniger Minuten",
      "pt": "Costuma responder em poucos minutos",
      "he": "בדרך כלל עונים תוך כמה דקות"
    },
    "locale": "en",
    "quick_starts": {
      "en": ["Where is my order?", "How do returns work?", "Book a boot fitting"],
      "es": ["¿Dónde está mi pedido?", "¿Cómo funcionan las devoluciones?", "Reservar una prueba de botas"],
      "fr": ["Où en est ma commande ?", "Comment fonctionnent les retours ?", "Réserver un essayage de chaussures"],
      "de": ["Wo ist meine Bestellung?", "Wie funktionieren Rücksendungen?", "Schuhanpassung buchen"],
      "pt": ["Onde está meu pedido?", "Como funcionam as devoluções?", "Agendar prova de botas"],
      "he": ["איפה ההזמנה שלי?", "איך עובדות החזרות?", "לקבוע התאמת נעליים"]
    },
    "system_prompt": "You are the support assistant of Trailhead Outfitters, an outdoor-gear shop. Answer from the knowledge base, be concise and friendly, and use tools for order status and fittings.",
    "guardrails": ["Never promise refunds outside the returns policy.", "Offer a human when unsure."]
  }',
  '{"provider": "openai", "model": "gpt-4o-mini"}',
  'free'
)
on conflict (id) do nothing;

insert into public.tenant_members (tenant_id, user_id, role, display_name) values
  ('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'owner', 'Maya Ortiz'),
  ('b0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000002', 'agent', 'Sam Lee')
on conflict do nothing;

insert into public.subscriptions (tenant_id, plan_id, status)
values ('b0000000-0000-4000-8000-000000000001', 'free', 'active')
on conflict (tenant_id) do nothing;

-- The tools' webhooks point at the demo order/booking service the local stack serves (its address
-- is the vault secret the stack sets; the stack re-points them whenever it starts on another port).
-- The service checks Parley's signatures (Standard Webhooks) with this demo secret, as a real n8n
-- workflow would.
insert into public.tools (slug, name, description, parameters) values
  ('order_status', 'Order status', 'Look up the status and tracking of an order by its number.',
   '{"type": "object", "properties": {"order_number": {"type": "string", "pattern": "^TH-[0-9]{4,8}$", "description": "Order number, e.g. TH-10421"}, "email": {"type": "string", "format": "email"}}, "required": ["order_number"], "additionalProperties": false}'),
  ('book_fitting', 'Book a fitting', 'Book an in-store boot fitting appointment.',
   '{"type": "object", "properties": {"store": {"type": "string", "enum": ["Denver", "Boulder"]}, "date": {"type": "string", "format": "date"}, "time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}, "name": {"type": "string", "minLength": 1}}, "required": ["store", "date", "time", "name"], "additionalProperties": false}')
on conflict (slug) do nothing;

insert into public.tenant_tools (tenant_id, tool_id, name, description, webhook_url, secret, parameters)
select 'b0000000-0000-4000-8000-000000000001', t.id, t.slug, t.description,
       coalesce(
         (select decrypted_secret from vault.decrypted_secrets where name = 'parley_demo_n8n_url'),
         'http://127.0.0.1:54321/demo/n8n'
       ) || '/' || replace(t.slug, '_', '-'),
       'whsec_ZGVtby10b29sLXNlY3JldC1ub3QtZm9yLXByb2R1Y3Rpb24=', t.parameters
  from public.tools t
 where t.slug in ('order_status', 'book_fitting')
on conflict (tenant_id, name) do nothing;

-- Knowledge base: the help centre's articles as Markdown, status 'pending'. Inserting them queues
-- an ingest_document job each (a trigger on documents), so whatever runs the job queue (the worker
-- on Supabase, or the local stack as it opens) cuts them into chunks and embeds them with the
-- configured embedder. Re-applying the seed inserts nothing, so it queues nothing.
insert into public.documents (id, tenant_id, title, source_url, mime_type, content, status)
values
  ('d0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001',
   'Shipping', 'https://trailhead.example/help/shipping', 'text/markdown',
   $md$# Shipping

Every order ships from our warehouse in Denver.

## Delivery times

Orders placed before 2 pm Mountain Time ship the same business day.

- **Standard shipping** takes 3 to 5 business days within the continental US.
- **Express shipping** takes 1 to 2 business days.

You receive a tracking link by email as soon as the parcel leaves our Denver warehouse.

## Costs

| Service | Order total | Cost |
| --- | --- | --- |
| Standard | over $75 | free |
| Standard | below $75 | $6.95 |
| Express | any | $19.95 |
| Canada (flat rate) | any | $24.95 |

Standard shipping is free on orders over $75; below that it costs $6.95. Express shipping costs
$19.95.

## International orders

We ship to Canada for a flat $24.95, and do not currently ship to other countries.
$md$, 'pending'),
  ('d0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-000000000001',
   'Returns and exchanges', 'https://trailhead.example/help/returns', 'text/markdown',
   $md$# Returns and exchanges

## Policy

You can return unused gear within **60 days of delivery** for a full refund to the original
payment method.

Footwear may be tried indoors. Boots worn outside can still be exchanged for a different size
within 30 days.

## How to return

1. Start a return from your order page, or ask us in chat.
2. Print the prepaid label. A $5.95 fee is deducted from your refund unless the item is faulty.
3. Pack the item with its tags.
4. Drop the parcel at any UPS point.

## Refunds

Refunds are issued within 5 business days of the parcel reaching us, to the original payment
method.
$md$, 'pending'),
  ('d0000000-0000-4000-8000-000000000003', 'b0000000-0000-4000-8000-000000000001',
   'Boot sizing and fittings', 'https://trailhead.example/help/boot-fitting', 'text/markdown',
   $md$# Boot sizing and fittings

## Finding your size

Hiking boots should leave a thumb's width between your longest toe and the front of the boot.

- Try boots in the afternoon, when feet are largest.
- Wear the socks you hike in.
- Between two sizes, pick the larger and adjust with the lacing or an insole.

## In-store fittings

Our Denver and Boulder stores offer free 30-minute boot fittings with a trained fitter,
including foot measurement and insole advice. Fittings can be booked in chat for any day the
store is open.
$md$, 'pending'),
  ('d0000000-0000-4000-8000-000000000004', 'b0000000-0000-4000-8000-000000000001',
   'Warranty', 'https://trailhead.example/help/warranty', 'text/markdown',
   $md$# Warranty

## Coverage

All Trailhead-brand gear carries a **lifetime warranty** against defects in materials and
workmanship.

Other brands are covered by their manufacturer's warranty, which we handle for you.

## What is not covered

- Normal wear
- Accidents
- Alterations
$md$, 'pending'),
  ('d0000000-0000-4000-8000-000000000005', 'b0000000-0000-4000-8000-000000000001',
   'Stores and opening hours', 'https://trailhead.example/stores', 'text/markdown',
   $md$# Stores and opening hours

## Denver

1450 Larimer Street. Open Monday to Saturday 9 am to 8 pm and Sunday 10 am to 6 pm.

## Boulder

1800 Pearl Street. Open every day 10 am to 7 pm.

## Parking

Both stores offer free parking for customers.
$md$, 'pending')
on conflict (id) do nothing;

-- A keyword flow (docs/whatsapp.md#keyword-flows): "store finder" in the widget or on WhatsApp.
insert into public.bot_flows (id, tenant_id, name, triggers, timeout_minutes, definition)
values ('f0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001',
  'Store finder', '{"store finder"}', 30, $json${"steps": [
    {"id": "city", "type": "ask", "text": "Which store would you like to visit?",
     "buttons": ["Denver", "Boulder", "Talk to us"],
     "branches": [{"when": ["Denver"], "next": "denver"}, {"when": ["Boulder"], "next": "boulder"},
                  {"when": ["Talk to us"], "next": "human"}]},
    {"id": "denver", "type": "set", "field": "attributes.store", "value": "denver", "next": "denver_info"},
    {"id": "denver_info", "type": "end", "text": "Denver: 1450 Larimer Street, Monday to Saturday 9 am to 8 pm, Sunday 10 am to 6 pm."},
    {"id": "boulder", "type": "set", "field": "attributes.store", "value": "boulder", "next": "boulder_info"},
    {"id": "boulder_info", "type": "end", "text": "Boulder: 1800 Pearl Street, every day 10 am to 7 pm."},
    {"id": "human", "type": "handoff", "text": "Someone from the store team will answer here."}
  ]}$json$::jsonb)
on conflict (id) do nothing;
