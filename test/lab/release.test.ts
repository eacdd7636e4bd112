// The seed's scenario end to end on the lab: promote, up to date, rollback, a bad release, plan.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { labDocker, labInfo, labInspect, labScript, labSkip, releaseflow } from './lab.ts';

const APP = ['ragflowauth-backend', 'ragflowauth-frontend'];
const SECRETS = ['s3cr3t-Pa55', 'another-secret-value'];

/** null and [] / {} mean the same to the daemon (CLI versions differ in what they send). */
function norm(v: any): any {
  if (Array.isArray(v)) return v.length === 0 ? null : v.map(norm);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    return keys.length === 0 ? null : Object.fromEntries(keys.map((k) => [k, norm(v[k])]));
  }
  return v;
}

/** The docker CLI collects -v binds in a map, so their order is not the operator's to keep: compare as sets. */
function hostConfig(c: any): any {
  return norm({ ...c.HostConfig, Binds: c.HostConfig.Binds ? [...c.HostConfig.Binds].sort() : null });
}

function snapshot(host: string): Record<string, any> {
  return Object.fromEntries(APP.map((n) => [n, labInspect(host, n)]));
}

function readLog(): string {
  const cfg = readFileSync(labInfo()!.config, 'utf8');
  const file = /file:\s*(\S+)/.exec(cfg)![1]!;
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function prodHealth(port: number, path: string): string {
  return labDocker('prod', ['exec', 'ragflowauth-backend', 'wget', '-q', '-O', '-', `http://127.0.0.1:${port}${path}`]);
}

describe('docker-run release on the lab', labSkip(), () => {
  before(() => labScript(['seed']));

  test('plan prints the steps with their commands and changes nothing', () => {
    const pre = snapshot('prod');
    const r = releaseflow(['plan']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.stdout, /step 1\/8 snapshot on prod/);
    assert.match(r.stdout, /docker rename ragflowauth-backend ragflowauth-backend-rf-prev-/);
    assert.match(r.stdout, /docker create --name ragflowauth-backend/);
    const post = snapshot('prod');
    for (const n of APP) assert.equal(post[n].Id, pre[n].Id);
    const images = labDocker('prod', ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.doesNotMatch(images, /:v2/);
  });

  test('promote --yes releases TEST v2 onto PROD, keeping every operator setting, data and secrets safe', () => {
    const pre = snapshot('prod');
    const testSide = snapshot('test');
    const seedBefore = labDocker('prod', ['exec', 'ragflowauth-backend', 'cat', '/data/seed.txt']);
    const logBefore = readLog().length;
    const r = releaseflow(['promote', '--yes']);
    assert.equal(r.code, 0, r.out);
    const post = snapshot('prod');
    for (const n of APP) {
      assert.equal(post[n].Image, testSide[n].Image, `${n} runs TEST's image ID`);
      assert.notEqual(post[n].Id, pre[n].Id, `${n} was recreated`);
      assert.equal(post[n].State.Running, true);
      // HostConfig is all operator (or daemon) set: identical after the rebuild
      assert.deepEqual(hostConfig(post[n]), hostConfig(pre[n]), `${n} HostConfig unchanged`);
      assert.equal(post[n].Config.Hostname === pre[n].Config.Hostname || !pre[n].Config.Hostname.startsWith('ragflow'), true);
      for (const [net, ep] of Object.entries(pre[n].NetworkSettings.Networks) as [string, any][]) {
        const now = post[n].NetworkSettings.Networks[net];
        assert.ok(now, `${n} still on ${net}`);
        for (const a of ep.Aliases ?? []) if (!pre[n].Id.startsWith(a) && a !== pre[n].Config.Hostname) assert.ok(now.Aliases.includes(a), `alias ${a}`);
      }
      const userEnv = (pre[n].Config.Env as string[]).filter((e) => !e.startsWith('PATH=') && !e.startsWith('APP_VERSION='));
      for (const e of userEnv) assert.ok(post[n].Config.Env.includes(e), `${n} keeps env ${e.split('=')[0]}`);
      assert.ok(post[n].Config.Env.includes('APP_VERSION=v2'), 'the new image default applies');
      for (const k of ['team', 'note']) assert.equal(post[n].Config.Labels[k], pre[n].Config.Labels[k]);
    }
    assert.equal(post['ragflowauth-backend'].Config.Hostname, 'ragflow-backend');
    assert.equal(labDocker('prod', ['exec', 'ragflowauth-backend', 'cat', '/data/seed.txt']), seedBefore, 'volume data intact');
    assert.equal(prodHealth(8001, '/version').trim(), 'v2');
    // kept for rollback: stopped, restart policy off so a daemon restart cannot bring it back
    const prev = labInspect('prod', `ragflowauth-backend-rf-prev-${/release (\d{8}T\d{6}Z)/.exec(r.out)![1]}`);
    assert.equal(prev.State.Running, false);
    assert.equal(prev.HostConfig.RestartPolicy.Name, 'no');
    const log = readLog().slice(logBefore);
    assert.match(log, /^\S+Z \[ReleaseFlow\] step 2\/8 transfer ragflowauth-backend:v2 started on prod/m);
    assert.match(log, /transfer source: test \(10\.213\.\d+\.11\) .* -> target: prod/);
    assert.match(log, /docker run -d \\/);
    for (const s of SECRETS) {
      assert.ok(!log.includes(s), `secret ${s} not in the log`);
      assert.ok(!r.out.includes(s), `secret ${s} not in the output`);
    }
    // no env file left behind with secrets in it
    const leftovers = labDocker('prod', ['run', '--rm', '-v', '/var/lib/releaseflow:/s:ro', 'ragflowauth-backend:v2', 'sh', '-c', 'find /s -name "*.env"']).trim();
    assert.equal(leftovers, '');
    // the snapshots hold the containers' env: mode 0600, like the env file (issue 15, item 4)
    const modes = labDocker('prod', ['run', '--rm', '-v', '/var/lib/releaseflow:/s:ro', 'ragflowauth-backend:v2', 'sh', '-c', 'stat -c "%a %n" /s/ragflowauth/releases/*/*.inspect.json /s/ragflowauth/releases/*/*.image.json']).trim().split('\n');
    assert.equal(modes.length, 4, modes.join('\n'));
    for (const m of modes) assert.match(m, /^600 /, m);
  });

  test('a second promote says up to date and changes nothing', () => {
    const pre = snapshot('prod');
    const r = releaseflow(['promote', '--yes']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /already up to date/);
    const post = snapshot('prod');
    for (const n of APP) assert.equal(post[n].Id, pre[n].Id);
  });

  test('history lists the release; --json parses', () => {
    const r = releaseflow(['history', '--json']);
    assert.equal(r.code, 0, r.out);
    const h = JSON.parse(r.stdout);
    assert.equal(h[0].kind, 'promote');
    assert.equal(h[0].result, 'released');
    assert.match(h[0].operator, /@/);
    assert.equal(h[0].containers[0].toRef, 'ragflowauth-backend:v2');
  });

  test('rollback brings v1 back, healthy', () => {
    const r = releaseflow(['rollback', '--yes']);
    assert.equal(r.code, 0, r.out);
    const post = snapshot('prod');
    assert.equal(post['ragflowauth-backend'].Config.Image, 'ragflowauth-backend:v1');
    assert.equal(prodHealth(8001, '/version').trim(), 'v1');
    assert.equal(prodHealth(8001, '/health').trim(), 'ok');
  });

  test('TEST on v3 (health fails): exit 1, PROD back on v1 exactly as before, data intact, log explains', () => {
    labScript(['seed', 'v3']);
    const pre = snapshot('prod');
    const seedBefore = labDocker('prod', ['exec', 'ragflowauth-backend', 'cat', '/data/seed.txt']);
    const logBefore = readLog().length;
    const cfg = labInfo()!.config;
    const r = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.equal(r.code, 1, r.out);
    const post = snapshot('prod');
    for (const n of APP) {
      assert.equal(post[n].Id, pre[n].Id, `${n} is the same container`);
      assert.equal(post[n].Image, pre[n].Image);
      assert.deepEqual(post[n].HostConfig, pre[n].HostConfig);
      assert.deepEqual(post[n].Config, pre[n].Config);
      assert.equal(post[n].State.Running, true);
    }
    assert.equal(prodHealth(8001, '/health').trim(), 'ok');
    assert.equal(labDocker('prod', ['exec', 'ragflowauth-backend', 'cat', '/data/seed.txt']), seedBefore);
    const names = labDocker('prod', ['ps', '-a', '--format', '{{.Names}}']);
    assert.doesNotMatch(names, /rf-prev/, 'no previous containers left behind after a rollback');
    const log = readLog().slice(logBefore);
    assert.match(log, /step 6\/8 health ragflowauth-backend FAILED/);
    assert.match(log, /404/);
    assert.match(log, /docker logs --tail 200 ragflowauth-backend/);
    assert.match(log, /docker ps -a/);
    assert.match(log, /result: rolled-back \(exit 1\)/);
  });
});
