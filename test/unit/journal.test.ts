// The crash guard, the undo mutex and the release-state script, run by the real /bin/sh (dash on Debian).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildGuardScript, buildRefuseAfterGuardScript, buildSetStateScript, buildUndoAllScript, buildWriteJournalScript, GUARD_REFUSED, journalPaths } from '../../src/core/journal.ts';
import { withUndoLock } from '../../src/core/undo-lock.ts';
import { describeHolder, holderLiveness } from '../../src/adapters/state/holder.ts';
import { parseLockOutput } from '../../src/adapters/state/lock.ts';
import { parseReleaseState } from '../../src/adapters/state/release-state.ts';
import { buildReleaseStateScript } from '../../src/core/state-scripts.ts';

function setup(id = '20260101T000000Z') {
  const stateDir = mkdtempSync(join(tmpdir(), 'rf-journal-'));
  const p = journalPaths(stateDir, 'app', id);
  // the journal, and an undo.sh that only leaves a trace
  const undo = `echo undone >>${join(stateDir, 'trace')}`;
  const r = spawnSync('sh', ['-c', buildWriteJournalScript(p, undo)], { input: '{"version":1}' });
  assert.equal(r.status, 0, String(r.stderr));
  return { stateDir, p, trace: () => (existsSync(join(stateDir, 'trace')) ? readFileSync(join(stateDir, 'trace'), 'utf8') : '') };
}

/** Start the guard under sh; collect its stdout. */
function startGuard(script: string) {
  const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  return { child, out: () => out, exited };
}

