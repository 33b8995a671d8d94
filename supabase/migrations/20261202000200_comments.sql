-- Descriptions of every table and column in public. The Data API publishes them in its OpenAPI
-- document and Supabase Studio shows them to operators, so they say what a value means and who
-- may change it, not how it is stored. Later migrations comment the tables and columns they add.

-- Tenancy ---------------------------------------------------------------------------------------

comment on table public.plans is
  'The price list: what each plan costs and what it allows. Read by signed-in staff choosing a plan; written by operators.';
comment on column public.plans.id is 'Stable plan key (free, pro, business), referenced by tenants and subscriptions.';
comment on column public.plans.name is 'Name shown to customers.';
comment on column public.plans.stripe_price_id is 'The Stripe Price that Checkout sells for this plan; null for plans not sold through Stripe.';
comment on column public.plans.limits is 'Quotas as JSON: conversations_per_month, messages_per_month, documents, seats, retention_days, tools. A missing key means no limit.';
comment on column public.plans.price_cents is 'Price per billing period in the smallest currency unit.';
comment on column public.plans.currency is 'ISO 4217 currency code, lower case.';
comment on column public.plans.sort_order is 'Position in the plan picker, lowest first.';
comment on column public.plans.active is 'Offered to new customers; inactive plans keep their existing subscribers.';
comment on column public.plans.created_at is 'When the plan was added.';

comment on table public.tenants is
  'A business using Parley: its widget, bot settings and plan. Members read it; owners and admins edit some columns; signup and operators create and delete tenants.';
comment on column public.tenants.id is 'Tenant id; every tenant-owned row carries it.';
comment on column public.tenants.name is 'Display name of the business (1 to 120 characters).';
comment on column public.tenants.slug is 'URL-safe unique handle: lower-case letters, digits and hyphens.';
comment on column public.tenants.widget_key is 'Public widget key (pk_…) that the embed script sends; public by design and rotatable by operators.';
comment on column public.tenants.allowed_origins is 'Origins (or origin patterns) of the sites allowed to embed the widget.';
comment on column public.tenants.bot_engine is 'Who answers visitors: ai (Parley''s own agent) or n8n (the tenant''s workflow).';
comment on column public.tenants.bot_config is 'Widget look and bot persona as JSON: name, greetings per locale, colours, locale, quick starts, system prompt, guardrails, pre-chat form.';
comment on column public.tenants.llm_config is 'Language model settings as JSON: provider, model, base_url, temperature. The API key is kept in tenant_secrets.';
comment on column public.tenants.n8n_webhook_url is 'The n8n workflow URL that receives conversations when bot_engine is n8n.';
comment on column public.tenants.enforce_identity is 'When true, only visitors with a valid identity hash may chat.';
comment on column public.tenants.plan_id is 'Current plan; follows the Stripe subscription, never a member''s edit.';
comment on column public.tenants.status is 'active, or suspended by an operator (the widget stops answering).';
comment on column public.tenants.created_at is 'When the tenant signed up.';
comment on column public.tenants.updated_at is 'Last change to this row.';

comment on table public.tenant_secrets is
  'Secrets that could impersonate a tenant, one row per tenant, kept apart from tenants so that only owners and admins can read them.';
comment on column public.tenant_secrets.tenant_id is 'The tenant these secrets belong to.';
comment on column public.tenant_secrets.identity_secret is 'HMAC key for identity verification: identityHash = hex(HMAC-SHA256(key, identifier)), computed by the tenant''s backend.';
comment on column public.tenant_secrets.n8n_secret is 'Signs requests relayed to the tenant''s n8n workflow and verifies its callbacks.';
comment on column public.tenant_secrets.n8n_previous_secret is 'The n8n secret before the last rotation, still accepted until n8n_previous_expires_at.';
comment on column public.tenant_secrets.n8n_previous_expires_at is 'When the previous n8n secret stops being accepted.';
comment on column public.tenant_secrets.llm_api_key is 'The tenant''s own language model API key; null to use the platform''s.';
comment on column public.tenant_secrets.updated_at is 'Last change to this row.';

