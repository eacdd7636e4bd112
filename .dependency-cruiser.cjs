// The house's rules, checked by `npm test` (scripts/test.sh): no import cycle, and each layer imports
// only the layers below it (docs/ARCHITECTURE.md has the picture).
//   core  <-  events  <-  adapters  <-  targets  <-  workflows  <-  cli | web  <-  app.ts
const layer = (from, allowed) => ({
  name: `layer-${from}`,
  comment: `src/${from} may import only ${allowed.join(', ') || 'itself'}`,
  severity: 'error',
  from: { path: `^src/${from}/` },
  to: { path: '^src/', pathNot: [`^src/${from}/`, ...allowed.map((a) => `^src/${a}/`)] },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'an import cycle', severity: 'error', from: {}, to: { circular: true } },
    layer('core', []),
    layer('events', ['core']),
    layer('adapters', ['core', 'events']),
    layer('targets', ['core', 'events', 'adapters']),
    layer('workflows', ['core', 'events', 'adapters', 'targets']),
    layer('cli', ['core', 'events', 'adapters', 'workflows']),
    layer('web', ['core', 'events', 'adapters', 'workflows']),
    {
      name: 'targets-apart',
      comment: 'a target is one folder: it uses the shared seam (src/targets/*.ts), never another target',
      severity: 'error',
      from: { path: '^src/targets/([^/]+)/' },
      to: { path: '^src/targets/[^/]+/', pathNot: '^src/targets/$1/' },
    },
    {
      name: 'seam-knows-no-target',
      comment: 'the seam (src/targets/*.ts) does not import a target; only the target list (src/targets/index.ts) does',
      severity: 'error',
      from: { path: '^src/targets/[^/]+\\.ts$', pathNot: '^src/targets/index\\.ts$' },
      to: { path: '^src/targets/[^/]+/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
