// The undo mutex under contention: the real lock script, run by /bin/sh (dash on Debian), with many waiters
// racing to take over a lock left by a dead holder. Mutual exclusion must hold in every round.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withUndoLock } from '../../src/core/undo-lock.ts';

const ROUNDS = 30;
const WAITERS = 8;
const PARALLEL_ROUNDS = 5;

/** PATH without flock: the fallback the lock uses on hosts that lack it (a folder of links to every command but flock). */
function pathWithoutFlock(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rf-noflock-'));
  const link = `for d in $(echo "$PATH" | tr ':' ' '); do for f in "$d"/*; do b=\${f##*/}; [ "$b" = flock ] || [ -e "$0/$b" ] || ln -s "$f" "$0/$b"; done; done`;
  assert.equal(spawnSync('sh', ['-c', link, dir]).status, 0);
  assert.notEqual(spawnSync('sh', ['-c', 'command -v flock'], { env: { PATH: dir } }).status, 0, 'flock hidden');
  return dir;
}

/** One round: a dead holder's lock, then WAITERS scripts at once; each body checks nobody else is inside. */
async function round(env: NodeJS.ProcessEnv): Promise<{ overlaps: number; ran: number; left: boolean; failed: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'rf-undolock-stress-'));
  const lk = join(dir, 'undo.lock');
  mkdirSync(lk);
  writeFileSync(join(lk, 'pid'), '999999\n'); // dead: every waiter wants to take it over
  const inside = join(dir, 'inside');
  const log = join(dir, 'log');
  const body = `mkdir ${inside} 2>/dev/null || echo overlap >>${log}; echo ran >>${log}; sleep 0.02; rmdir ${inside} 2>/dev/null; true`;
  const runs = Array.from({ length: WAITERS }, (_, i) => {
    const c = spawn('sh', ['-c', withUndoLock(body, lk, join(dir, `out-${i}`))], { env, stdio: 'ignore' });
    return new Promise<number | null>((r) => c.on('close', r));
  });
  const codes = await Promise.all(runs);
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  const result = { overlaps: lines.filter((l) => l === 'overlap').length, ran: lines.filter((l) => l === 'ran').length, left: existsSync(lk), failed: codes.filter((c) => c !== 0).length };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

async function stress(env: NodeJS.ProcessEnv) {
  const bad: string[] = [];
  for (let r = 0; r < ROUNDS; r += PARALLEL_ROUNDS) {
    const results = await Promise.all(Array.from({ length: Math.min(PARALLEL_ROUNDS, ROUNDS - r) }, () => round(env)));
    for (const [i, x] of results.entries()) {
      if (x.overlaps > 0 || x.ran !== WAITERS || x.left || x.failed > 0) bad.push(`round ${r + i}: ${x.overlaps} overlaps, ${x.ran}/${WAITERS} ran, ${x.failed} failed, lock left: ${x.left}`);
    }
  }
  assert.deepEqual(bad, [], 'every round: one holder at a time, every waiter ran once, the lock released');
}

test(`undo mutex with flock: ${WAITERS} waiters over a dead holder's lock, ${ROUNDS} rounds, never two inside`, { timeout: 120_000 }, async () => {
  await stress(process.env);
});

test(`undo mutex without flock (claimed steal that re-checks the owner): ${WAITERS} waiters, ${ROUNDS} rounds`, { timeout: 120_000 }, async () => {
  const path = pathWithoutFlock();
  try {
    await stress({ ...process.env, PATH: path });
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
});