comment on table public.tenant_members is
  'Staff of a tenant and their role. Everyone in the tenant sees the team; owners manage everyone, admins manage agents; a tenant always keeps an owner.';
comment on column public.tenant_members.tenant_id is 'The tenant.';
comment on column public.tenant_members.user_id is 'The staff member''s Auth user.';
comment on column public.tenant_members.role is 'owner, admin or agent.';
comment on column public.tenant_members.display_name is 'Name shown to visitors and colleagues on replies; null to use the email.';
comment on column public.tenant_members.avatar_url is 'Picture shown beside the member''s replies.';
comment on column public.tenant_members.created_at is 'When the member joined the tenant.';

comment on table public.platform_admins is
  'Parley''s own operators, who read every tenant''s data. Only they see the list; the service role changes it.';
comment on column public.platform_admins.user_id is 'The operator''s Auth user.';
comment on column public.platform_admins.created_at is 'When operator rights were granted.';

-- Conversations ---------------------------------------------------------------------------------

comment on table public.contacts is
  'Known visitors of a tenant: people the tenant''s site identified with a verified identity hash.';
comment on column public.contacts.id is 'Contact id.';
comment on column public.contacts.tenant_id is 'The tenant this person is a customer of.';
comment on column public.contacts.identifier is 'The tenant''s own id for this person, as verified through the identity hash; unique per tenant.';
comment on column public.contacts.name is 'Name given by the tenant''s site or the pre-chat form.';
comment on column public.contacts.email is 'Email given by the tenant''s site or the pre-chat form.';
comment on column public.contacts.attributes is 'Further attributes passed by the tenant''s site (plan, order count, …) as JSON.';
comment on column public.contacts.created_at is 'When the person was first identified.';
comment on column public.contacts.updated_at is 'Last change to this row.';
comment on column public.contacts.last_seen_at is 'When the person last opened a chat.';

comment on table public.conversations is
  'A chat between a visitor and a tenant, on the web widget or WhatsApp. The visitor reads its own; the tenant''s staff work them; the chat function creates them.';
comment on column public.conversations.id is 'Conversation id; also the realtime topic conversation:<id>.';
comment on column public.conversations.tenant_id is 'The tenant the visitor is talking to.';
comment on column public.conversations.visitor_id is 'The anonymous Auth user chatting; null once that user has been cleaned up.';
comment on column public.conversations.contact_id is 'The identified contact, when the visitor was identified; always one of the same tenant.';
comment on column public.conversations.channel is 'web (the widget) or whatsapp.';
comment on column public.conversations.status is 'bot (the bot answers), handoff (waiting for a human), open (a human is on it) or resolved.';
comment on column public.conversations.assignee_id is 'The member handling the conversation; always a member of its tenant.';
comment on column public.conversations.locale is 'The visitor''s language (BCP 47), used for replies and search.';
comment on column public.conversations.page_url is 'The page the visitor started the chat on.';
comment on column public.conversations.identity_verified is 'True when the visitor presented a valid identity hash.';
comment on column public.conversations.message_count is 'Messages in the conversation, kept by a trigger.';
comment on column public.conversations.unread_count is 'Visitor messages staff have not seen yet, kept by a trigger.';
comment on column public.conversations.last_message_at is 'Time of the latest message, for sorting the inbox.';
comment on column public.conversations.csat is 'The visitor''s satisfaction rating, 1 to 5.';
comment on column public.conversations.csat_comment is 'The visitor''s comment with the rating (at most 2000 characters).';
comment on column public.conversations.handoff_at is 'When the conversation was handed to a human.';
comment on column public.conversations.resolved_at is 'When the conversation was resolved.';
comment on column public.conversations.created_at is 'When the conversation started.';
comment on column public.conversations.updated_at is 'Last change to this row.';
comment on column public.conversations.prechat is 'Answers to the tenant''s pre-chat form, as a JSON object.';

