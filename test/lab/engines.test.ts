// Engine smoke: for each Docker engine other than 20.10, its OWN lab (26.1, 28.5, 28.5-containerd on both
// hosts, and the mixed pairs TEST 20.10 -> PROD 28.5-containerd and back), the demo, then promote /
// rollback / a bad release / run-command / a compose v2 release / SIGKILL mid-swap (crash guard, recover)
// / status / doctor. A mixed pair runs what crosses the pair (the lab, promote, rollback, run-command, status,
// doctor): the rest happens on PROD alone, with PROD's engine, and runs in the case of that engine (or, for
// 20.10, in the default suite). Labs are brought up and taken down here, one engine after the other; engines are
// fetched once into LAB_CACHE. `npm test` runs every case (scripts/test.sh sets RELEASEFLOW_TEST_ENGINES=all);
//   RELEASEFLOW_TEST_ENGINES=26.1,28.5 ...     only these cases (the names in CASES); =none: none
// Without RELEASEFLOW_TEST_ENGINES (e.g. `npm run test:lab` alone) every case skips, saying so.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { CASES, type EngineCase, isPair } from './engine-cases.ts';
import { CLI, labDocker, labInfo, labScript, releaseflow } from './lab.ts';

const APP = ['ragflowauth-backend', 'ragflowauth-frontend'];

function skipReason(c: EngineCase): string | false {
  const only = process.env.RELEASEFLOW_TEST_ENGINES;
  if (!only) return 'engine labs are opt-in: npm run test:engines (RELEASEFLOW_TEST_ENGINES=all or a list of cases)';
  if (only !== 'all' && !only.split(',').map((s) => s.trim()).includes(c.name)) return `not in RELEASEFLOW_TEST_ENGINES=${only}`;
  if (process.getuid?.() !== 0) return 'needs root (the lab makes namespaces)';
  return false;
}

/** lab.sh's environment for a case: its own lab, engines per host; nothing inherited that names another lab. */
function labEnv(c: EngineCase, dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^LAB_(ENGINE|CLI|PREFIX|NET|HOSTS|COMPOSE_PLUGIN)/.test(k)) env[k] = v;
  return { ...env, LAB_DIR: dir, LAB_PREFIX: `rfe${c.n}`, LAB_NET: c.net, LAB_ENGINE_TEST: c.test, LAB_ENGINE_PROD: c.prod };
}

