// The seam (src/targets/target.ts): a third target, written here and nowhere else, joins a release
// through the target list alone: it is picked by its facts, planned, undone and recorded like run and compose.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerInput, InspectLike, PromotionInput } from '../../src/core/plan.ts';
import type { Step } from '../../src/core/step.ts';
import { composeTarget } from '../../src/targets/compose/index.ts';
import { TARGETS } from '../../src/targets/index.ts';
import { planRelease } from '../../src/targets/plan.ts';
import { runTarget } from '../../src/targets/run/index.ts';
import { type AnyTarget, ownerOf, partsOf, type ReleaseTarget } from '../../src/targets/target.ts';
import { rebuildContainer } from '../../src/workflows/rebuild.ts';
import { fixture } from './fixtures.ts';

const LABEL = 'test.releaseflow/restart';

/** A trivial target: containers with LABEL are released by `docker restart` and undone by another restart. */
const restartTarget: ReleaseTarget<Set<string>, { names: string[] }> = {
  name: 'restart',
  restores: 'the restarted containers',
  observe: async (_host, containers) => ({ facts: new Set([...containers].filter(([, c]) => c?.Config.Labels?.[LABEL]).map(([n]) => n)), header: ['restart: by label'], warnings: [], via: 'docker restart' }),
  claims: (name, facts) => facts.has(name),
  plan: (input, mine) => ({
    snapshot: [{ script: 'echo restart-snapshot' }],
    tagAs: new Map(),
    steps: mine.map((c): Step => ({ kind: 'exec', act: 'swap', name: `restart ${c.name}`, host: input.to.name, container: c.name, cause: 'restart it', commands: [{ argv: ['docker', 'restart', c.name] }] })),
    warnings: [],
    data: { names: mine.map((c) => c.name) },
  }),
  undo: (data) => ({ targets: [], scripts: data.names.map((n) => `docker restart ${n}`), steps: [], manual: [] }),
  record: async (_host, data) => ({ restarted: data.names }),
  recorded: (entry) => ((entry.restarted as string[] | undefined) ?? []).filter((n) => entry.containers.some((c) => c.name === n)),
  restore: async () => ({ header: [], prepare: [], steps: [], undo: () => ({ targets: [], scripts: [], steps: [], manual: [] }), prevNameOf: (c) => c.prevName }),
};

const labelled = (name: string): InspectLike => {
  const c = structuredClone(fixture(`prod-${name}-v1.inspect.json`));
  c.Config.Labels = { ...c.Config.Labels, [LABEL]: 'true' };
  return c;
};

function input(containers: ContainerInput[]): PromotionInput {
  return {
    app: 'ragflowauth',
    releaseId: '20261206T040000Z',
    stateDir: '/var/lib/releaseflow',
    from: { name: 'test', address: '10.213.7.11' },
    to: { name: 'prod', address: '10.213.7.12' },
    containers,
    intervalMs: 1000,
    rebuild: (c, image, envFile) => rebuildContainer(c, image, envFile, []),
  };
}

const container = (name: 'backend' | 'frontend', target: InspectLike, mode: string): ContainerInput => ({
  name: `ragflowauth-${name}`,
  healthUrl: undefined,
  healthTimeoutMs: 30_000,
  source: fixture(`test-${name}-v2.inspect.json`),
  sourceImage: fixture(`image-${name}-v1.inspect.json`),
  target,
  targetImage: fixture(`image-${name}-v1.inspect.json`),
  targetMode: mode,
  targetHasSourceImage: false,
});

test('a third target is picked by its facts, planned in list order, and its part undone and recorded', async () => {
  const targets: AnyTarget[] = [...TARGETS, restartTarget];
  const backend = labelled('backend');
  const frontend = fixture('prod-frontend-v1.inspect.json');
  const dst = new Map<string, InspectLike | undefined>([
    ['ragflowauth-backend', backend],
    ['ragflowauth-frontend', frontend],
  ]);
  const observed = await Promise.all(targets.map(async (t) => ({ target: t, observed: t === composeTarget ? { facts: { targets: new Map(), warnings: [], header: [] }, header: [], warnings: [] } : await t.observe(undefined as never, dst, { hosts: [] }) })));
  const facts = new Map(observed.map((o) => [o.target.name, o.observed.facts]));
  assert.equal(ownerOf(targets, facts, 'ragflowauth-backend'), restartTarget, 'the label claims the backend');
  assert.equal(ownerOf(targets, facts, 'ragflowauth-frontend'), runTarget, 'run releases what no other target claims');

  const plan = planRelease(input([container('backend', backend, 'restart'), container('frontend', frontend, 'run')]), observed);
  assert.deepEqual(
    plan.steps.map((s) => `${s.act} ${s.name}`),
    ['snapshot snapshot', 'transfer transfer ragflowauth-backend:v2', 'transfer transfer ragflowauth-frontend:v2', 'tag tag images', 'swap swap ragflowauth-frontend', 'health health ragflowauth-frontend', 'swap restart ragflowauth-backend'],
  );
  const snap = plan.steps[0]!;
  assert.ok(snap.kind === 'exec' && snap.commands.some((c) => c.script === 'echo restart-snapshot'), "the target's snapshot joins the shared one");
  assert.ok(plan.header.includes('mode on prod: mixed (restart: ragflowauth-backend; the rest run) via docker restart'));
  assert.ok(plan.header.includes('restart: by label'));
  assert.deepEqual(plan.parts?.map((p) => [p.target, p.containers]), [['run', ['ragflowauth-frontend']], ['restart', ['ragflowauth-backend']]]);

  // what finishRelease does with the parts: each target's undo and record, by the part's target name
  const parts = partsOf(targets, plan);
  assert.deepEqual(parts.map((p) => p.target.name), ['run', 'restart']);
  const restart = parts.find((p) => p.target === restartTarget)!;
  assert.deepEqual(restart.target.undo(restart.part.data, { plan, containers: [], before: new Map(), intervalMs: 1000 }).scripts, ['docker restart ragflowauth-backend']);
  assert.deepEqual(await restart.target.record?.(undefined as never, restart.part.data), { restarted: ['ragflowauth-backend'] });
  // a plan whose target this releaseflow lacks is refused by name, not guessed
  assert.throws(() => partsOf(TARGETS, plan), /release target restart/);
});

test('a rollout: the canary alone first, then batches of a number of hosts or a share of the fleet', async () => {
  const { batchesOf } = await import('../../src/workflows/rollout.ts');
  const hosts = ['p1', 'p2', 'p3', 'p4', 'p5'];
  assert.deepEqual(batchesOf(hosts, { canary: 1, batch: 2 }), [['p1'], ['p2', 'p3'], ['p4', 'p5']]);
  assert.deepEqual(batchesOf(hosts, { canary: 0, batch: '40%' }), [['p1', 'p2'], ['p3', 'p4'], ['p5']]);
  assert.deepEqual(batchesOf(hosts, { canary: 2, batch: '100%' }), [['p1', 'p2'], ['p3', 'p4', 'p5']]);
  assert.deepEqual(batchesOf(['p1'], { canary: 3, batch: 1 }), [['p1']]);
});