comment on table public.messages is
  'Everything said in a conversation: by the visitor, the bot, agents, or the system. Private notes are for staff only and never reach the visitor.';
comment on column public.messages.id is 'Message id.';
comment on column public.messages.conversation_id is 'The conversation; a message never moves to another.';
comment on column public.messages.tenant_id is 'The conversation''s tenant, copied so policies and retention need no join.';
comment on column public.messages.role is 'Who wrote it: user (the visitor), assistant (the bot), agent (staff) or system.';
comment on column public.messages.content is 'The text, Markdown allowed (at most 20000 characters).';
comment on column public.messages.quick_replies is 'Buttons offered under a reply, as a JSON array.';
comment on column public.messages.sources is 'Citations shown under a bot reply: [{document_id, chunk_id, title, url, score}].';
comment on column public.messages.status is 'Delivery state: pending, streaming, sent, delivered, read or failed.';
comment on column public.messages.client_msg_id is 'Id the widget gives a visitor message so a retried send is stored once; unique per conversation.';
comment on column public.messages.author_id is 'The staff member who wrote an agent message or note.';
comment on column public.messages.is_private is 'A staff-only note: never shown or broadcast to the visitor.';
comment on column public.messages.feedback is 'The visitor''s thumbs up (1) or down (-1) on a bot reply.';
comment on column public.messages.tokens_in is 'Prompt tokens spent producing this reply.';
comment on column public.messages.tokens_out is 'Completion tokens spent producing this reply.';
comment on column public.messages.cost_usd is 'Cost of producing this reply in US dollars.';
comment on column public.messages.model is 'The language model that wrote this reply.';
comment on column public.messages.created_at is 'When the message was stored (the server''s clock).';
comment on column public.messages.updated_at is 'Last change to this row.';
comment on column public.messages.in_reply_to is 'For a bot reply: the visitor message it answers; at most one bot reply per message.';

-- Knowledge -------------------------------------------------------------------------------------

comment on table public.documents is
  'The tenant''s knowledge base: texts the bot answers from. Members read it; owners and admins curate it.';
comment on column public.documents.id is 'Document id.';
comment on column public.documents.tenant_id is 'The tenant whose bot uses this document.';
comment on column public.documents.title is 'Title shown in citations (1 to 500 characters).';
comment on column public.documents.source_url is 'Where the text came from, linked from citations.';
comment on column public.documents.mime_type is 'Format of content: text/plain, text/markdown or text/html.';
comment on column public.documents.content is 'The full text, split into document_chunks when ingested.';
comment on column public.documents.status is 'Ingestion state: pending, processing, ready or failed.';
comment on column public.documents.error is 'Why ingestion failed, when it did.';
comment on column public.documents.chunk_count is 'Number of chunks the last ingestion produced.';
comment on column public.documents.created_by is 'The member who added the document.';
comment on column public.documents.created_at is 'When the document was added.';
comment on column public.documents.updated_at is 'Last change to this row.';

comment on table public.document_chunks is
  'Passages of documents with their embeddings and full-text vectors: what retrieval searches.';
comment on column public.document_chunks.id is 'Chunk id.';
comment on column public.document_chunks.tenant_id is 'The document''s tenant, kept in step by a trigger.';
comment on column public.document_chunks.document_id is 'The document this passage comes from.';
comment on column public.document_chunks.chunk_index is 'Position of the passage in its document, from 0.';
comment on column public.document_chunks.heading is 'The headings above the passage, so it still says what it is about.';
comment on column public.document_chunks.content is 'The passage text.';
comment on column public.document_chunks.token_count is 'Approximate token length of the passage.';
comment on column public.document_chunks.embedding is 'Semantic embedding (384 dimensions) for vector search.';
comment on column public.document_chunks.fts is 'Full-text vector of heading (weight A) and content (weight B), generated.';
comment on column public.document_chunks.created_at is 'When the passage was stored.';

-- Tools -----------------------------------------------------------------------------------------