for (const c of CASES) {
  const dir = `/tmp/rfl-eng-${c.name}`;
  describe(`engine ${c.name} (TEST ${c.test} -> PROD ${c.prod})`, { skip: skipReason(c) }, () => {
    const env = labEnv(c, dir);
    const lab = (args: string[]) => labScript(args, { dir, env });
    const rf = (args: string[]) => releaseflow(args, { labDir: dir });
    const dk = (host: string, args: string[]) => labDocker(host, args, undefined, dir);
    const layers = (host: string, image: string) => JSON.parse(dk(host, ['image', 'inspect', '-f', '{{json .RootFS.Layers}}', image])) as string[];
    /** per container: the layers of the image it runs (comparable across image stores, unlike the Id) */
    const running = (host: string) => Object.fromEntries(APP.map((n) => [n, layers(host, dk(host, ['inspect', '-f', '{{.Image}}', n]).trim())]));
    const inContainer = (path: string) => dk('prod', ['exec', 'ragflowauth-backend', 'wget', '-q', '-O', '-', `http://127.0.0.1:8001${path}`]).trim();
    let upOut = '';
    /** a mixed pair: only what crosses it (see the file's head); the PROD-only tests run in PROD's own case */
    const pair = isPair(c);
    const prodOnly = (name: string, fn: () => void | Promise<void>) => {
      if (!pair) test(name, fn);
    };

    before(() => {
      if (existsSync(`${dir}/lab.env`)) lab(['down']); // a lab left by an interrupted run
      upOut = lab(['demo-up']);
    });
    after(() => {
      if (existsSync(`${dir}/lab.env`)) lab(['down']);
    });

    test('the lab runs the engines asked for', (t) => {
      for (const l of upOut.split('\n').filter((s) => /_seconds=/.test(s))) t.diagnostic(l);
      if (pair) t.diagnostic(`mixed pair: bad health, compose and the crash guard run on PROD alone: ${c.prod === '20.10' ? 'the default suite' : `case ${c.prod}`} tests them`);
      const info = labInfo(dir)! as ReturnType<typeof labInfo> & { hosts: Record<string, { engine?: string }> };
      const status = lab(['status']);
      t.diagnostic(status.split('\n').filter((s) => /engine=|cli\(ssh\)|store=/.test(s)).join(' | '));
      for (const [host, engine] of [['test', c.test], ['prod', c.prod]] as const) {
        assert.equal(info.hosts[host]!.engine, engine);
        const v = dk(host, ['version', '--format', '{{.Server.Version}}']).trim();
        assert.ok(v.startsWith(`${engine.replace(/-containerd$/, '')}.`), `${host}: dockerd ${v}`);
        const store = dk(host, ['info', '--format', '{{.Driver}} {{json .DriverStatus}}']);
        assert.equal(store.includes('io.containerd.snapshotter.v1'), engine.endsWith('-containerd'), `${host}: store ${store}`);
      }
      assert.match(status, new RegExp(`engine=${c.prod.replace('.', '\\.')} `));
    });

    test('promote --yes: exit 0, PROD runs TEST images (same layers)', () => {
      const r = rf(['promote', '--yes']);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(running('prod'), running('test'));
      assert.equal(inContainer('/version'), 'v2');
      assert.equal(inContainer('/health'), 'ok');
    });

    test('rollback --yes: exit 0, PROD back on v1, healthy', () => {
      const r = rf(['rollback', '--yes']);
      assert.equal(r.code, 0, r.out);
      assert.equal(dk('prod', ['inspect', '-f', '{{.Config.Image}}', 'ragflowauth-backend']).trim(), 'ragflowauth-backend:v1');
      assert.equal(inContainer('/version'), 'v1');
      assert.equal(inContainer('/health'), 'ok');
    });

    prodOnly('TEST on v3 (bad health): promote exit 1, PROD healthy on its previous image', () => {
      lab(['seed', 'v3']);
      const pre = running('prod');
      const preIds = APP.map((n) => dk('prod', ['inspect', '-f', '{{.Id}}', n]).trim());
      const r = rf(['promote', '--yes']);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /health ragflowauth-backend FAILED/);
      assert.deepEqual(running('prod'), pre);
      assert.deepEqual(
        APP.map((n) => dk('prod', ['inspect', '-f', '{{.Id}}', n]).trim()),
        preIds,
        'the same containers run again',
      );
      for (const n of APP) assert.equal(dk('prod', ['inspect', '-f', '{{.State.Running}}', n]).trim(), 'true');
      assert.equal(inContainer('/version'), 'v1');
      assert.equal(inContainer('/health'), 'ok');
    });

    test('run-command prints a docker run command', () => {
      const r = rf(['run-command', 'prod', 'ragflowauth-backend']);
      assert.equal(r.code, 0, r.out);
      assert.match(r.stdout, /docker run -d/);
      assert.match(r.stdout, /ragflowauth-backend:v1/);
      assert.doesNotMatch(r.stdout, /s3cr3t-Pa55/);
    });

    prodOnly('compose v2 project on PROD: promote exit 0, a plain up -d recreates nothing, rollback exit 0', () => {
      if (c.prod === '20.10') lab(['compose-v2']); // 20.10 has no compose v2 of its own: trixie's plugin
      lab(['seed-compose', '--compose', '2']);
      const r = rf(['promote', '--yes']);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(running('prod'), running('test'));
      const ids = APP.map((n) => dk('prod', ['inspect', '-f', '{{.Id}}', n]).trim());
      lab(['ssh', 'prod', 'cd /opt/ragflowauth && docker compose up -d 2>&1']);
      assert.deepEqual(APP.map((n) => dk('prod', ['inspect', '-f', '{{.Id}}', n]).trim()), ids, "the operator's plain up -d recreates nothing");
      const rb = rf(['rollback', '--yes']);
      assert.equal(rb.code, 0, rb.out);
      assert.equal(inContainer('/version'), 'v1');
    });

    prodOnly('compose v1 (docker-compose 1.29) project on PROD: released by compose on 20.10; on 25+ (v1 fails there) in run mode, saying why; rollback exit 0', () => {
      lab(['seed-compose', '--compose', '1']);
      const r = rf(['promote', '--yes']);
      assert.equal(r.code, 0, r.out);
      const old = c.prod === '20.10';
      if (old) assert.match(r.out, /mode on prod: compose via docker-compose 1\.29/);
      else assert.match(r.out, /docker-compose 1\.29\.2 \(v1\) cannot recreate containers on Docker \d+.*KeyError 'ContainerConfig'.*releasing them in run mode/);
      assert.deepEqual(running('prod'), running('test'));
      const ids = APP.map((n) => dk('prod', ['inspect', '-f', '{{.Id}}', n]).trim());
      // (on 25+ the operator's own docker-compose up -d would fail the same way: nothing to check there)
      if (old) {
        lab(['ssh', 'prod', 'cd /opt/ragflowauth && docker-compose up -d 2>&1']);
        assert.deepEqual(APP.map((n) => dk('prod', ['inspect', '-f', '{{.Id}}', n]).trim()), ids, "the operator's plain up -d recreates nothing");
      }
      const rb = rf(['rollback', '--yes']);
      assert.equal(rb.code, 0, rb.out);
      assert.equal(inContainer('/version'), 'v1');
    });

    prodOnly('crash guard: releaseflow SIGKILLed mid-swap, PROD restores itself, recover exit 0', async () => {
      lab(['seed']);
      const pre = running('prod');
      const child = spawn(process.execPath, [CLI, 'promote', '--yes', '-v'], { env: { ...process.env, RELEASEFLOW_CONFIG: labInfo(dir)!.config }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b));
      child.stderr.on('data', (b: Buffer) => (out += b));
      const exited = new Promise((res) => child.on('close', res));
      const t0 = Date.now();
      while (!/step \d+\/\d+ swap ragflowauth-backend started on/.test(out)) {
        assert.ok(child.exitCode === null && Date.now() - t0 < 120_000, `waited for the swap step:\n${out}`);
        await new Promise((res) => setTimeout(res, 10));
      }
      process.kill(child.pid!, 'SIGKILL');
      await exited;
      // the guard notices the dead session and puts v1 back by itself
      const deadline = Date.now() + 60_000;
      for (;;) {
        let v = '';
        try {
          v = inContainer('/version');
        } catch {}
        if (v === 'v1' && dk('prod', ['inspect', '-f', '{{.Config.Image}}', 'ragflowauth-backend']).trim() === 'ragflowauth-backend:v1') break;
        assert.ok(Date.now() < deadline, 'the crash guard restored v1 within 60 s');
        await new Promise((res) => setTimeout(res, 500));
      }
      const rc = rf(['recover', '--yes']);
      assert.equal(rc.code, 0, rc.out);
      assert.deepEqual(running('prod'), pre);
      assert.equal(inContainer('/health'), 'ok');
    });

    test('status and doctor: exit 0', () => {
      const s = rf(['status']);
      assert.equal(s.code, 0, s.out);
      const d = rf(['doctor']);
      assert.equal(d.code, 0, d.out);
    });
  });
}
