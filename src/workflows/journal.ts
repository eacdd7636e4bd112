// The release journal on the target, as workflows use it: write it and arm the crash guard before the
// first change; set its state as the release ends.
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SshHost } from '../adapters/ssh.ts';
import type { Config } from '../core/config.ts';
import { ALIVE_FN, buildSetStateScript, buildUndoAllScript, buildWriteJournalScript, type Journal, type JournalPaths, type JournalState, journalPaths } from '../core/journal.ts';
import { shQuote } from '../core/quote.ts';
import type { UndoTarget } from '../core/rollback-plan.ts';
import type { EventBus } from '../events/bus.ts';
import { CrashGuard } from './crash-guard.ts';
import { ReleaseflowError } from '../core/errors.ts';
import type { Plan } from '../core/step.ts';
import type { ExecuteResult, GuardView } from './execute.ts';
import { operatorName } from '../adapters/state/holder.ts';

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
export function newJournal(input: Omit<Journal, 'version' | 'holder' | 'machine' | 'pid' | 'startedAt'>): Journal {
  return { version: 1, holder: operatorName(), machine: hostname(), pid: process.pid, startedAt: new Date().toISOString(), ...input };
}

/** Write the journal and undo.sh, then arm the guard. Throws before anything changed when either fails. */
export async function openJournal(to: SshHost, config: Config, journal: Journal, bus: EventBus): Promise<OpenJournal> {
  const paths = journalPaths(to.config.stateDir, config.app, journal.releaseId);
  await to.check({ script: buildWriteJournalScript(paths, buildUndoAllScript(journal.targets, paths, to.config.sudo, journal.extraUndo)) }, {
    stdin: JSON.stringify(journal),
    what: 'writing the release journal',
    fix: `make ${to.config.stateDir} writable for the SSH user on ${to.name}; nothing was changed`,
  });
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

/** Set the state word (removes leftover env files too). */
export async function setJournalState(to: SshHost, paths: JournalPaths, state: JournalState): Promise<void> {
  await to.check({ script: buildSetStateScript(paths, state) }, { what: `marking release ${paths.dir} ${state}`, timeoutMs: 30_000 });
}

/** Wait (bounded) until the guard process of a release is gone, so its restore never overlaps what follows. */
export async function waitGuardGone(to: SshHost, paths: JournalPaths, maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  const script = `${ALIVE_FN}
p=$(cat ${shQuote(paths.guardPid)} 2>/dev/null); if [ -n "$p" ] && rf_alive "$p" ${shQuote(paths.dir)}; then echo rf-guard-alive; else echo rf-guard-gone; fi`;
  let unreachable = 0;
  for (;;) {
    const r = await to.run({ script }, { timeoutMs: 20_000 }).catch(() => undefined);
    if (r?.stdout.includes('rf-guard-gone')) return true;
    // the host cannot be reached: its guard works on its own; do not wait for it here
    unreachable = r ? 0 : unreachable + 1;
    if (unreachable >= 3 || Date.now() > deadline) return false;
    await sleep(500);
  }
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
