// The release journal on the target: write it (with undo.sh) before the first change, set its state word,
// and watch or stop the release's crash guard process.
import { setTimeout as sleep } from 'node:timers/promises';
import { buildSetStateScript, buildUndoAllScript, buildWriteJournalScript, type Journal, type JournalPaths, type JournalState } from '../../core/journal.ts';
import { buildGuardAliveScript, buildStopGuardScript, GUARD_GONE } from '../../core/state-scripts.ts';
import type { SshHost } from '../ssh.ts';

/** Write the journal, undo.sh and state=started; throws (nothing changed yet) when the state folder cannot be written. */
export async function writeJournal(to: SshHost, paths: JournalPaths, journal: Journal): Promise<void> {
  await to.check({ script: buildWriteJournalScript(paths, buildUndoAllScript(journal.targets, paths, to.config.sudo, journal.extraUndo)) }, {
    stdin: JSON.stringify(journal),
    what: 'writing the release journal',
    fix: `make ${to.config.stateDir} writable for the SSH user on ${to.name}; nothing was changed`,
  });
}

/** Set the state word (removes leftover env files too). */
export async function setJournalState(to: SshHost, paths: JournalPaths, state: JournalState): Promise<void> {
  await to.check({ script: buildSetStateScript(paths, state) }, { what: `marking release ${paths.dir} ${state}`, timeoutMs: 30_000 });
}

/** Wait (bounded) until the guard process of a release is gone, so its restore never overlaps what follows. */
export async function waitGuardGone(to: SshHost, paths: JournalPaths, maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  const script = buildGuardAliveScript(paths);
  let unreachable = 0;
  for (;;) {
    const r = await to.run({ script }, { timeoutMs: 20_000 }).catch(() => undefined);
    if (r?.stdout.includes(GUARD_GONE)) return true;
    // the host cannot be reached: its guard works on its own; do not wait for it here
    unreachable = r ? 0 : unreachable + 1;
    if (unreachable >= 3 || Date.now() > deadline) return false;
    await sleep(500);
  }
}

/** Stop a release's guard that still waits, without letting it restore (recover --force restores by itself). */
export async function stopGuard(to: SshHost, paths: JournalPaths): Promise<void> {
  await to.run({ script: buildStopGuardScript(paths) });
}
