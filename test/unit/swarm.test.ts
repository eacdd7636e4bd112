// The swarm target's pure parts: nodes and placement, the plan (image on every node first, update by ID,
// health per node), the refusal of a node that is no configured host, the undo, and its scripts' syntax.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { ExitCode, ReleaseflowError } from '../../src/core/errors.ts';
import type { ContainerInput, InspectLike, PromotionInput } from '../../src/core/plan.ts';
import { eligibleNodes, hostOfNode, type NodeJson, type ServiceJson, toSwarmNode, toSwarmService } from '../../src/core/swarm.ts';
import { buildSwarmUpdateScript, buildTaskHealthScript } from '../../src/core/swarm-scripts.ts';
import { planRelease } from '../../src/targets/plan.ts';
import { swarmTarget } from '../../src/targets/swarm/index.ts';
import { type SwarmFacts, serviceNames, standIn } from '../../src/targets/swarm/observe.ts';
import type { SwarmData } from '../../src/targets/swarm/plan.ts';
import type { Observed } from '../../src/targets/target.ts';
import { transferRunEnd } from '../../src/workflows/execute.ts';
import { rebuildContainer } from '../../src/workflows/rebuild.ts';
import { fixture } from './fixtures.ts';

const V1 = `sha256:${'1'.repeat(64)}`;
const hosts = [
  { name: 'test', address: '10.0.0.11' },
  { name: 'prod', address: '10.0.0.12' },
  { name: 'prod2', address: '10.0.0.13' },
  { name: 'prod3', address: '10.0.0.14' },
];

const node = (id: string, hostname: string, addr: string, role = 'worker', labels: Record<string, string> = {}): NodeJson => ({ ID: id, Spec: { Role: role, Availability: 'active', Labels: labels }, Description: { Hostname: hostname }, Status: { State: 'ready', Addr: addr } });
const NODES = [node('n1', 'prod', '10.0.0.12', 'manager'), node('n2', 'prod2', '10.0.0.13', 'worker', { tier: 'web' }), node('n3', 'prod3', '10.0.0.14')].map(toSwarmNode);

const service = (constraints: string[] = []): ServiceJson => ({
  ID: 'svc1',
  Spec: { Name: 'ragflowauth-backend', TaskTemplate: { ContainerSpec: { Image: V1 }, Placement: { Constraints: constraints } }, Mode: { Replicated: { Replicas: 3 } }, UpdateConfig: { Parallelism: 1, Delay: 1e9, FailureAction: 'pause', Monitor: 2e9 } },
});

test('placement: every ready active node, or those the constraints allow; nodes match configured hosts by address', () => {
  assert.deepEqual(eligibleNodes(toSwarmService(service()), NODES).map((n) => n.hostname), ['prod', 'prod2', 'prod3']);
  assert.deepEqual(eligibleNodes(toSwarmService(service(['node.role==worker'])), NODES).map((n) => n.hostname), ['prod2', 'prod3']);
  assert.deepEqual(eligibleNodes(toSwarmService(service(['node.labels.tier == web'])), NODES).map((n) => n.hostname), ['prod2']);
  assert.deepEqual(eligibleNodes(toSwarmService(service(['node.hostname!=prod3'])), NODES).map((n) => n.hostname), ['prod', 'prod2']);
  assert.equal(hostOfNode(NODES[1]!, hosts), 'prod2');
  assert.equal(hostOfNode(toSwarmNode(node('n9', 'elsewhere', '10.9.9.9')), hosts), undefined);
});

function swarmInput(facts: SwarmFacts): PromotionInput {
  const t = facts.targets.get('ragflowauth-backend')!;
  const c: ContainerInput = {
    name: 'ragflowauth-backend',
    healthUrl: 'http://127.0.0.1:8001/health',
    healthTimeoutMs: 20_000,
    source: fixture('test-backend-v2.inspect.json'),
    sourceImage: fixture('image-backend-v1.inspect.json'),
    target: standIn(t),
    targetImage: { Id: V1 },
    targetMode: 'swarm',
    targetHasSourceImage: false,
  };
  return { app: 'ragflowauth', releaseId: '20261206T070000Z', stateDir: '/var/lib/releaseflow', from: hosts[0]!, to: hosts[1]!, containers: [c], intervalMs: 1000, rebuild: (x, image, envFile) => rebuildContainer(x, image, envFile, []) };
}

const factsOf = (nodes = NODES): SwarmFacts => {
  const s = toSwarmService(service());
  return { targets: new Map([['ragflowauth-backend', { container: 'ragflowauth-backend', service: s, imageId: V1, nodes: eligibleNodes(s, nodes).map((n) => ({ node: n, host: hostOfNode(n, hosts) })) }]]) };
};

