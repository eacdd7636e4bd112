// The swarm target's pure parts: nodes and placement, the plan (image on every node first, update by ID,
// health per node), the refusal of a node that is no configured host, the undo, and its scripts' syntax.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ExitCode, ReleaseflowError } from '../../src/core/errors.ts';
import type { ContainerInput, InspectLike, PromotionInput } from '../../src/core/plan.ts';
import { eligibleNodes, hostOfNode, type NodeJson, type ServiceJson, toSwarmNode, toSwarmService } from '../../src/core/swarm.ts';
import { buildAtOnceScript, buildSwarmUpdateScript, buildTaskHealthScript } from '../../src/core/swarm-scripts.ts';
import { planRelease } from '../../src/targets/plan.ts';
import { swarmTarget } from '../../src/targets/swarm/index.ts';
import { type SwarmFacts, serviceNames, standIn } from '../../src/targets/swarm/observe.ts';
import { planSwarmBack, type SwarmData, type SwarmServiceRelease } from '../../src/targets/swarm/plan.ts';
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
    ['snapshot prod', 'transfer prod', 'transfer prod2', 'transfer prod3', 'tag prod', 'tag prod2', 'tag prod3', 'swarm-update prod', 'health prod', 'health prod2', 'health prod3'],
  );
  // the new version is named on every node as on TEST: a stack file naming it deploys with no registry
  const nodeTag = plan.steps.find((s) => s.name === 'tag images on prod3')!;
  assert.ok(nodeTag.kind === 'exec' && nodeTag.commands[0]!.argv!.join(' ') === `docker tag ${newId} ragflowauth-backend:v2`, JSON.stringify(nodeTag));
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

test('status and doctor: a service a name stands for is shown as the service (tasks, stack, nodes), with what would stop a release', () => {
  const healthy = factsOf();
  const t = healthy.targets.get('ragflowauth-backend')!;
  t.tasks = '3/3';
  t.stands = true;
  const [v] = swarmTarget.views!(healthy);
  assert.equal(v!.container, 'ragflowauth-backend');
  assert.equal(v!.mode, 'swarm');
  assert.equal(v!.state, '3/3 running');
  assert.equal(v!.imageId, V1);
  assert.deepEqual(v!.problems, []);
  assert.match(v!.notes[0]!, /3 replica\(s\).* prod 10\.0\.0\.12 = prod, prod2 10\.0\.0\.13 = prod2, prod3 10\.0\.0\.14 = prod3/);
  // a task down, an update paused, a node no configured host is: each a problem with its fix
  const sick = factsOf([...NODES, toSwarmNode(node('n9', 'prod9', '10.0.0.99'))]);
  const s = sick.targets.get('ragflowauth-backend')!;
  s.tasks = '2/3';
  s.stands = true;
  s.service.updateState = 'paused';
  const p = swarmTarget.views!(sick)[0]!.problems;
  assert.equal(p.length, 3, JSON.stringify(p));
  assert.match(p[0]!.message, /2\/3 task\(s\) running/);
  assert.match(p[1]!.message, /paused/);
  assert.match(p[2]!.message, /node prod9 \(10\.0\.0\.99\), which is no configured host/);
  assert.match(p[2]!.fix!, /add prod9 under hosts: with address 10\.0\.0\.99/);
  // a task container planned as itself is a container: no view
  s.stands = false;
  assert.deepEqual(swarmTarget.views!(sick), []);
});

test('the services of one release are updated at once: one step, each waited for on its own, failing when any fails', () => {
  const svc = (container: string, service: string): SwarmServiceRelease => ({ container, service, stack: 'ragflowauth', prevId: V1, imageId: `sha256:${'2'.repeat(64)}`, failureAction: 'pause', tasks: 3, timeoutS: 60, nodes: ['prod', 'prod2'], healthTimeoutMs: 10_000 });
  const data: SwarmData = { manager: 'prod', services: [svc('ragflowauth-frontend', 'ragflowauth_frontend'), svc('ragflowauth-backend', 'ragflowauth_backend')] };
  const back = planSwarmBack(data, 'prev', 1000, 'undo');
  assert.deepEqual(
    back.steps.map((s) => `${s.act} ${s.host} ${s.name}`),
    ['swarm-update prod update services ragflowauth_frontend, ragflowauth_backend at once', 'health prod health ragflowauth_frontend on prod', 'health prod2 health ragflowauth_frontend on prod2', 'health prod health ragflowauth_backend on prod', 'health prod2 health ragflowauth_backend on prod2'],
  );
  assert.deepEqual(back.steps[0]!.affects, ['ragflowauth-frontend', 'ragflowauth-backend']);
  const script = back.steps[0]!.kind === 'exec' ? back.steps[0]!.commands[0]!.script! : '';
  for (const svc of ['ragflowauth_frontend', 'ragflowauth_backend']) assert.ok(script.includes(`--image ${V1} --no-resolve-image --update-failure-action pause ${svc}`), script);
  execFileSync('dash', ['-n', '-c', script]);
  // the combination itself: both run at the same time; one failure fails the step, after both ended
  const t0 = Date.now();
  const ok = spawnSync('dash', ['-c', buildAtOnceScript(['sleep 1; echo a; exit 0', 'sleep 1; echo b; exit 0'])], { encoding: 'utf8' });
  assert.equal(ok.status, 0);
  assert.ok(Date.now() - t0 < 1900, `at once: ${Date.now() - t0} ms`);
  const bad = spawnSync('dash', ['-c', buildAtOnceScript(['exit 3', 'sleep 0.3; echo second ran'])], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /second ran/);
  // one service: its own steps, as before
  assert.equal(planSwarmBack({ ...data, services: [data.services[0]!] }, 'prev', 1000, 'undo').steps[0]!.name, 'update service ragflowauth_frontend');
});

test('nodes that mix image stores: refused before anything changes (exit 2), naming each node and its store', () => {
  const mixed = factsOf();
  mixed.targets.get('ragflowauth-backend')!.stores = new Map([['prod', 'classic'], ['prod2', 'containerd'], ['prod3', 'classic']]);
  assert.throws(
    () => planRelease(swarmInput(mixed), [{ target: swarmTarget, observed: observed(mixed) }]),
    (e: unknown) => e instanceof ReleaseflowError && e.exitCode === ExitCode.usage && /mix image stores: prod \(classic\), prod2 \(containerd\), prod3 \(classic\)/.test(e.message) && /one image store/.test(e.detail.fix ?? ''),
  );
  // one store everywhere (or unknown on some): planned as before
  const same = factsOf();
  same.targets.get('ragflowauth-backend')!.stores = new Map([['prod', 'containerd'], ['prod2', 'containerd'], ['prod3', undefined]]);
  assert.ok(planRelease(swarmInput(same), [{ target: swarmTarget, observed: observed(same) }]).steps.length > 0);
});
