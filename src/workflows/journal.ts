// The release journal as a release uses it: write it and arm the crash guard before the first change;
// commit through the guard, or tell it how our own rollback ended. The I/O is src/adapters/state/.
import { hostname } from 'node:os';
import { type Clock, systemClock } from '../adapters/clock.ts';
import type { SshHost } from '../adapters/ssh.ts';
import { CrashGuard } from '../adapters/state/crash-guard.ts';
import { operatorName } from '../adapters/state/holder.ts';
import { setJournalState, waitGuardGone, writeJournal } from '../adapters/state/journal.ts';
import type { Config } from '../core/config.ts';
import { ReleaseflowError } from '../core/errors.ts';
import { type Journal, type JournalPaths, journalPaths } from '../core/journal.ts';
import type { UndoTarget } from '../core/rollback-plan.ts';
import type { Plan } from '../core/step.ts';
import type { EventBus } from '../events/bus.ts';
import type { ExecuteResult, GuardView } from './execute.ts';

/** Seconds the guard lets releaseflow's last command finish before it restores. */
export const GUARD_GRACE_S = 2;

/** A journaled release in progress: its paths and its armed guard. */
export interface OpenJournal {
  paths: JournalPaths;
  guard: CrashGuard;
  /** What the executor needs of the guard. */
  view: GuardView;
}

/** The journal of a release about to start (pure apart from the clock and this machine's identity). */
export function newJournal(input: Omit<Journal, 'version' | 'holder' | 'machine' | 'pid' | 'startedAt'>, clock: Clock = systemClock): Journal {
  return { version: 1, holder: operatorName(), machine: hostname(), pid: process.pid, startedAt: clock().toISOString(), ...input };
}

/** Write the journal and undo.sh, then arm the guard. Throws before anything changed when either fails. */
export async function openJournal(to: SshHost, config: Config, journal: Journal, bus: EventBus): Promise<OpenJournal> {
  const paths = journalPaths(to.config.stateDir, config.app, journal.releaseId);
  await writeJournal(to, paths, journal);
  const heartbeatTimeoutS = Math.round((config.ssh.heartbeatTimeoutMs ?? 60_000) / 1000);
  let guard: CrashGuard;
  try {
    guard = await CrashGuard.start(to, paths, { heartbeatTimeoutS, graceS: GUARD_GRACE_S });
  } catch (e) {
    await setJournalState(to, paths, 'done').catch(() => undefined);
    throw e;
  }
  bus.info(`crash guard armed on ${to.name} (journal ${paths.journal}): if this run dies or loses its connection for ${heartbeatTimeoutS}s, ${to.name} puts the previous containers back by itself`);
  return { paths, guard, view: { host: to.name, lost: () => guard.lost(), decidedDir: paths.guardDecided } };
}

/**
 * Every step passed: commit through the guard. If the guard could not record it, it restores (or
 * did), so the release must not stand: that becomes the release's failure.
 */
export async function commitRelease(to: SshHost, j: OpenJournal, plan: Plan, exec: ExecuteResult, restoring: string): Promise<ExecuteResult> {
  const end = await j.guard.end('committed');
  if (end.ok) return exec;
  const error = new ReleaseflowError(`every step passed, but the release could not be committed on ${to.name}: ${end.detail}`, {
    step: `commit (after step ${plan.steps.length}/${plan.steps.length})`,
    host: to.name,
    command: 'end committed (to the crash guard)',
    fix: `check the connection to ${to.name}; ${restoring} are being put back; try the release again`,
  });
  return { ok: false, failedIndex: plan.steps.length, failedStep: plan.steps.at(-1), error, done: exec.done };
}

/** Before our own rollback: a guard that is gone may be restoring right now; let it finish first. Returns why it is gone. */
export async function awaitGoneGuard(to: SshHost, j: OpenJournal, bus: EventBus): Promise<string | undefined> {
  const gone = j.guard.lost() ?? (j.guard.isEnded() ? 'it took over before the commit' : undefined);
  if (gone) {
    bus.warn(`the crash guard on ${to.name} is gone (${gone}); waiting for its restore to finish`);
    await waitGuardGone(to, j.paths, (GUARD_GRACE_S + 150) * 1000).catch(() => false);
  }
  return gone;
}

/** After our own rollback: tell the guard how it ended (or write it to the journal when the guard is gone). */
export async function endAfterRollback(to: SshHost, j: OpenJournal, ok: boolean, guardGone: string | undefined): Promise<void> {
  const word = ok ? 'rolled-back' : 'rollback-failed';
  const end = guardGone ? { ok: false } : await j.guard.end(word);
  if (!end.ok) await setJournalState(to, j.paths, word).catch(() => undefined);
}

/** The undo targets kept in a journal, for `recover`. */
export function journalTargets(j: Journal): UndoTarget[] {
  return j.targets;
}
