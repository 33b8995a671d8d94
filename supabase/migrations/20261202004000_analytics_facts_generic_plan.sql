-- A conversation's analytics record is recounted from its messages when its first visitor message
-- or bot reply arrives and on every staff message (private.analytics_conversation_facts). Postgres
-- replanned that query on every call: for `c.id = any (p_ids)` the generic plan's estimate (an
-- array of unknown length) always looked costlier than a plan made for the actual one-element
-- array, so the kept plan was never used, and planning took two thirds of the call (1.5 ms of
-- which 1 ms planning, on the local database). Every condition is by key, so the generic plan is
-- the one a custom plan would be; keeping it makes the call about six times cheaper.
alter function private.analytics_conversation_facts(uuid[])
  set plan_cache_mode = force_generic_plan;
