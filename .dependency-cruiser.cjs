// The import graph's rules, checked by `npm run lint:imports` (part of `npm test`). Circles make
// load order and refactoring fragile; the layer rules keep the generic plumbing reusable by every
// feature, keep the deployed code free of the local stand-in, and keep the browser bundles to
// their own sources (they reach functions over HTTP only).
//
// swc parses the sources as written, type-only imports included, so a circle made of `import type`
// counts too. It runs under Deno because the dependency-cruiser release that parses .tsx with swc
// needs a newer Node than the one package.json promises to support.

const PLUMBING = '^functions/_shared/(jobs|db|http|webhooks)/';
const FEATURES = '^functions/_shared/(agent|knowledge|llm|embeddings)/';
// The module that hands the job runner its handlers is where features meet the queue.
const COMPOSITION = '^functions/_shared/job-handlers[.]ts$';
const PRODUCTION = '^(functions|widget|admin)/';
// Build scripts run on the developer's machine and ship nothing of themselves: they may take the
// local stack's defaults (its publishable key) to bake into a local build.
const BUILD_SCRIPTS = '^(widget|admin)/build[.]mjs$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Share the types or helpers both sides need through a module both import.',
      severity: 'error',
      from: { path: PRODUCTION },
      to: { circular: true },
    },
    {
      name: 'plumbing-knows-no-features',
      comment:
        'Jobs, db, http and webhooks serve every feature; features plug in from above (see _shared/job-handlers.ts).',
      severity: 'error',
      from: { path: PLUMBING },
      to: { path: [FEATURES, COMPOSITION] },
    },
    {
      name: 'production-never-imports-the-local-stack',
      comment: 'The same functions, widget and admin run unchanged on Supabase.',
      severity: 'error',
      from: { path: PRODUCTION, pathNot: BUILD_SCRIPTS },
      to: { path: '^supabase/local/' },
    },
    {
      name: 'browser-code-never-imports-functions',
      comment: 'The widget and the admin SPA talk to functions over HTTP and Realtime only.',
      severity: 'error',
      from: { path: '^(widget|admin)/' },
      to: { path: '^functions/' },
    },
    {
      name: 'no-unresolvable-imports',
      comment: 'An import the checker cannot resolve is one the rules above cannot see.',
      severity: 'error',
      from: { path: PRODUCTION },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    // Resolve packages the way the bundler and Deno do, through their "exports" maps.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
