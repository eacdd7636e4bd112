// The state folder's scripts (src/core/state-scripts.ts), run by the real /bin/sh against a temp folder.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseLockOutput } from '../../src/adapters/state/lock.ts';
import { journalPaths } from '../../src/core/journal.ts';
import {
  buildAcquireLockScript,
  buildAppendHistoryScript,
  buildGuardAliveScript,
  buildReadHistoryScript,
  buildReadLockScript,
  buildStateDirCheckScript,
  buildStopGuardScript,
  GUARD_ALIVE,
  GUARD_GONE,
} from '../../src/core/state-scripts.ts';
import { statePaths } from '../../src/core/state.ts';

const M = '@@rf-test';
const sh = (script: string, input = '') => spawnSync('sh', ['-c', `echo 'banner @@rf-test'; ${script}`], { input, encoding: 'utf8' });
const tmp = () => mkdtempSync(join(tmpdir(), 'rf-state-'));

test('the lock: the first run takes it with its info, the next finds it busy and reads who holds it', () => {
  const p = statePaths(join(tmp(), 'state'), 'app');
  assert.equal(parseLockOutput(sh(buildReadLockScript(p.lock, M)).stdout, M).state, 'free');
  const a = sh(buildAcquireLockScript(p.root, p.lock, M), '{"releaseId":"A"}');
  assert.equal(a.status, 0, a.stderr);
  assert.equal(parseLockOutput(a.stdout, M).state, 'locked');
  assert.equal(statSync(p.root).mode & 0o777, 0o700);
  const b = parseLockOutput(sh(buildAcquireLockScript(p.root, p.lock, M), '{"releaseId":"B"}').stdout, M);
  assert.deepEqual([b.state, b.held, b.info?.releaseId], ['busy', true, 'A']);
  const read = parseLockOutput(sh(buildReadLockScript(p.lock, M)).stdout, M);
  assert.deepEqual([read.state, read.info?.releaseId], ['held', 'A']);
});

test('the lock is not taken where the state folder cannot be created: nowrite, the user and the blocking path, exit 3', () => {
  const file = join(tmp(), 'not-a-dir');
  writeFileSync(file, '');
  const p = statePaths(join(file, 'state'), 'app');
  const r = sh(buildAcquireLockScript(p.root, p.lock, M), '{}');
  assert.equal(r.status, 3);
  const state = parseLockOutput(r.stdout, M).state ?? '';
  assert.match(state, /^nowrite \S+ /);
  assert.equal(state.split(' ').slice(2).join(' '), file);
});

test('the state-dir check names the directory that decides: the folder itself, else its nearest existing ancestor', () => {
  const base = tmp();
  const line = (root: string) => sh(buildStateDirCheckScript(root, M)).stdout.split('\n').find((l) => l.startsWith(`${M} `))!.split(' ');
  const [, w1, , d1] = line(base);
  assert.deepEqual([w1, d1], ['ok', base]);
  const [, w2, , d2] = line(join(base, 'a', 'b', 'app'));
  assert.deepEqual([w2, d2], ['ok', base]);
  writeFileSync(join(base, 'file'), '');
  const [, w3, , d3] = line(join(base, 'file', 'app'));
  assert.deepEqual([w3, d3], ['no', join(base, 'file')]);
});

test('history: nothing to read before the first release; each append adds one line in a private folder', () => {
  const p = statePaths(join(tmp(), 'state'), 'app');
  const empty = sh(buildReadHistoryScript(p.root, p.history));
  assert.deepEqual([empty.status, empty.stdout], [0, 'banner @@rf-test\n']);
  for (const id of ['A', 'B']) assert.equal(sh(buildAppendHistoryScript(p.root, p.history), `{"releaseId":"${id}"}\n`).status, 0);
  assert.equal(statSync(p.root).mode & 0o777, 0o700);
  assert.equal(readFileSync(p.history, 'utf8'), '{"releaseId":"A"}\n{"releaseId":"B"}\n');
  assert.match(sh(buildReadHistoryScript(p.root, p.history)).stdout, /\{"releaseId":"A"\}\n\{"releaseId":"B"\}\n$/);
});

test('the guard check sees only a live guard of this release; stopping it marks it decided and ends it', async () => {
  const p = journalPaths(tmp(), 'app', '20260101T000000Z');
  mkdirSync(p.dir, { recursive: true });
  const alive = () => sh(buildGuardAliveScript(p)).stdout.trim().split('\n').at(-1);
  assert.equal(alive(), GUARD_GONE, 'no guard.pid: gone');
  // a process that names the release folder in its command line stands in for the guard
  const guard = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', p.dir], { stdio: 'ignore' });
  const exited = new Promise<string | null>((res) => guard.on('exit', (_c, sig) => res(sig)));
  writeFileSync(p.guardPid, `${guard.pid}\n`);
  try {
    for (let i = 0; i < 50 && alive() !== GUARD_ALIVE; i++) await sleep(50);
    assert.equal(alive(), GUARD_ALIVE);
    // the same pid named by another release's folder is not our guard
    const other = journalPaths(tmp(), 'app', '20260101T000001Z');
    mkdirSync(other.dir, { recursive: true });
    writeFileSync(other.guardPid, `${guard.pid}\n`);
    assert.equal(sh(buildGuardAliveScript(other)).stdout.includes(GUARD_ALIVE), false);
    assert.equal(sh(buildStopGuardScript(p)).status, 0);
    assert.equal(await exited, 'SIGTERM');
    assert.equal(existsSync(p.guardDecided), true);
    assert.equal(alive(), GUARD_GONE);
  } finally {
    guard.kill('SIGKILL');
  }
});