comment on table public.tools is
  'The global catalog of tool templates tenants can enable for their bot. Staff read it; the service writes it.';
comment on column public.tools.id is 'Tool id.';
comment on column public.tools.slug is 'Stable key of the template.';
comment on column public.tools.name is 'Name shown in the admin.';
comment on column public.tools.description is 'What the tool does, shown to staff and, by default, to the model.';
comment on column public.tools.parameters is 'JSON Schema of the tool''s arguments.';
comment on column public.tools.created_at is 'When the template was added.';

comment on table public.tenant_tools is
  'Tools a tenant''s bot may call: each one a signed webhook (usually an n8n workflow). Owners and admins only, as they hold signing secrets.';
comment on column public.tenant_tools.id is 'Tenant tool id.';
comment on column public.tenant_tools.tenant_id is 'The tenant whose bot may call it.';
comment on column public.tenant_tools.tool_id is 'The catalog template it was made from, if any.';
comment on column public.tenant_tools.name is 'The function name the model calls; unique per tenant.';
comment on column public.tenant_tools.description is 'What the tool does, as told to the model.';
comment on column public.tenant_tools.enabled is 'Whether the bot may call it now.';
comment on column public.tenant_tools.webhook_url is 'The http(s) URL that receives each call.';
comment on column public.tenant_tools.secret is 'Key that signs each call (Standard Webhooks).';
comment on column public.tenant_tools.previous_secret is 'The key before the last rotation, still signing until previous_secret_expires_at.';
comment on column public.tenant_tools.previous_secret_expires_at is 'When the previous key stops being used.';
comment on column public.tenant_tools.timeout_ms is 'How long a call may take, 100 to 60000 milliseconds.';
comment on column public.tenant_tools.parameters is 'JSON Schema of the arguments; calls that do not match are not sent.';
comment on column public.tenant_tools.created_at is 'When the tool was added.';
comment on column public.tenant_tools.updated_at is 'Last change to this row.';

comment on table public.tool_executions is
  'Audit trail of every tool call the bot made: arguments, answer and outcome. Members read it; only the service writes it.';
comment on column public.tool_executions.id is 'Execution id.';
comment on column public.tool_executions.tenant_id is 'The tenant whose bot made the call.';
comment on column public.tool_executions.tenant_tool_id is 'The tool called; null once the tool was removed.';
comment on column public.tool_executions.conversation_id is 'The conversation the call was made for.';
comment on column public.tool_executions.message_id is 'The reply the call contributed to.';
comment on column public.tool_executions.tool_name is 'The tool''s name at the time of the call.';
comment on column public.tool_executions.call_id is 'The model''s id for this call.';
comment on column public.tool_executions.delivery_id is 'The webhook-id sent with the call, the same on every retry.';
comment on column public.tool_executions.arguments is 'Arguments the model passed.';
comment on column public.tool_executions.response is 'The JSON the webhook answered.';
comment on column public.tool_executions.success is 'Whether the call produced a usable answer.';
comment on column public.tool_executions.error is 'Why the call failed, when it did.';
comment on column public.tool_executions.http_status is 'HTTP status of the last attempt.';
comment on column public.tool_executions.attempts is 'How many times the call was sent.';
comment on column public.tool_executions.duration_ms is 'Time from the first attempt to the answer.';
comment on column public.tool_executions.created_at is 'When the call was made.';

comment on table public.webhook_endpoints is
  'URLs a tenant registered to receive Parley''s events (new conversation, handoff, message), signed with Standard Webhooks. Owners and admins only.';
comment on column public.webhook_endpoints.id is 'Endpoint id.';
comment on column public.webhook_endpoints.tenant_id is 'The tenant whose events are sent.';
comment on column public.webhook_endpoints.url is 'The http(s) URL events are posted to.';
comment on column public.webhook_endpoints.events is 'Event names to send, such as conversation.created or message.created; * for all.';
comment on column public.webhook_endpoints.secret is 'Key that signs each delivery.';
comment on column public.webhook_endpoints.enabled is 'Whether deliveries are sent now.';
comment on column public.webhook_endpoints.description is 'A note for the tenant''s staff.';
comment on column public.webhook_endpoints.created_at is 'When the endpoint was added.';
comment on column public.webhook_endpoints.updated_at is 'Last change to this row.';

