// The swarm target on a lab of its own: TEST and three PRODs, the PRODs one swarm (prod the manager),
// the backend a 3-replica service (host-mode port, one task per node, pinned by sha256 ID). A release
// puts the image on every node by ID before the service changes, and no node contacts a registry; a
// failing health check puts every task back (UpdateStatus read, not the CLI's exit code); rollback
// restores the release before.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startReleaseflow } from './faults-lib.ts';
import { launchChromium, startUi } from '../web/harness.ts';
import { labDocker, labInfo, labScript, releaseflow } from './lab.ts';

const DIR = process.env.RF_SWARM_LAB_DIR ?? '/tmp/rfl-swarm';
// the engine of the run (npm run test:engines sets LAB_ENGINE for its whole-suite runs; 20.10 otherwise)
const ENV: NodeJS.ProcessEnv = { LAB_PREFIX: 'rfw', LAB_NET: '10.213.67', LAB_HOSTS: 'test prod prod2 prod3', LAB_ENGINE: process.env.LAB_ENGINE ?? '', LAB_CLI: '' };
const NODES = ['prod', 'prod2', 'prod3'];
const SVC = 'ragflowauth-backend';

function skip(): string | false {
  if (process.getuid?.() !== 0) {
    if (process.env.CI === 'true') throw new Error('the swarm lab needs root and CI=true: lab tests must not skip');
    return 'needs root (the lab makes namespaces)';
  }
  return false;
}

const lab = (args: string[]) => labScript(args, { dir: DIR, env: ENV });
const dk = (host: string, args: string[]) => labDocker(host, args, undefined, DIR).trim();
const testId = (ref: string) => dk('test', ['image', 'inspect', '-f', '{{.Id}}', ref]);
const hasId = (host: string, id: string) => dk(host, ['image', 'ls', '-q', '--no-trunc']).split('\n').includes(id);
/** The image ID of every running task container of the service on one node. */
const taskImages = (host: string) =>
  dk(host, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${SVC}`])
    .split('\n')
    .filter(Boolean)
    .map((c) => dk(host, ['inspect', '-f', '{{.Image}}', c]));
const service = () => JSON.parse(dk('prod', ['service', 'inspect', SVC]))[0];
/** Lines of a node's dockerd log that say it tried to pull an image from a registry. */
const pulls = (host: string) => readFileSync(join(DIR, 'hosts', host, 'dockerd.log'), 'utf8').split('\n').filter((l) => /pulling image|pull access|registry-1\.docker\.io/i.test(l)).length;
/** TEST runs backend vN by plain docker run (what the release takes). */
const testRuns = (v: string) => {
  dk('test', ['rm', '-f', SVC]);
  dk('test', ['run', '-d', '--name', SVC, '-p', '8001:8001', `${SVC}:${v}`]);
};

/** The lab's config for the backend alone (the service), with a short health timeout. */
function swarmConfig(): string {
  const text = readFileSync(labInfo(DIR)!.config, 'utf8')
    .replace(/^containers:\n(?:\s+-.*\n|\s{4}.*\n)*/m, `containers:\n  - ${SVC}\n`)
    .replace(/timeout: \d+s/, 'timeout: 10s');
  const file = join(mkdtempSync(join(tmpdir(), 'rf-swarm-')), 'releaseflow.yml');
  writeFileSync(file, text);
  return file;
}
/** Wait until no release on the host is still `started` (its crash guard restored it, or it ended). */
async function waitJournals(host: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const states = () => labScript(['exec', host, 'sh', '-c', 'cat /var/lib/releaseflow/ragflowauth/releases/*/state 2>/dev/null; true'], { dir: DIR, env: ENV });
  while (/started/.test(states())) {
    if (Date.now() > deadline) throw new Error(`a release on ${host} is still started`);
    await sleep(500);
  }
}
const rf = (args: string[], cfg: string) => releaseflow(args, { labDir: DIR, env: { RELEASEFLOW_CONFIG: cfg } });

/** Every node runs exactly one task of the service, on this image; the spec names it; the update completed. */
function assertAllOn(id: string, what: string, updated = true): void {
  for (const h of NODES) assert.deepEqual(taskImages(h), [id], `${what}: the task on ${h}`);
  const s = service();
  assert.equal(s.Spec.TaskTemplate.ContainerSpec.Image, id, `${what}: the service's spec`);
  // a service never updated has no UpdateStatus
  if (updated) assert.equal(s.UpdateStatus?.State, 'completed', `${what}: UpdateStatus ${JSON.stringify(s.UpdateStatus)}`);
}

