// status and doctor, end to end through the CLI against the seeded lab.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LAB_DIR, labDocker, labInfo, labInspect, labScript, labSkip, onContainerdStore, releaseflow } from './lab.ts';

const APP = ['ragflowauth-backend', 'ragflowauth-frontend'];

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('status and doctor', labSkip(), () => {
  test('status shows both hosts and the demo containers, started with docker run', () => {
    const r = releaseflow(['status']);
    assert.equal(r.code, 0, r.out);
    for (const h of ['test', 'prod']) assert.match(r.stdout, new RegExp(`^${h} \\(.*\\): reachable, docker \\d+\\.`, 'm'));
    for (const name of APP) assert.equal(r.stdout.match(new RegExp(`^  ${name} +run +running `, 'gm'))?.length, 2, r.stdout);

    const j = releaseflow(['status', '--json']);
    assert.equal(j.code, 0, j.out);
    const report = JSON.parse(j.stdout);
    assert.deepEqual(report.hosts.map((h: { host: string }) => h.host), ['test', 'prod']);
    for (const h of report.hosts) {
      assert.equal(h.reachable, true);
      assert.match(h.docker.version, /^\d+\./);
      for (const c of h.containers) {
        const real = labInspect(h.host, c.name);
        assert.deepEqual(c.mode, { mode: 'run' });
        assert.equal(c.state, real.State.Status);
        assert.equal(c.imageId, real.Image);
        assert.equal(c.imageRef, real.Config.Image);
        assert.equal(c.health, real.State.Health?.Status ?? 'none');
      }
    }
  });

  test('doctor passes on the seeded lab', () => {
    const r = releaseflow(['doctor']);
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.stdout, /^ {2}FAIL/m);
    assert.match(r.stdout, /PASS {2}health: http:\/\/127\.0\.0\.1:8001\/health answers on prod/);
    assert.match(r.stdout, /PASS {2}ragflowauth-backend: started with docker run/);
    // the lab's TEST is a classic overlay2 store with tar-split (setup.sh installs it): deltas skip docker save;
    // on the containerd store (npm run test:engines) doctor names the store instead
    if (onContainerdStore('test')) assert.match(r.stdout, /PASS {2}image store: containerd \(snapshotter\); releases send it an OCI layout of the missing layers/);
    else assert.match(r.stdout, /PASS {2}transfers: tar-split found: a release rebuilds only the layers the target lacks from test's layer store/);
    // drift (issue 16): what TEST has that a release keeps from PROD is a note, not a warning
    assert.match(r.stdout, /INFO {2}drift: ragflowauth-backend: env DB_PASSWORD: differs \(secret: values not shown\)/);
    assert.match(r.stdout, /fix: +a release keeps prod's setting; to take test's: releaseflow promote --carry env:DB_PASSWORD/);
    assert.doesNotMatch(r.stdout, /s3cr3t|test-Pa55/, 'no secret value in the drift');
    assert.match(r.stdout, /\d+ passed, 0 failed, \d+ warnings: OK \(\d+ drift notes/);
  });

  test('doctor fails naming a PROD container that is missing, and the fix', () => {
    labDocker('prod', ['rename', 'ragflowauth-backend', 'ragflowauth-backend-renamed']);
    try {
      const r = releaseflow(['doctor']);
      assert.equal(r.code, 1, r.out);
      assert.match(r.stdout, /FAIL {2}container ragflowauth-backend not found on prod; docker ps -a shows: .*ragflowauth-backend-renamed/);
      assert.match(r.stdout, /fix: start it on prod or correct containers: in /);
      assert.match(r.stdout, /docker ps -a on prod:\n( {3}\| .*\n)* {3}\| .*ragflowauth-backend-renamed\n/);
    } finally {
      labDocker('prod', ['rename', 'ragflowauth-backend-renamed', 'ragflowauth-backend']);
    }
    assert.equal(labInspect('prod', 'ragflowauth-backend').Name, '/ragflowauth-backend');
  });

  test('doctor reports PROD unreachable within 15 s when its sshd is down', async () => {
    const pid = Number(readFileSync(join(LAB_DIR, 'hosts/prod/sshd.pid'), 'utf8').trim());
    assert.ok(pid > 1 && isAlive(pid), `sshd pid ${pid}`);
    process.kill(pid, 'SIGTERM');
    try {
      await until('prod sshd to exit', () => !isAlive(pid));
      const t0 = Date.now();
      const r = releaseflow(['doctor'], { timeoutMs: 30_000 });
      const took = Date.now() - t0;
      assert.equal(r.code, 1, r.out);
      assert.ok(took < 15_000, `took ${took} ms`);
      assert.match(r.stdout, /FAIL {2}ssh: prod \(.*\) is unreachable/);
      assert.match(r.stdout, /fix: check that .* is up and sshd listens on port 22/);
      assert.match(r.stdout, /PASS {2}ssh: test /);
    } finally {
      labScript(['up']);
    }
    assert.equal(releaseflow(['status']).code, 0);
  });

  test('broken configs exit 2 and name the key path', () => {
    const good = readFileSync(labInfo()!.config, 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'rf-badcfg-'));
    const cases: [string, string, RegExp][] = [
      ['yaml', good.replace('containers:\n', 'containers: [\n'), /releaseflow\.yml:\d+:\d+: YAML syntax error/],
      ['missing app', good.replace(/^app: .*\n/m, ''), /app: is required/],
      ['wrong type', good.replace(/^(\s+)user: root$/m, '$1user: [root]'), /hosts\.test\.user: /],
      ['unknown key', good.replace(/^(\s+)user: root$/m, '$1usr: root'), /hosts\.test\.usr: unknown key/],
      ['unknown from', good.replace(/^from: .*$/m, 'from: staging'), /from: names host 'staging'/],
      ['bad duration', good.replace(/^(\s+)timeout: .*$/m, '$1timeout: soon'), /health\.timeout: expected a duration/],
      ['hostile address', good.replace(/^(\s+)address: (.*)$/m, '$1address: "$2$(reboot)"'), /hosts\.test\.address: expected an IP/],
    ];
    for (const [what, text, re] of cases) {
      assert.notEqual(text, good, `${what}: the edit applied`);
      const file = join(dir, `${what.replace(/ /g, '-')}.releaseflow.yml`);
      writeFileSync(file, text);
      for (const cmd of ['status', 'doctor']) {
        const r = releaseflow(['--config', file, cmd]);
        assert.equal(r.code, 2, `${what} / ${cmd}: ${r.out}`);
        assert.match(r.stderr, re, `${what} / ${cmd}`);
        assert.match(r.stderr, /fix: /, `${what} / ${cmd}`);
      }
    }
  });
});
