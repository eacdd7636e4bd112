// PROD reached as a non-root SSH user that may run only docker, through passwordless sudo
// (hosts.prod.sudo: true): status, doctor, plan, promote, rollback and a failing release, end to end.
// The user comes from `lab/lab.sh sudo-user` (rfdeploy, not in the docker group, owns prod's
// /var/lib/releaseflow), run here in before(): it is idempotent.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, test } from 'node:test';
import { APP, assertProdAsBefore, assertProdServing, configCopy, labExec, snapshotProd, startReleaseflow, waitGuardsIdle } from './faults-lib.ts';
import { labInfo, labInspect, labScript, labSkip, releaseflow } from './lab.ts';

const USER = 'rfdeploy';

/** A copy of the lab's config whose prod is reached as USER (with sudo: true unless told otherwise). */
function userConfig(opts: { sudo?: boolean; prodExtra?: string; replace?: [RegExp | string, string][] } = {}): string {
  const sudo = opts.sudo ?? true;
  const cfg = configCopy('', [
    [/(\n {2}prod:\n {4}address: [^\n]+\n) {4}user: root\n/, `$1    user: ${USER}\n${sudo ? '    sudo: true\n' : ''}${opts.prodExtra ?? ''}`],
    ...(opts.replace ?? []),
  ]);
  return cfg;
}