// the 4-host lab goes when the file ends (the other lanes' files need the machine)
after(() => {
  if (existsSync(`${DIR}/lab.env`)) lab(['down']);
});

describe('a swarm service of 3 replicas on 3 nodes', { skip: skip() }, () => {
  let cfg = '';
  before(() => {
    // a lab left by an earlier run: out of its swarm first (seed would fight the service for port 8001)
    if (existsSync(`${DIR}/lab.env`)) lab(['swarm', 'down']);
    lab(['demo-up']);
    lab(['swarm']);
    lab(['seed-swarm', 'v1']);
    cfg = swarmConfig();
  });

  test('lab.sh swarm: one manager, two workers, all Ready; no IPVS recorded', () => {
    const nodes = dk('prod', ['node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}']).split('\n').map((l) => l.trim()).sort();
    assert.deepEqual(nodes, ['prod Ready Leader', 'prod2 Ready', 'prod3 Ready']);
    const info = JSON.parse(readFileSync(join(DIR, 'lab.json'), 'utf8'));
    assert.equal(info.ipvs, existsSync('/proc/net/ip_vs'));
    assert.deepEqual(info.swarm, { manager: 'prod', workers: ['prod2', 'prod3'], ipvs: existsSync('/proc/net/ip_vs') });
    assertAllOn(testId(`${SVC}:v1`), 'seeded', false);
  });

  test('a node that may run the service is no configured host: exit 2, nothing moves', () => {
    const without = join(mkdtempSync(join(tmpdir(), 'rf-swarm-')), 'releaseflow.yml');
    writeFileSync(without, readFileSync(cfg, 'utf8').replace(/^ {2}prod3:\n(?: {4}.*\n)+/m, ''));
    assert.doesNotMatch(readFileSync(without, 'utf8'), /prod3/);
    const r = rf(['promote', '--yes'], without);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /swarm node\(s\) prod3 \(10\.213\.67\.14\) may run service ragflowauth-backend but no host under hosts: has that address/);
    const v2 = testId(`${SVC}:v2`);
    for (const h of NODES) assert.equal(hasId(h, v2), false, `${h} got no image`);
    assertAllOn(testId(`${SVC}:v1`), 'untouched', false);
  });

  test('services: names a service the manager does not run: exit 2 naming it, nothing moves', () => {
    const wrong = join(mkdtempSync(join(tmpdir(), 'rf-swarm-')), 'releaseflow.yml');
    writeFileSync(wrong, readFileSync(cfg, 'utf8').replace(/^containers:\n(?:\s+-.*\n)*/m, `services:\n  - { name: ragflowauth_nothere, container: ${SVC} }\n`));
    const r = rf(['promote', '--yes'], wrong);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /ragflowauth_nothere is not a swarm service on prod/);
    assert.match(r.out, /fix: +check on prod: docker service ls/);
    for (const h of NODES) assert.equal(hasId(h, testId(`${SVC}:v2`)), false, `${h} got no image`);
  });

  test('promote --relay v1 -> v2: one docker save on TEST for the 3 nodes, the image on each by ID, every task on v2, no node pulls', () => {
    const v2 = testId(`${SVC}:v2`);
    for (const h of NODES) assert.equal(hasId(h, v2), false, `${h} lacks v2 before the release`);
    const pulled = NODES.map(pulls);
    const t0 = Date.now();
    const r = rf(['promote', '--yes', '--relay', '-v'], cfg);
    const took = Date.now() - t0;
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /mode on prod: swarm/);
    assert.match(r.out, /relay: one docker save on test for all hosts, streamed to them through this machine: image [0-9a-f]{12}: test → prod, prod2, prod3/, r.out);
    assert.equal((r.out.match(/from test's one docker save for all hosts\); Loaded image/g) ?? []).length, 2, 'two nodes read the first save');
    assert.doesNotMatch(r.out, /pulling it from test instead/);
    for (const h of NODES) assert.equal(hasId(h, v2), true, `${h} holds v2 by ID`);
    assertAllOn(v2, 'released');
    assert.deepEqual(NODES.map(pulls), pulled, 'no pulling image line in any dockerd log since the release');
    const history = rf(['history', '--json'], cfg);
    assert.equal(history.code, 0, history.out);
    // the new version is named on every node as on TEST (a stack file naming it runs with no registry)
    for (const h of NODES) assert.equal(dk(h, ['image', 'inspect', '-f', '{{.Id}}', `${SVC}:v2`]), v2, `${SVC}:v2 on ${h}`);
    process.stdout.write(`# swarm release of 3 replicas: ${took} ms\n`);
  });

  test('status and doctor show the service (tasks, image, nodes), not a missing container', () => {
    const v2 = testId(`${SVC}:v2`);
    const st = rf(['status'], cfg);
    assert.equal(st.code, 0, st.out);
    assert.match(st.stdout, new RegExp(`${SVC}\\s+swarm\\s+service ${SVC}: 3/3 running\\s+${v2.slice(7, 19)}`), st.stdout);
    assert.match(st.stdout, /swarm service ragflowauth-backend \(3 replica\(s\), update completed\) may run on prod 10\.213\.67\.12 = prod/);
    assert.doesNotMatch(st.stdout, /prod \(.*\n(?:.*\n)*?\s+ragflowauth-backend\s+-\s+missing/);
    const json = JSON.parse(rf(['status', '--json'], cfg).stdout);
    const view = json.hosts.find((h: { host: string }) => h.host === 'prod').views[0];
    assert.equal(view.details.tasks, '3/3');
    assert.equal(view.imageId, v2);
    assert.deepEqual(view.details.nodes.map((n: { host: string }) => n.host), ['prod', 'prod2', 'prod3']);
    const doc = rf(['doctor'], cfg);
    assert.match(doc.stdout, /PASS\s+ragflowauth-backend: swarm service ragflowauth-backend, 3\/3 running/, doc.stdout);
    assert.doesNotMatch(doc.stdout, /container ragflowauth-backend not found on prod/);
  });

  test('the dashboard shows the service on the manager: Status lists it with its tasks (API and page)', async () => {
    const ui = await startUi(cfg);
    try {
      const st = await (await fetch(`${ui.base}/api/status?token=${ui.token}`)).json();
      assert.deepEqual(st.hosts.map((h: { host: string; role: string }) => `${h.host} ${h.role}`), ['test from', 'prod to']);
      const view = st.hosts.find((h: { host: string }) => h.host === 'prod').views[0];
      assert.deepEqual([view.container, view.what, view.state], [SVC, `service ${SVC}`, '3/3 running']);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        page.on('pageerror', (e) => assert.fail(`error on the page: ${e.message}`));
        await page.goto(ui.url);
        await page.locator('#tabbtn-status').click();
        const row = page.locator(`.host[data-host="prod"] tr[data-view="service ${SVC}"]`);
        await row.waitFor({ timeout: 30_000 });
        assert.match((await row.textContent()) ?? "", /swarm service ragflowauth-backend[\s\S]*3\/3 running/);
      } finally {
        await browser.close();
      }
    } finally {
      await ui.stop();
    }
  });

  test('promote v3 (health fails): exit 1, every task back on v2, UpdateStatus checked', () => {
    const [v2, v3] = [testId(`${SVC}:v2`), testId(`${SVC}:v3`)];
    testRuns('v3');
    const pulled = NODES.map(pulls);
    const t0 = Date.now();
    const r = rf(['promote', '--yes'], cfg);
    const took = Date.now() - t0;
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /not healthy on prod/);
    assert.match(r.out, /rolled back: prod runs every service on its previous image again/);
    // v3 had reached every node before the service changed
    for (const h of NODES) assert.equal(hasId(h, v3), true, `${h} holds v3 by ID`);
    assertAllOn(v2, 'after the failed release');
    assert.deepEqual(NODES.map(pulls), pulled, 'no pull during the failed release or its rollback');
    process.stdout.write(`# swarm release failing its health check, then rolled back: ${took} ms\n`);
  });

  test('rollback while the previous image is gone from a worker: exit 2 names that node, nothing changes', () => {
    const [v1, v2] = [testId(`${SVC}:v1`), testId(`${SVC}:v2`)];
    dk('prod3', ['rmi', '-f', v1]);
    try {
      assert.equal(hasId('prod3', v1), false, 'prod3 lost v1');
      const r = rf(['rollback', '--yes'], cfg);
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /are gone from prod3/);
      assertAllOn(v2, 'after the refused rollback');
    } finally {
      // put v1 back on prod3 from the manager, by ID, for the rollback below
      const sock = (h: string) => labInfo(DIR)!.hosts[h]!.dockerSock;
      execFileSync('bash', ['-c', 'set -o pipefail; docker -H "$1" save "$3" | docker -H "$2" load', 'bash', sock('prod'), sock('prod3'), v1], { stdio: 'pipe' });
    }
    assert.equal(hasId('prod3', v1), true, 'prod3 holds v1 again');
    // its tag too: the lab's later seeds keep the app's images by tag
    dk('prod3', ['tag', v1, `${SVC}:v1`]);
  });

  test('releaseflow rollback: the last release (v1 -> v2) undone, every task on v1', () => {
    const v1 = testId(`${SVC}:v1`);
    const r = rf(['rollback', '--yes'], cfg);
    assert.equal(r.code, 0, r.out);
    assertAllOn(v1, 'after rollback');
  });

  test('releaseflow killed during the service update: the crash guard on the manager puts every task back on v1', async () => {
    const v1 = testId(`${SVC}:v1`);
    testRuns('v2');
    const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: cfg });
    await run.waitFor(/update service ragflowauth-backend started on prod/, 240_000);
    await sleep(3000);
    process.kill(run.child.pid!, 'SIGKILL');
    await run.exited;
    await waitJournals('prod', 180_000);
    assertAllOn(v1, 'restored by the guard');
    const rec = rf(['recover', '--yes'], cfg);
    assert.equal(rec.code, 0, rec.out);
  });
});

