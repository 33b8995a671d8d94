-- The flow definition's comment names every step type a saved flow may hold.
comment on column public.bot_flows.definition is
  'The validated flow: {steps: [{id, type: message|ask|set|media|call_tool|handoff|ai|end, ...}]}; the first step runs first. call_tool steps name tools of the same tenant.';