-- Billing and usage -----------------------------------------------------------------------------

comment on table public.subscriptions is
  'Each tenant''s Stripe subscription as last reported by Stripe. Owners and admins read it; only the Stripe webhook writes it.';
comment on column public.subscriptions.id is 'Subscription row id.';
comment on column public.subscriptions.tenant_id is 'The tenant (one subscription each).';
comment on column public.subscriptions.stripe_customer_id is 'The Stripe Customer paying for the tenant.';
comment on column public.subscriptions.stripe_subscription_id is 'The Stripe Subscription.';
comment on column public.subscriptions.plan_id is 'The plan the subscription pays for.';
comment on column public.subscriptions.status is 'Stripe''s subscription status (active, past_due, canceled, …), or inactive before any purchase.';
comment on column public.subscriptions.current_period_end is 'End of the period already paid for.';
comment on column public.subscriptions.cancel_at_period_end is 'True when the subscription ends at current_period_end.';
comment on column public.subscriptions.last_event_at is 'Stripe''s creation time of the last event applied; an older event never overwrites a newer one.';
comment on column public.subscriptions.created_at is 'When the row was created.';
comment on column public.subscriptions.updated_at is 'Last change to this row.';

comment on table public.stripe_events is
  'Stripe webhook events received, each recorded once so a repeated delivery is not applied twice. Platform admins read it.';
comment on column public.stripe_events.id is 'Stripe''s event id (evt_…).';
comment on column public.stripe_events.type is 'Stripe''s event type, e.g. customer.subscription.updated.';
comment on column public.stripe_events.created_at is 'When Stripe created the event.';
comment on column public.stripe_events.received_at is 'When Parley received it.';
comment on column public.stripe_events.processed_at is 'When it was applied; null if it is still to be applied.';
comment on column public.stripe_events.payload is 'The event as Stripe sent it.';

comment on table public.usage_daily is
  'Usage per tenant and day, for quotas and analytics, aggregated before old messages are deleted. Members read it; the service writes it.';
comment on column public.usage_daily.tenant_id is 'The tenant.';
comment on column public.usage_daily.day is 'The calendar day (UTC).';
comment on column public.usage_daily.conversations_started is 'Conversations started that day.';
comment on column public.usage_daily.user_messages is 'Visitor messages that day.';
comment on column public.usage_daily.bot_messages is 'Bot replies that day.';
comment on column public.usage_daily.agent_messages is 'Staff replies that day.';
comment on column public.usage_daily.tokens_in is 'Prompt tokens spent that day.';
comment on column public.usage_daily.tokens_out is 'Completion tokens spent that day.';
comment on column public.usage_daily.cost_usd is 'Language model cost that day in US dollars.';
comment on column public.usage_daily.tool_calls is 'Tool calls made that day.';
comment on column public.usage_daily.tool_failures is 'Tool calls that failed that day.';
comment on column public.usage_daily.updated_at is 'Last change to this row.';

-- Background work -------------------------------------------------------------------------------

comment on table public.jobs is
  'The durable job queue: bot replies, document ingestion, deliveries. Claimed with FOR UPDATE SKIP LOCKED, leased, retried with backoff, dead-lettered. Platform admins read it.';
