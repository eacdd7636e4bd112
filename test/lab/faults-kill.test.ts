// Fault injection at every step of a release: releaseflow SIGKILLed, or its SSH connections cut. PROD
// must keep serving, lose nothing, and end exactly as before the release (after `recover` where needed).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { labScript, labSkip, releaseflow } from './lab.ts';
import {
  assertProdAsBefore,
  assertProdServing,
  configCopy,
  cutSsh,
  dropReleasedImages,
  labExec,
  planSteps,
  prodReleaseStates,
  snapshotProd,
  startReleaseflow,
  waitGuardsIdle,
} from './faults-lib.ts';

/** The lock directory on PROD, read from its files (no ssh round trip). */
const lockHeld = () => labExec('prod', '[ -d /var/lib/releaseflow/ragflowauth/lock ] && echo held || echo free').trim() === 'held';

describe('faults: releaseflow killed or its connection cut at every step', labSkip(), () => {
  let cfg: string;
  let steps: { name: string; kind: string }[];
  before(() => {
    labScript(['seed']);
    cfg = configCopy('');
    steps = planSteps(cfg);
    assert.ok(steps.length >= 8, `the seeded release has its ${steps.length} steps`);
  });

  test('SIGKILL at each step: PROD restores itself (crash guard); status, doctor and promote detect it; recover finishes it', async (t) => {
    labScript(['seed']);
    const M = steps.length;
    for (let n = 1; n <= M; n++) {
      await t.test(`SIGKILL at step ${n}/${M} ${steps[n - 1]!.name}`, async () => {
        dropReleasedImages();
        const pre = snapshotProd();
        const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: cfg });
        await run.waitFor(new RegExp(`step ${n}/${M} .*started on`));
        process.kill(run.child.pid!, 'SIGKILL');
        await run.exited;
        const t0 = Date.now();
        await waitGuardsIdle();
        const restoredIn = Date.now() - t0;
        // before anyone runs recover, PROD already serves the previous version again
        await assertProdServing(`after SIGKILL at step ${n}`, 'v1');
        assert.ok(restoredIn < 15_000, `the guard restored within ${restoredIn} ms`);
        assert.ok(Object.values(prodReleaseStates()).includes('rolled-back'), 'the journal says rolled-back');
        if (n === 1 || n === 5 || n === M) {
          // status, doctor and the next promote detect it (checked at a few steps: each costs ssh round trips)
          const st = releaseflow(['status'], { env: { RELEASEFLOW_CONFIG: cfg } });
          assert.match(st.stdout, /prod: INTERRUPTED release \d{8}T\d{6}Z was interrupted: promote by .* PROD's crash guard already restored/, st.out);
          assert.match(st.stdout, /fix: run: releaseflow recover/);
          const doc = releaseflow(['doctor'], { env: { RELEASEFLOW_CONFIG: cfg } });
          assert.equal(doc.code, 1, doc.out);
          assert.match(doc.stdout, /FAIL {2}release: release \d+T\d+Z was interrupted/);
          assert.match(doc.stdout, /FAIL {2}release: the release lock is held by .*that run is DEAD: pid \d+ no longer runs on this machine/);
          const again = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
          assert.equal(again.code, 1, again.out);
          assert.match(again.out, /prod has an interrupted release: .*\n(.*\n)*\s+fix: +run: releaseflow recover/);
        }
        const rec = releaseflow(['recover', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
        assert.equal(rec.code, 0, rec.out);
        assert.match(rec.out, /recovered prod: \d+T\d+Z: previous containers restored and healthy/);
        assertProdAsBefore(pre, snapshotProd(), `SIGKILL at step ${n}`);
        await assertProdServing(`after recover (step ${n})`, 'v1');
        assert.equal(lockHeld(), false, 'recover removed the lock');
        assert.ok(Object.values(prodReleaseStates()).every((s) => s === 'done'));
      });
    }
  });

  test('SSH cut at each step: the run rolls back by itself over a new connection, exit 1 naming step N/M, host, command and fix', async (t) => {
    labScript(['seed']);
    const M = steps.length;
    for (let n = 1; n <= M; n++) {
      await t.test(`connection cut at step ${n}/${M} ${steps[n - 1]!.name}`, async () => {
        dropReleasedImages();
        const pre = snapshotProd();
        const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: cfg });
        await run.waitFor(new RegExp(`step ${n}/${M} .*started on`));
        const killed = cutSsh(run.child.pid!);
        assert.ok(killed >= 1, 'ssh processes of the run were found and killed');
        const code = await run.exited;
        const out = run.out();
        assert.equal(code, 1, out);
        assert.match(out, /result: rolled-back \(exit 1\)/);
        assert.match(out, /failed at step \d+\/\d+ .* on prod; rolled back/);
        assert.match(out, /\n {2}step: {4}step \d+\/\d+ /, 'the error names the step');
        assert.match(out, /\n {2}host: {4}(prod|test)\n/, 'the error names the host');
        assert.match(out, /\n {2}command: .+\n/, 'the error names the command');
        assert.match(out, /\n {2}fix: {5}.+/, 'the error names the fix');
        await waitGuardsIdle();
        assertProdAsBefore(pre, snapshotProd(), `cut at step ${n}`);
        await assertProdServing(`after the cut at step ${n}`, 'v1');
        assert.equal(lockHeld(), false, 'the run removed its lock');
        assert.ok(Object.values(prodReleaseStates()).every((s) => s === 'done'), 'nothing left for recover');
      });
    }
  });

  test('SIGKILL between "docker stop" of the old and "docker start" of the new container: PROD is back within seconds', async () => {
    labScript(['seed']);
    const pre = snapshotProd();
    const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: cfg });
    await run.waitFor(/step \d+ command on prod: docker stop ragflowauth-backend-rf-prev-/);
    process.kill(run.child.pid!, 'SIGKILL');
    await run.exited;
    await waitGuardsIdle();
    await assertProdServing('after SIGKILL mid-swap', 'v1');
    const rec = releaseflow(['recover', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.equal(rec.code, 0, rec.out);
    assertProdAsBefore(pre, snapshotProd(), 'SIGKILL mid-swap');
  });

  test('SIGKILL right after the last step passed: PROD keeps v2 if the guard got the commit, else v1; recover settles it', async () => {
    labScript(['seed']);
    const pre = snapshotProd();
    const M = steps.length;
    const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: cfg });
    await run.waitFor(new RegExp(`step ${M}/${M} .* ok in`));
    process.kill(run.child.pid!, 'SIGKILL');
    await run.exited;
    await waitGuardsIdle();
    const state = Object.values(prodReleaseStates())[0];
    assert.ok(state === 'committed' || state === 'rolled-back' || state === 'done', `state ${state}`);
    const rec = releaseflow(['recover', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.equal(rec.code, 0, rec.out);
    const h = JSON.parse(releaseflow(['history', '--json'], { env: { RELEASEFLOW_CONFIG: cfg } }).stdout);
    if (state === 'rolled-back') {
      assertProdAsBefore(pre, snapshotProd(), 'SIGKILL before the commit');
      await assertProdServing('after recover', 'v1');
      assert.equal(h[0].result, 'rolled-back');
    } else {
      await assertProdServing('after the commit', 'v2');
      assert.equal(h[0].result, 'released', 'the kept release is in history, so rollback can undo it');
      const rb = releaseflow(['rollback', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
      assert.equal(rb.code, 0, rb.out);
      await assertProdServing('after rollback', 'v1');
    }
  });
});
