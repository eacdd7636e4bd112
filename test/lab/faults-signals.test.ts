// Faults from the operator's side: Ctrl-C and SIGTERM, a network partition, a frozen machine, a crash guard
// killed with its run, two releases at once, and a lock left by a dead run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { labDocker, labInfo, labInspect, labScript, labSkip, releaseflow } from './lab.ts';
import { assertProdAsBefore, assertProdServing, configCopy, labExec, prodReleaseStates, snapshotProd, startReleaseflow, waitGuardsIdle } from './faults-lib.ts';

/** The new backend runs (unverified): its swap step is done, its health step starts. */
const RUN = /step 6\/8 health ragflowauth-backend started on/;

describe('faults: signals, partitions and concurrent runs', labSkip(), () => {
  let cfg: string;
  before(() => {
    labScript(['seed']);
    cfg = configCopy('');
  });

  for (const [sig, at] of [
    ['SIGINT', 'step 2/8 transfer'],
    ['SIGINT', 'step 5/8 swap'],
    ['SIGINT', 'step 8/8 health'],
    ['SIGTERM', 'step 7/8 swap'],
  ] as const) {
    test(`${sig === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} at ${at}: the current command finishes, everything is rolled back, exit 1`, async () => {
      labScript(['seed']);
      const pre = snapshotProd();
      const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: cfg });
      await run.waitFor(new RegExp(`${at.replace('/', '\\/')} \\S* ?started on`));
      // a terminal sends Ctrl-C to the whole foreground process group
      process.kill(sig === 'SIGINT' ? -run.child.pid! : run.child.pid!, sig);
      const code = await run.exited;
      const out = run.out();
      assert.equal(code, 1, out);
      assert.match(out, /interrupted \(SIG(INT|TERM)\): finishing the current command/);
      assert.match(out, /result: rolled-back \(exit 1\) .*failed at step \d\/8 /);
      assert.match(out, /error: interrupted/);
      assert.match(out, /\n {2}step: {4}step \d\/8 .*\n {2}host: {4}(prod|test)\n/);
      assertProdAsBefore(pre, snapshotProd(), `${sig} at ${at}`);
      await assertProdServing(`after ${sig}`, 'v1');
      assert.ok(Object.values(prodReleaseStates()).every((s) => s === 'done'), 'the release is finished in its journal');
      assert.doesNotMatch(releaseflow(['lock', 'status']).stdout, /held/);
    });
  }

  test('network partition mid-swap: PROD restores itself after the heartbeat timeout; recover finishes once the network is back', async () => {
    labScript(['seed']);
    const info = labInfo()! as ReturnType<typeof labInfo> & { prefix: string };
    const fast = configCopy('ssh: { heartbeatTimeout: 3s, connectTimeout: 1s }\n', [[/( +)IdentitiesOnly: "yes"\n/g, '$1IdentitiesOnly: "yes"\n$1ServerAliveInterval: 1\n$1ServerAliveCountMax: 2\n']]);
    const pre = snapshotProd();
    const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: fast });
    await run.waitFor(RUN);
    const link = ['-n', `${info.prefix}-sw`, 'link', 'set', 'v-prod'];
    execFileSync('ip', [...link, 'down']);
    const t0 = Date.now();
    try {
      // nobody can reach PROD: its guard restores it on its own
      await assertProdServing('during the partition', 'v1', 30_000);
      const restoredIn = Date.now() - t0;
      assert.ok(restoredIn < 20_000, `restored ${restoredIn} ms into the partition`);
      const code = await run.exited;
      assert.equal(code, 3, run.out());
      assert.match(run.out(), /the rollback failed at its step \d\/\d/);
      assert.match(run.out(), /First try: releaseflow recover/);
    } finally {
      execFileSync('ip', [...link, 'up']);
    }
    const st = releaseflow(['status'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.match(st.stdout, /INTERRUPTED release .* PROD's crash guard already restored the previous containers/, st.out);
    const rec = releaseflow(['recover', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.equal(rec.code, 0, rec.out);
    assertProdAsBefore(pre, snapshotProd(), 'partition');
    await assertProdServing('after recover', 'v1');
  });

  test('the operator machine freezes (SIGSTOP): the guard restores PROD; once thawed, the run is refused and rolls back', async () => {
    labScript(['seed']);
    const fast = configCopy('ssh: { heartbeatTimeout: 3s }\n');
    const pre = snapshotProd();
    const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: fast });
    await run.waitFor(RUN);
    process.kill(run.child.pid!, 'SIGSTOP');
    try {
      await waitGuardsIdle(20_000);
      await sleep(300);
      await assertProdServing('while releaseflow is frozen', 'v1');
    } finally {
      process.kill(run.child.pid!, 'SIGCONT');
    }
    const code = await run.exited;
    const out = run.out();
    assert.equal(code, 1, out);
    assert.match(out, /lost the crash guard on prod|crash guard on prod has taken over|could not be committed/);
    assertProdAsBefore(pre, snapshotProd(), 'frozen operator');
    await assertProdServing('after the thaw', 'v1');
    assert.ok(Object.values(prodReleaseStates()).every((s) => s === 'done'));
  });

  test('the crash guard killed too (PROD rebooted its shell), then releaseflow SIGKILLed mid-swap: status and doctor say so, recover restores', async () => {
    labScript(['seed']);
    const pre = snapshotProd();
    const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: cfg });
    await run.waitFor(/step \d+ command on prod: docker stop ragflowauth-backend-rf-prev-/);
    process.kill(run.child.pid!, 'SIGSTOP');
    // the guard and its watchdog: the guard's process group on PROD
    labExec('prod', 'for p in /var/lib/releaseflow/ragflowauth/releases/*/guard.pid; do kill -9 "-$(cat "$p")"; done; true');
    process.kill(run.child.pid!, 'SIGKILL');
    await run.exited;
    await sleep(4000);
    // nobody restored: PROD runs the new, never verified backend (or none): the scenario recover exists for
    const now = labInspect('prod', 'ragflowauth-backend');
    assert.ok(now.Id !== pre.containers['ragflowauth-backend']!.Id || !now.State.Running, 'PROD is not as before');
    const st = releaseflow(['status'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.match(st.stdout, /INTERRUPTED release \d+T\d+Z was interrupted: .*it was changing containers when it stopped/, st.out);
    const doc = releaseflow(['doctor'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.equal(doc.code, 1);
    assert.match(doc.stdout, /FAIL {2}release: release .* was interrupted/);
    const rec = releaseflow(['recover', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.equal(rec.code, 0, rec.out);
    assertProdAsBefore(pre, snapshotProd(), 'guard killed');
    await assertProdServing('after recover', 'v1');
    const h = JSON.parse(releaseflow(['history', '--json']).stdout);
    assert.equal(h[0].result, 'rolled-back');
    assert.equal(h[0].interrupted.state, 'started');
  });

  test('two releases at once: the second gets the lock error naming the running holder; the first completes', async () => {
    labScript(['seed']);
    const a = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: cfg });
    await a.waitFor(/step 2\/8 transfer .*started on/);
    const id = /release (\d{8}T\d{6}Z) of app/.exec(a.out())![1];
    const st = releaseflow(['status'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.match(st.stdout, new RegExp(`prod: release ${id} is in progress: promote by \\S+ \\(pid ${a.child.pid} on ${hostname()}`), st.out);
    const b = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.equal(b.code, 1, b.out);
    assert.match(b.out, new RegExp(`another release holds the lock on prod \\(.*/lock\\): \\S+@${hostname()} \\(promote ${id}, since .*, pid ${a.child.pid} on ${hostname()}\\); it is still running on this machine`));
    assert.match(b.out, /fix: +wait for it to finish/);
    assert.equal(await a.exited, 0, a.out());
    await assertProdServing('after the first release', 'v2');
    assert.doesNotMatch(releaseflow(['lock', 'status']).stdout, /held/);
  });

  test('a lock left by a dead run (killed while taking it, no journal) is explained and cleared', () => {
    labScript(['seed']);
    const dead = Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim());
    const info = JSON.stringify({ holder: `ghost@${hostname()}`, machine: hostname(), pid: dead, releaseId: '20200101T000000Z', kind: 'promote', at: '2020-01-01T00:00:00Z' });
    labExec('prod', `mkdir -p /var/lib/releaseflow/ragflowauth/lock && printf '%s' '${info}' >/var/lib/releaseflow/ragflowauth/lock/info.json`);
    const p = releaseflow(['promote', '--yes']);
    assert.equal(p.code, 1, p.out);
    assert.match(p.out, new RegExp(`held by|holds the lock on prod .*ghost@${hostname()} \\(promote 20200101T000000Z, since 2020-01-01T00:00:00Z, pid ${dead} on ${hostname()}\\); that run is DEAD: pid ${dead} no longer runs on this machine`));
    assert.match(p.out, /fix: +run: releaseflow recover/);
    assert.equal(labDocker('prod', ['ps', '-a', '--format', '{{.Names}}']).includes('rf-prev'), false, 'nothing touched');
    const rel = releaseflow(['lock', 'release']);
    assert.equal(rel.code, 0, rel.out);
    assert.match(rel.stdout, /lock on prod removed \(it was held by ghost@/);
    const again = releaseflow(['promote', '--yes']);
    assert.equal(again.code, 0, again.out);
  });
});