async function until(what: string, ok: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('the journal script writes journal.json, undo.sh and state=started', () => {
  const { p } = setup();
  assert.equal(readFileSync(p.journal, 'utf8'), '{"version":1}');
  assert.equal(readFileSync(p.state, 'utf8').trim(), 'started');
  assert.match(readFileSync(p.undo, 'utf8'), /echo undone/);
});

test('guard: its input closing without `end` (releaseflow killed) runs undo.sh and records rolled-back', async () => {
  const { p, trace } = setup();
  const g = startGuard(buildGuardScript(p, { heartbeatTimeoutS: 30, graceS: 0 }));
  await until('armed', () => g.out().includes('rf-guard armed'));
  g.child.stdin.end();
  await g.exited;
  await until('the restore', () => readFileSync(p.state, 'utf8').trim() === 'rolled-back');
  assert.equal(trace(), 'undone\n');
  assert.match(readFileSync(p.guardLog, 'utf8'), /releaseflow went away/);
});

test('guard: a late `end` (during the restore) is answered too-late', async () => {
  const { p } = setup();
  writeFileSync(p.undo, 'sleep 1\n');
  const g = startGuard(buildGuardScript(p, { heartbeatTimeoutS: 1, graceS: 1 }));
  await until('armed', () => g.out().includes('rf-guard armed'));
  await until('decided', () => existsSync(p.guardDecided), 5000);
  g.child.stdin.write('end committed\n');
  await until('too-late', () => g.out().includes('rf-guard too-late'));
  g.child.stdin.end();
  await g.exited;
  await until('rolled-back', () => readFileSync(p.state, 'utf8').trim() === 'rolled-back');
});

test('guard: `end committed` records committed and never restores', async () => {
  const { p, trace } = setup();
  const g = startGuard(buildGuardScript(p, { heartbeatTimeoutS: 2, graceS: 0 }));
  await until('armed', () => g.out().includes('rf-guard armed'));
  g.child.stdin.write('beat\n');
  g.child.stdin.write('end committed\n');
  await until('the answer', () => g.out().includes('rf-guard ok committed'));
  g.child.stdin.end();
  await g.exited;
  await sleep(3000); // past the heartbeat timeout: the watchdog must not fire after a decision
  assert.equal(readFileSync(p.state, 'utf8').trim(), 'committed');
  assert.equal(trace(), '');
});

test('guard: heartbeats keep it waiting; silence (a partition) makes it restore and end, even with its input still open', async () => {
  const { p, trace } = setup();
  const g = startGuard(buildGuardScript(p, { heartbeatTimeoutS: 2, graceS: 0 }));
  await until('armed', () => g.out().includes('rf-guard armed'));
  for (let i = 0; i < 8; i++) {
    g.child.stdin.write('beat\n');
    await sleep(400);
  }
  assert.equal(trace(), '', 'no restore while heartbeats arrive');
  await until('the watchdog restore', () => trace() === 'undone\n', 10_000);
  // a half-open session (partition) must not keep the guard alive: it ends once it restored
  await g.exited;
  assert.equal(readFileSync(p.state, 'utf8').trim(), 'rolled-back');
  assert.match(readFileSync(p.guardLog, 'utf8'), /no word from releaseflow for 2s/);
});

test('guard: a failing restore is retried, then recorded as rollback-failed', async () => {
  const { p } = setup();
  writeFileSync(p.undo, 'echo try >>"$0.tries"; exit 1\n');
  const g = startGuard(buildGuardScript(p, { heartbeatTimeoutS: 30, graceS: 0 }));
  await until('armed', () => g.out().includes('rf-guard armed'));
  g.child.stdin.end();
  await until('rollback-failed', () => readFileSync(p.state, 'utf8').trim() === 'rollback-failed', 15_000);
  assert.equal(readFileSync(`${p.undo}.tries`, 'utf8'), 'try\ntry\ntry\n');
});

test('the undo mutex serialises two restores and steals a lock whose holder is dead', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-undolock-'));
  const lk = join(dir, 'undo.lock');
  const log = join(dir, 'log');
  const body = (n: string) => `echo start-${n} >>${log}; sleep 0.4; echo end-${n} >>${log}`;
  const a = spawn('sh', ['-c', withUndoLock(body('a'), lk, join(dir, 'out-a'))]);
  await sleep(100);
  const b = spawn('sh', ['-c', withUndoLock(body('b'), lk, join(dir, 'out-b'))]);
  await Promise.all([a, b].map((c) => new Promise((r) => c.on('close', r))));
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['start-a', 'end-a', 'start-b', 'end-b']);
  assert.equal(existsSync(lk), false, 'the mutex is released');
  // a holder that died without releasing: its pid no longer runs
  mkdirSync(lk);
  writeFileSync(join(lk, 'pid'), '999999\n');
  const r = spawnSync('sh', ['-c', withUndoLock('echo ran', lk, join(dir, 'out-c'))], { encoding: 'utf8', timeout: 5000 });
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), 'ran', 'the output is printed at the end');
});

test('the undo mutex: a recycled pid (alive, but not ours) does not hold it; sudo hosts get docker through sudo -n', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-undolock-'));
  const lk = join(dir, 'undo.lock');
  mkdirSync(lk);
  writeFileSync(join(lk, 'pid'), `${process.pid}\n`); // this test runner: alive, and its command line is not about the lock
  const r = spawnSync('sh', ['-c', withUndoLock('echo ran', lk, join(dir, 'out'))], { encoding: 'utf8', timeout: 5000 });
  assert.equal(r.stdout.trim(), 'ran');
  assert.match(withUndoLock('docker ps', lk, join(dir, 'out'), true), /^docker\(\) \{ sudo -n docker "\$@"; \}$/m);
  assert.doesNotMatch(withUndoLock('docker ps', lk, join(dir, 'out')), /sudo/);
});

test('the undo body survives a closed stdout: its output goes to a file first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-undolock-'));
  const script = withUndoLock(`echo one; echo two >&2; touch ${join(dir, 'done')}`, join(dir, 'lk'), join(dir, 'out'));
  // stdout closed before the script runs: the body must still complete
  const r = spawnSync('sh', ['-c', `exec 1>&-; ${script}`], { encoding: 'utf8' });
  assert.ok(existsSync(join(dir, 'done')), `body ran (${r.status} ${r.stderr})`);
  assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'one\ntwo\n');
});