/** The lab's config for a stack's two services under services: (issue 14's key), frontend first, with a short health timeout. */
function stackConfig(): string {
  const text = readFileSync(labInfo(DIR)!.config, 'utf8')
    .replace(
      /^containers:\n(?:\s+-.*\n|\s{4}.*\n)*/m,
      'services:\n  - name: ragflowauth_frontend\n    container: ragflowauth-frontend\n    health: { url: "http://127.0.0.1:8080/" }\n  - { name: ragflowauth_backend, container: ragflowauth-backend }\n',
    )
    .replace(/timeout: \d+s/, 'timeout: 10s');
  const file = join(mkdtempSync(join(tmpdir(), 'rf-stack-')), 'releaseflow.yml');
  writeFileSync(file, text);
  return file;
}

describe('a stack of two services released as one', { skip: skip() }, () => {
  const STACK = { backend: 'ragflowauth_backend', frontend: 'ragflowauth_frontend' } as const;
  const tasksOf = (host: string, svc: string) =>
    dk(host, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${svc}`])
      .split('\n')
      .filter(Boolean)
      .map((c) => dk(host, ['inspect', '-f', '{{.Image}}', c]));
  const specOf = (svc: string) => JSON.parse(dk('prod', ['service', 'inspect', svc]))[0];
  const assertStackOn = (v: string, what: string) => {
    for (const [c, svc] of Object.entries(STACK)) {
      const id = testId(`ragflowauth-${c}:${v}`);
      for (const h of NODES) assert.deepEqual(tasksOf(h, svc), [id], `${what}: ${svc} on ${h}`);
      const s = specOf(svc);
      assert.equal(s.Spec.TaskTemplate.ContainerSpec.Image, id, `${what}: ${svc}'s spec`);
      assert.equal(s.Spec.Labels['com.docker.stack.namespace'], 'ragflowauth');
    }
  };
  let cfg = '';
  before(() => {
    lab(['seed-stack', 'v1']);
    for (const c of ['backend', 'frontend']) {
      dk('test', ['rm', '-f', `ragflowauth-${c}`]);
      dk('test', ['run', '-d', '--name', `ragflowauth-${c}`, `ragflowauth-${c}:v2`]);
    }
    cfg = stackConfig();
  });

  test('a stack released in part: the plan warns that its other service keeps its image', () => {
    const one = join(mkdtempSync(join(tmpdir(), 'rf-stack1-')), 'releaseflow.yml');
    // the older spelling: a containers: entry with service:
    writeFileSync(one, readFileSync(cfg, 'utf8').replace(/services:\n(?:\s+-.*\n|\s{4}.*\n)*/m, 'containers:\n  - { name: ragflowauth-frontend, service: ragflowauth_frontend }\n'));
    const plan = rf(['plan'], one);
    assert.equal(plan.code, 0, plan.out);
    assert.match(plan.out, /warning: stack ragflowauth: ragflowauth_backend is not in this release \(no entry under services: or containers: stands for it\) and keeps its image/);
    assert.doesNotMatch(rf(['plan'], cfg).out, /is not in this release/, 'both listed: no warning');
  });

  test('promote v1 -> v2: both services of the stack on v2 on every node', () => {
    const pulled = NODES.map(pulls);
    const r = rf(['promote', '--yes'], cfg);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /service ragflowauth_backend \(3 replica\(s\), failure action pause, stack ragflowauth\)/);
    assertStackOn('v2', 'released');
    assert.deepEqual(NODES.map(pulls), pulled, 'no node pulled');
  });

  test('the backend fails (v3): the frontend, already on v3, goes back to v2 with it; exit 1', () => {
    for (const c of ['backend', 'frontend']) {
      dk('test', ['rm', '-f', `ragflowauth-${c}`]);
      dk('test', ['run', '-d', '--name', `ragflowauth-${c}`, `ragflowauth-${c}:v3`]);
    }
    const r = rf(['promote', '--yes'], cfg);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /step \d+\/\d+ update services ragflowauth_frontend, ragflowauth_backend at once ok/);
    assert.match(r.out, /ragflowauth_backend not healthy on prod/);
    assertStackOn('v2', 'after the failed release');
    for (const svc of Object.values(STACK)) assert.equal(specOf(svc).UpdateStatus?.State, 'completed', `${svc} UpdateStatus`);
  });

  test("the operator's later docker stack deploy: their unchanged file keeps the release (--resolve-image never or changed), resolve always puts its image back, a file naming the released tag keeps it with no registry", async () => {
    const v2 = { backend: testId('ragflowauth-backend:v2'), frontend: testId('ragflowauth-frontend:v2') };
    const file = readFileSync(join(DIR, 'stack.yml'), 'utf8');
    const pinned = /backend:\n\s+image: (sha256:[0-9a-f]{64})/.exec(file)?.[1];
    assert.equal(pinned, testId('ragflowauth-backend:v1'), "the seed's file pins v1");
    const image = () => specOf(STACK.backend).Spec.TaskTemplate.ContainerSpec.Image;
    const deploy = (text: string, ...opts: string[]) => labDocker('prod', ['stack', 'deploy', ...opts, '-c', '-', 'ragflowauth'], text, DIR);
    // docker's CLI keeps a service's running image when the file names what the stack last deployed
    // (label com.docker.stack.image), unless it resolves images always (its default)
    for (const mode of ['never', 'changed']) {
      deploy(file, '--resolve-image', mode);
      assert.equal(image(), v2.backend, `the unchanged file with --resolve-image ${mode}: the release stays`);
    }
    deploy(file);
    assert.equal(image(), pinned, 'the unchanged file with --resolve-image always (the default): its v1 again');
    // the same file naming the released version by the tag the release put on every node
    const pulled = NODES.map(pulls);
    const named = file.replace(/image: sha256:[0-9a-f]{64}\n(\s+hostname)/, 'image: ragflowauth-backend:v2\n$1').replace(/(frontend:\n\s+image: )sha256:[0-9a-f]{64}/, '$1ragflowauth-frontend:v2');
    assert.match(named, /image: ragflowauth-backend:v2[\s\S]*image: ragflowauth-frontend:v2/);
    deploy(named, '--resolve-image', 'never');
    const deadline = Date.now() + 120_000;
    const on = () => Object.entries(STACK).every(([c, svc]) => NODES.every((h) => JSON.stringify(tasksOf(h, svc)) === JSON.stringify([v2[c as 'backend' | 'frontend']])));
    while (!on()) {
      if (Date.now() > deadline) throw new Error(`the stack did not settle on v2: ${JSON.stringify(NODES.map((h) => [tasksOf(h, STACK.backend), tasksOf(h, STACK.frontend)]))}`);
      await sleep(1000);
    }
    assert.equal(specOf(STACK.backend).Spec.TaskTemplate.ContainerSpec.Image, 'ragflowauth-backend:v2');
    assert.deepEqual(NODES.map(pulls), pulled, 'no node pulled');
    // and releaseflow sees the stack (now naming tags) as running TEST's v2: nothing to release
    for (const c of ['backend', 'frontend']) {
      dk('test', ['rm', '-f', `ragflowauth-${c}`]);
      dk('test', ['run', '-d', '--name', `ragflowauth-${c}`, `ragflowauth-${c}:v2`]);
    }
    const again = rf(['plan'], cfg);
    assert.match(again.out, /up to date/i, again.out);
  });

  test('export-compose --swarm: a stack file docker stack deploy takes as it is (deploy.* keys, overlay network)', () => {
    for (const x of [['rm', '-f', 'rfx-web'], ['network', 'rm', 'rfx-net']]) spawnSync('docker', ['-H', labInfo(DIR)!.hosts.test!.dockerSock, ...x]);
    dk('test', ['network', 'create', 'rfx-net']);
    dk('test', ['run', '-d', '--name', 'rfx-web', '--restart', 'unless-stopped', '--memory', '64m', '--cpus', '0.5', '-p', '127.0.0.1:18080:8080', '-e', 'GREETING=a $b', '--network', 'rfx-net', '--network-alias', 'web', 'ragflowauth-frontend:v2']);
    try {
      const cfgX = join(mkdtempSync(join(tmpdir(), 'rf-stackx-')), 'releaseflow.yml');
      writeFileSync(cfgX, readFileSync(cfg, 'utf8'));
      const r = rf(['export-compose', 'test', 'rfx-web', '--swarm'], cfgX);
      assert.equal(r.code, 0, r.out);
      assert.match(r.stdout, /^version: "?3\.8"?$/m);
      assert.doesNotMatch(r.stdout, /container_name|mem_limit|restart:|cpus: 0/);
      assert.match(r.stderr, /port 127\.0\.0\.1:18080: swarm publishes on every node/);
      const out = execFileSync('docker', ['-H', labInfo(DIR)!.hosts.prod!.dockerSock, 'stack', 'deploy', '--resolve-image', 'never', '-c', '-', 'rfx'], { input: r.stdout, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
      assert.doesNotMatch(out, /Ignoring unsupported options/, out);
      const svc = JSON.parse(dk('prod', ['service', 'inspect', 'rfx_rfx-web']))[0].Spec;
      assert.equal(svc.TaskTemplate.Resources.Limits.MemoryBytes, 64 * 1024 * 1024);
      assert.equal(svc.TaskTemplate.Resources.Limits.NanoCPUs, 0.5e9);
      assert.equal(svc.TaskTemplate.RestartPolicy.Condition, 'any');
      assert.equal(svc.TaskTemplate.ContainerSpec.Image, 'ragflowauth-frontend:v2');
      assert.ok(svc.TaskTemplate.ContainerSpec.Env.includes('GREETING=a $b'), JSON.stringify(svc.TaskTemplate.ContainerSpec.Env));
      assert.deepEqual(svc.EndpointSpec.Ports.map((p: { TargetPort: number; PublishedPort: number }) => [p.TargetPort, p.PublishedPort]), [[8080, 18080]]);
      assert.equal(JSON.parse(dk('prod', ['network', 'inspect', 'rfx_rfx-net']))[0].Driver, 'overlay');
    } finally {
      labDocker('prod', ['stack', 'rm', 'rfx'], undefined, DIR);
      dk('test', ['rm', '-f', 'rfx-web']);
      dk('test', ['network', 'rm', 'rfx-net']);
    }
  });
});