const observed = (facts: SwarmFacts): Observed<SwarmFacts> => ({ facts, header: [], warnings: [] });

test('a swarm release: the image reaches every node before the service changes, then one update by ID and health on each node', () => {
  const input = swarmInput(factsOf());
  const newId = (input.containers[0]!.source as InspectLike).Image;
  const plan = planRelease(input, [{ target: swarmTarget, observed: observed(factsOf()) }]);
  assert.deepEqual(
    plan.steps.map((s) => `${s.act} ${s.host}`),
    ['snapshot prod', 'transfer prod', 'transfer prod2', 'transfer prod3', 'tag prod', 'swarm-update prod', 'health prod', 'health prod2', 'health prod3'],
  );
  // the transfers to the manager and the nodes run at once (executePlan), the other steps one by one
  assert.deepEqual([0, 1, 4, 5].map((i) => transferRunEnd(plan.steps, i)), [1, 4, 5, 6]);
  const update = plan.steps.find((s) => s.act === 'swarm-update')!;
  assert.ok(update.kind === 'exec' && update.commands[0]!.script!.includes(`docker service update --detach --quiet --image ${newId} --no-resolve-image ragflowauth-backend`));
  const snap = plan.steps[0]!;
  assert.ok(snap.kind === 'exec' && snap.commands.some((c) => c.script?.includes('docker service inspect ragflowauth-backend >/var/lib/releaseflow/ragflowauth/releases/20261206T070000Z/ragflowauth-backend.service.json')));
  // the undo puts the service back on the previous image by ID, the journal's script does the same
  const data = plan.parts![0]!.data as SwarmData;
  const undo = swarmTarget.undo(data, { plan, containers: plan.containers, before: new Map(), intervalMs: 1000 });
  assert.deepEqual(undo.steps.map((s) => `${s.act} ${s.host}`), ['swarm-update prod', 'health prod', 'health prod2', 'health prod3']);
  assert.ok(undo.scripts[0]!.includes(`--image ${V1} --no-resolve-image --update-failure-action pause ragflowauth-backend`));
  assert.deepEqual(undo.manual, [`docker service update --image ${V1} --no-resolve-image --update-failure-action pause ragflowauth-backend`]);
});

test('a node that may run the service but is no configured host: refused before anything changes (exit 2)', () => {
  const nodes = [...NODES, toSwarmNode(node('n4', 'prod4', '10.0.0.15'))];
  assert.throws(
    () => planRelease(swarmInput(factsOf(nodes)), [{ target: swarmTarget, observed: observed(factsOf(nodes)) }]),
    (e: unknown) => e instanceof ReleaseflowError && e.exitCode === ExitCode.usage && /prod4 \(10\.0\.0\.15\) may run service ragflowauth-backend/.test(e.message) && /hosts:/.test(e.detail.fix ?? ''),
  );
});

test('the update and health scripts are valid POSIX sh (dash -n)', () => {
  const scripts = [
    buildSwarmUpdateScript({ service: "it's", imageId: V1, failureAction: 'pause', tasks: 3, timeoutS: 60 }),
    buildTaskHealthScript({ service: 'svc', imageId: V1, url: 'http://127.0.0.1:8001/health?a=$b', timeoutS: 10, intervalS: 1 }),
    buildTaskHealthScript({ service: 'svc', imageId: V1, timeoutS: 10, intervalS: 1 }),
  ];
  for (const s of scripts) execFileSync('dash', ['-n', '-c', s]);
});

test('which service a config name stands for: its service: key, a task container label, else the name when no container has it', () => {
  const task = { Id: 'c1', Name: '/x.1.abc', Image: V1, Config: { Image: V1, Labels: { 'com.docker.swarm.service.name': 'x' } }, HostConfig: {} };
  const plain = { Id: 'c2', Name: '/web', Image: V1, Config: { Image: 'web:1', Labels: {} }, HostConfig: {} };
  const containers = new Map<string, InspectLike | undefined>([
    ['ragflowauth-backend', undefined],
    ['ragflowauth-frontend', undefined],
    ['x.1.abc', task],
    ['web', plain],
  ]);
  assert.deepEqual(
    [...serviceNames(containers, new Map([['ragflowauth-frontend', 'ragflowauth_frontend']]))],
    [
      ['ragflowauth-backend', 'ragflowauth-backend'],
      ['ragflowauth-frontend', 'ragflowauth_frontend'],
      ['x.1.abc', 'x'],
    ],
  );
});