test('release state: lock and unfinished journals are read, done ones skipped, banners ignored', () => {
  const a = setup('20260101T000001Z');
  const p2 = journalPaths(a.stateDir, 'app', '20260101T000002Z');
  spawnSync('sh', ['-c', buildWriteJournalScript(p2, 'true')], { input: JSON.stringify({ releaseId: '20260101T000002Z', kind: 'promote', holder: 'me@box', pid: 1, machine: 'box', startedAt: 'T' }) });
  spawnSync('sh', ['-c', buildSetStateScript(a.p, 'done')]);
  mkdirSync(join(a.stateDir, 'app', 'lock'));
  writeFileSync(join(a.stateDir, 'app', 'lock', 'info.json'), JSON.stringify({ holder: 'me@box', machine: 'elsewhere', pid: 42, releaseId: '20260101T000002Z', kind: 'promote', at: 'T' }));
  const m = '@@rf-test';
  const r = spawnSync('sh', ['-c', `echo 'Welcome [banner] @@rf-test'; ${buildReleaseStateScript(a.stateDir, 'app', m)}`], { encoding: 'utf8' });
  const st = parseReleaseState(r.stdout, m);
  assert.equal(st.lock.held, true);
  assert.equal(st.lock.info?.pid, 42);
  assert.equal(st.interrupted.length, 1);
  assert.equal(st.interrupted[0]!.releaseId, '20260101T000002Z');
  assert.equal(st.interrupted[0]!.state, 'started');
  assert.equal(st.interrupted[0]!.journal?.holder, 'me@box');
  assert.equal(st.interrupted[0]!.guardAlive, false);
});

test('lock: output after a banner is parsed; a dead holder on this machine is called dead', () => {
  const out = parseLockOutput('motd: busy day, locked room {x}\n@@m busy\n{"holder":"a@b","pid":5}\n', '@@m');
  assert.equal(out.state, 'busy');
  assert.equal(out.info?.holder, 'a@b');
  const child = spawnSync('true');
  const dead = { holder: 'me@here', machine: hostname(), pid: child.pid!, releaseId: 'R', kind: 'promote', at: 'T' };
  assert.equal(holderLiveness(dead), 'dead');
  assert.match(describeHolder(dead), /that run is DEAD: pid \d+ no longer runs on this machine/);
  assert.equal(holderLiveness({ ...dead, pid: process.pid }), 'alive');
  assert.equal(holderLiveness({ ...dead, machine: 'other-box' }), 'unknown');
  assert.match(describeHolder({ ...dead, machine: 'other-box' }), /another machine/);
});

test('undo.sh runs the compose restores after the containers, each tried even when one fails, under the undo mutex', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'rf-journal-'));
  const p = journalPaths(stateDir, 'app', '20260101T000000Z');
  mkdirSync(p.dir, { recursive: true });
  const trace = join(stateDir, 'trace');
  const script = buildUndoAllScript([], p, false, [`echo project-a >>${trace}; exit 1`, `echo project-b >>${trace}`]);
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 1, 'a failed restore makes undo.sh fail');
  assert.equal(readFileSync(trace, 'utf8'), 'project-a\nproject-b\n', 'the second project is restored although the first failed');
  assert.equal(existsSync(p.undoLock), false, 'the mutex is released');
});

test('a forward command of a guarded release runs until the guard decides, then is refused with exit 97', () => {
  const { p, stateDir } = setup();
  const trace = join(stateDir, 'forward');
  const forward = () => spawnSync('sh', ['-c', buildRefuseAfterGuardScript(p.guardDecided, `echo ran >>${trace}; exit 5`)], { encoding: 'utf8' });
  assert.equal(forward().status, 5, "the command's own exit code");
  mkdirSync(p.guardDecided);
  const r = forward();
  assert.equal(r.status, GUARD_REFUSED);
  assert.match(r.stderr, /crash guard has taken over/);
  assert.equal(readFileSync(trace, 'utf8'), 'ran\n', 'the refused command did not run');
});