comment on column public.jobs.id is 'Job id, in order of creation.';
comment on column public.jobs.tenant_id is 'The tenant the work is for, if any.';
comment on column public.jobs.kind is 'What to do, e.g. reply or ingest_document.';
comment on column public.jobs.payload is 'The job''s input as JSON.';
comment on column public.jobs.status is 'queued, running, succeeded, or dead after its last failed attempt.';
comment on column public.jobs.priority is 'Higher runs first among due jobs.';
comment on column public.jobs.ordering_key is 'Jobs sharing a key run one at a time in order (e.g. the replies of one conversation).';
comment on column public.jobs.dedupe_key is 'Unique key that makes enqueuing the same work twice a no-op.';
comment on column public.jobs.run_at is 'Not before this time (backoff after a failure).';
comment on column public.jobs.attempts is 'Attempts started so far.';
comment on column public.jobs.max_attempts is 'Attempts allowed before the job is dead.';
comment on column public.jobs.locked_by is 'The worker holding the lease.';
comment on column public.jobs.locked_until is 'When the lease expires and another worker may take the job over.';
comment on column public.jobs.last_error is 'Error of the last failed attempt.';
comment on column public.jobs.result is 'What the job produced, as JSON.';
comment on column public.jobs.created_at is 'When the job was queued.';
comment on column public.jobs.updated_at is 'Last change to this row.';
comment on column public.jobs.finished_at is 'When the job succeeded or died.';

-- Conversation engine ---------------------------------------------------------------------------

comment on table public.rate_limits is
  'Fixed-window request counters shared by every function instance. The service''s alone.';
comment on column public.rate_limits.key is 'What is limited, e.g. a visitor or an address and an action.';
comment on column public.rate_limits.window_start is 'Start of the counting window.';
comment on column public.rate_limits.hits is 'Requests counted in the window.';

comment on table public.reply_groundings is
  'How each bot reply was produced: the question, the passages retrieved, the tools called, the engine and model. The tenant''s members read it.';
comment on column public.reply_groundings.message_id is 'The bot reply described.';
comment on column public.reply_groundings.tenant_id is 'The tenant.';
comment on column public.reply_groundings.conversation_id is 'The conversation.';
comment on column public.reply_groundings.question is 'The visitor''s question as answered.';
comment on column public.reply_groundings.retrieval_query is 'The query sent to knowledge search, when it differed from the question.';
comment on column public.reply_groundings.chunks is 'Passages used: [{chunk_id, document_id, title, score, full_text_rank, semantic_rank, similarity}].';
comment on column public.reply_groundings.tool_calls is 'Tools called: [{name, call_id, execution_id, success}].';
comment on column public.reply_groundings.engine is 'What answered: ai, n8n, retrieval (search alone) or cache.';
comment on column public.reply_groundings.provider is 'The language model provider, when one answered.';
comment on column public.reply_groundings.model is 'The language model, when one answered.';
comment on column public.reply_groundings.fallback_reason is 'Why the answer came from retrieval alone, e.g. no_llm or llm_failed.';
comment on column public.reply_groundings.rounds is 'Model rounds taken, tool calls included.';
comment on column public.reply_groundings.latency_ms is 'Time from the question to the finished reply.';
comment on column public.reply_groundings.created_at is 'When the reply was made.';

comment on table public.answer_cache is
  'Recent answers per tenant and question, reused for repeated questions to save model calls. The service''s alone.';
comment on column public.answer_cache.tenant_id is 'The tenant.';
comment on column public.answer_cache.question_hash is 'Hash of the normalised question.';
comment on column public.answer_cache.reply is 'The cached reply text.';
comment on column public.answer_cache.sources is 'The citations that came with it.';
comment on column public.answer_cache.quick_replies is 'The buttons that came with it.';
comment on column public.answer_cache.grounding is 'How the cached reply was produced, copied to the new reply''s grounding.';
comment on column public.answer_cache.created_at is 'When the answer was cached; old entries expire.';

comment on table public.webhook_receipts is
  'Ids of signed webhook deliveries already received, so a replayed or retried delivery is applied once. The service''s alone.';
comment on column public.webhook_receipts.delivery_id is 'The delivery''s webhook-id.';
comment on column public.webhook_receipts.source is 'Which endpoint received it, e.g. n8n-callback.';
comment on column public.webhook_receipts.tenant_id is 'The tenant it was for, if known.';
comment on column public.webhook_receipts.received_at is 'When it was first received; old receipts are deleted.';
