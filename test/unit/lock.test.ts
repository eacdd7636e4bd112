// The release lock's removal, run by the real /bin/sh: only the release that holds it removes it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseLockOutput } from '../../src/adapters/state/lock.ts';
import { buildReleaseLockScript } from '../../src/core/state-scripts.ts';

const M = '@@rf-test';

function lockWith(releaseId: string | undefined) {
  const lk = join(mkdtempSync(join(tmpdir(), 'rf-lock-')), 'lock');
  mkdirSync(lk);
  if (releaseId) writeFileSync(join(lk, 'info.json'), JSON.stringify({ holder: 'me@box', machine: 'box', pid: 1, releaseId, kind: 'promote', at: 'T' }));
  return lk;
}

function release(lk: string, releaseId: string) {
  const r = spawnSync('sh', ['-c', `echo banner; ${buildReleaseLockScript(lk, releaseId, M)}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return parseLockOutput(r.stdout, M).state;
}

test('releaseLock removes the lock only while it holds our release id', () => {
  const ours = lockWith('20260101T000001Z');
  assert.equal(release(ours, '20260101T000001Z'), 'released');
  assert.equal(existsSync(ours), false);

  // removed by `lock release --force` and taken by another run: that run's lock stays, untouched
  const theirs = lockWith('20260101T000002Z');
  assert.equal(release(theirs, '20260101T000001Z'), 'other');
  assert.match(readFileSync(join(theirs, 'info.json'), 'utf8'), /20260101T000002Z/);

  // a lock without info.json (a run killed while taking it) is not ours either; a prefix of our id is not ours
  const bare = lockWith(undefined);
  assert.equal(release(bare, '20260101T000001Z'), 'other');
  assert.equal(existsSync(bare), true);
  const longer = lockWith('20260101T000001Z-2');
  assert.equal(release(longer, '20260101T000001Z'), 'other');

  assert.equal(release(join(tmpdir(), 'rf-no-such-lock'), 'x'), 'gone');
});