/** ssh to a lab host as USER with the lab's key and known_hosts. */
function sshAsUser(host: string, command: string) {
  const r = spawnSync('ssh', ['-F', labInfo()!.sshConfig, '-l', USER, host, command], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function imageIds(host: string): Record<string, string> {
  return Object.fromEntries(APP.map((n) => [n, labInspect(host, n).Image as string]));
}

function timed<T>(what: string, fn: () => T): T {
  const t0 = Date.now();
  try {
    return fn();
  } finally {
    console.log(`[sudo test] ${what} took ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
}

describe('a sudo: true PROD (non-root SSH user, docker only through sudo -n)', labSkip(), () => {
  let cfg = '';
  let v1: Record<string, string> = {};

  before(() => {
    timed('lab.sh sudo-user', () => labScript(['sudo-user', 'prod']));
    timed('lab.sh seed', () => labScript(['seed']));
    cfg = userConfig();
    v1 = imageIds('prod');
  });

  test('the lab user: docker works only through sudo -n, no other sudo, owns the state folder', () => {
    const plain = sshAsUser('prod', 'docker ps');
    assert.notEqual(plain.code, 0, `plain docker must fail for ${USER}: ${plain.out}`);
    assert.match(plain.out, /permission denied/i);
    const viaSudo = sshAsUser('prod', 'sudo -n docker ps --format "{{.Names}}"');
    assert.equal(viaSudo.code, 0, viaSudo.out);
    assert.match(viaSudo.out, /ragflowauth-backend/);
    assert.notEqual(sshAsUser('prod', 'sudo -n id').code, 0, `${USER} may sudo only docker`);
    assert.doesNotMatch(sshAsUser('prod', 'id -nG').out, /\bdocker\b/);
    assert.equal(sshAsUser('prod', 'test -w /var/lib/releaseflow && echo yes').out.trim(), 'yes');
  });

  test('status and doctor pass, docker through sudo', () => {
    const s = timed('status', () => releaseflow(['status'], { env: { RELEASEFLOW_CONFIG: cfg } }));
    assert.equal(s.code, 0, s.out);
    assert.match(s.stdout, /^prod \([\d.]+\): reachable, docker \S+ \(API [\d.]+\) via sudo$/m);
    const d = timed('doctor', () => releaseflow(['doctor'], { env: { RELEASEFLOW_CONFIG: cfg } }));
    assert.equal(d.code, 0, d.out);
    assert.match(d.stdout, /PASS {2}ssh: prod \([\d.]+\) reachable in batch mode/);
    assert.match(d.stdout, /PASS {2}docker: \S+ \(API [\d.]+\) through sudo -n/);
    assert.match(d.stdout, new RegExp(`PASS {2}state: /var/lib/releaseflow/ragflowauth .*for ${USER}`));
    assert.match(d.stdout, /PASS {2}health: http:\/\/127\.0\.0\.1:8001\/health answers on prod/);
    assert.match(d.stdout, / 0 failed, 0 warnings: OK/);
  });

  test('without sudo: true, doctor FAILs saying docker works only through sudo', () => {
    const d = releaseflow(['doctor', 'prod'], { env: { RELEASEFLOW_CONFIG: userConfig({ sudo: false }) } });
    assert.equal(d.code, 1, d.out);
    assert.match(d.stdout, /FAIL {2}docker: works on prod only through sudo/);
    assert.match(d.stdout, /fix: set sudo: true under hosts\.prod in /);
  });

  test('plan shows the release and changes nothing', () => {
    const pre = snapshotProd();
    const r = timed('plan', () => releaseflow(['plan'], { env: { RELEASEFLOW_CONFIG: cfg } }));
    assert.equal(r.code, 0, r.out);
    assert.match(r.stdout, /step 1\/8 snapshot on prod/);
    assert.match(r.stdout, /docker create --name ragflowauth-backend/);
    assertProdAsBefore(pre, snapshotProd(), 'plan');
  });

  test('promote --yes: PROD runs TEST’s image IDs, healthy; the state folder belongs to the SSH user', async () => {
    const testIds = imageIds('test');
    assert.notDeepEqual(testIds, v1, 'TEST and PROD differ before the release');
    const r = timed('promote', () => releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } }));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /crash guard armed on prod/);
    assert.match(r.out, /result: released \(exit 0\)/);
    assert.deepEqual(imageIds('prod'), testIds);
    for (const n of APP) assert.equal(labInspect('prod', n).State.Running, true, `${n} running`);
    await assertProdServing('after promote', 'v2');
    const owners = labExec('prod', 'stat -c "%U %n" /var/lib/releaseflow/ragflowauth /var/lib/releaseflow/ragflowauth/history.jsonl /var/lib/releaseflow/ragflowauth/releases/*/journal.json');
    for (const l of owners.trim().split('\n')) assert.match(l, new RegExp(`^${USER} `), `written as ${USER}: ${l}`);
    assert.match(labExec('prod', 'cat /var/lib/releaseflow/ragflowauth/releases/*/state'), /^done$/m);
  });

  test('rollback --yes brings v1 back', async () => {
    const r = timed('rollback', () => releaseflow(['rollback', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } }));
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(imageIds('prod'), v1);
    await assertProdServing('after rollback', 'v1');
    const h = releaseflow(['history'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.equal(h.code, 0, h.out);
    assert.match(h.stdout, /rollback +released/);
    assert.match(h.stdout, /promote +released/);
  });

  test('SIGKILL mid-swap: the crash guard, running as the SSH user, restores v1 through sudo; recover finishes', async () => {
    const pre = snapshotProd();
    const t0 = Date.now();
    const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: cfg });
    await run.waitFor(/step \d+ command on prod: .*docker stop ragflowauth-backend-rf-prev-/);
    process.kill(run.child.pid!, 'SIGKILL');
    await run.exited;
    await waitGuardsIdle();
    await assertProdServing('after SIGKILL mid-swap', 'v1');
    assert.match(labExec('prod', 'cat /var/lib/releaseflow/ragflowauth/releases/*/guard.log'), /guard: previous containers restored/);
    const rec = releaseflow(['recover', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.equal(rec.code, 0, rec.out);
    assertProdAsBefore(pre, snapshotProd(), 'SIGKILL mid-swap');
    assert.deepEqual(imageIds('prod'), v1);
    console.log(`[sudo test] SIGKILL mid-swap, guard restore and recover took ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  });

  test('a state folder the SSH user cannot write: doctor FAILs and promote stops naming the folder and the fix', () => {
    // /opt on the lab host is root's: rfdeploy cannot create /opt/rf-root-state there
    const bad = userConfig({ prodExtra: '    stateDir: /opt/rf-root-state\n' });
    const d = releaseflow(['doctor', 'prod'], { env: { RELEASEFLOW_CONFIG: bad } });
    assert.equal(d.code, 1, d.out);
    assert.match(d.stdout, new RegExp(`FAIL {2}state: the state folder /opt/rf-root-state/ragflowauth on prod is not writable for the SSH user ${USER}`));
    assert.match(d.stdout, new RegExp(`fix: as root on prod, once: install -d -o ${USER} -m 0750 /opt/rf-root-state .*or set hosts\\.prod\\.stateDir`));
    const pre = snapshotProd();
    const r = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: bad } });
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, new RegExp(`the state folder /opt/rf-root-state/ragflowauth on prod is not writable for the SSH user ${USER} .*nothing was changed`));
    assert.match(r.out, /fix: +as root on prod, once: install -d/);
    assertProdAsBefore(pre, snapshotProd(), 'unwritable state folder');
  });

  test('a failing release (v3): exit 1, PROD restored to v1 and healthy', async () => {
    timed('lab.sh seed v3', () => labScript(['seed', 'v3']));
    // a shorter health timeout than the lab's 15s: v3's /health never answers 200
    const fast = userConfig({ replace: [['timeout: 15s', 'timeout: 8s']] });
    const pre = snapshotProd();
    const r = timed('promote v3', () => releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: fast } }));
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /health ragflowauth-backend FAILED/);
    assert.match(r.out, /result: rolled-back \(exit 1\)/);
    assert.match(r.out, /docker ps -a:/);
    assertProdAsBefore(pre, snapshotProd(), 'after the failed v3 release');
    assert.deepEqual(imageIds('prod'), v1);
    await assertProdServing('after the failed v3 release', 'v1');
    labScript(['seed']);
  });
});
