// recover: finish an interrupted release from its journal on the target: restore the previous containers
// (or record the release the guard kept), check health, record history, remove the lock.
import { ExitCode, ReleaseflowError, renderError } from '../core/errors.ts';
import { journalPaths } from '../core/journal.ts';
import { planUndoSteps } from '../core/rollback-plan.ts';
import { withUndoLock } from '../core/undo-lock.ts';
import { makeReleaseId } from '../core/state.ts';
import type { Plan, Step } from '../core/step.ts';
import { executePlan } from './execute.ts';
import { appendHistory, readHistory } from '../adapters/state/history.ts';
import { inspectContainers } from '../adapters/inspect.ts';
import { setJournalState, stopGuard, waitGuardGone } from '../adapters/state/journal.ts';
import { GUARD_GRACE_S } from './journal.ts';
import { describeHolder, holderLiveness, operatorName } from '../adapters/state/holder.ts';
import { releaseLock } from '../adapters/state/lock.ts';
import type { Ports } from './ports.ts';
import { type InterruptedRelease, readReleaseState } from '../adapters/state/release-state.ts';
import { describeInterrupted, describeRunning } from './release-state.ts';

export interface RecoverOptions {
  to?: string;
  /** Also take over a release whose guard still runs, or a lock whose holder may be alive. */
  force?: boolean;
  confirm: (plan: Plan) => Promise<boolean>;
}

/** Recover the target. Returns the exit code: 0 recovered or nothing to do, 1 refused, 3 restore failed. */
export async function recover(ports: Ports, opts: RecoverOptions): Promise<number> {
  const { config, bus } = ports;
  const toName = opts.to ?? config.to;
  const to = ports.hosts.get(toName)!;
  const started = Date.now();
  const finish = (result: 'released' | 'rolled-back' | 'rollback-failed' | 'failed' | 'up-to-date', exitCode: number, message: string) => {
    bus.emit({ type: 'release-finished', result, exitCode, durationMs: Date.now() - started, message });
    return exitCode;
  };
  let releases: InterruptedRelease[];
  let lockHeld: boolean;
  // the release the lock named when we looked: removed only while it still does (unnamed: whatever holds it)
  let lockId: string | undefined;
  let plan: Plan;
  let stepsOf = new Map<string, Step[]>();
  try {
    await to.connect();
    const st = await readReleaseState(to, config);
    const header = [`recover on ${toName} (${to.config.address})`, ...st.interrupted.map(describeInterrupted), ...st.running.map(describeRunning)];
    if (st.lock.held) header.push(`lock: held by ${describeHolder(st.lock.info)}`);
    bus.emit({ type: 'release-started', kind: 'recover', to: toName, header });
    for (const w of to.warnings()) bus.warn(w);
    if (st.running.length && !opts.force) {
      throw new ReleaseflowError(`${describeRunning(st.running[0]!)}: its crash guard on ${toName} still runs`, {
        host: toName,
        fix: 'wait for it to finish (its guard restores the previous containers by itself if its run is gone); if you are sure no release runs: releaseflow recover --force',
      });
    }
    if (st.lock.held && !st.interrupted.length && !st.running.length && holderLiveness(st.lock.info) === 'alive' && !opts.force) {
      throw new ReleaseflowError(`the lock on ${toName} is held by a run that is alive: ${describeHolder(st.lock.info)}`, { host: toName, fix: 'wait for it to finish' });
    }
    releases = [...st.interrupted, ...(opts.force ? st.running : [])];
    lockHeld = st.lock.held;
    lockId = st.lock.info?.releaseId;
    if (releases.length === 0 && !lockHeld) return finish('up-to-date', ExitCode.ok, `nothing to recover on ${toName}: no interrupted release and no lock`);
    ({ plan, stepsOf } = recoveryPlan(ports, toName, releases));
  } catch (e) {
    return finish('failed', e instanceof ReleaseflowError ? e.exitCode : ExitCode.internal, renderError(e));
  }
  bus.emit({ type: 'plan', text: plan.steps.length ? plan.steps.map((s, i) => `step ${i + 1}/${plan.steps.length} ${s.name}: ${s.cause}`).join('\n') : 'no container to restore: only the lock goes' });
  if (!(await opts.confirm(plan))) return finish('failed', ExitCode.usage, 'not confirmed: nothing changed');

  let failed: string | undefined;
  const done: string[] = [];
  for (const r of releases) {
    const j = r.journal;
    const paths = journalPaths(to.config.stateDir, config.app, r.releaseId);
    try {
      if (r.guardAlive) {
        // --force on a guard that still waits: stop it without letting it restore (recover restores below)
        if (!r.guardDecided) await stopGuard(to, paths);
        bus.info(`waiting for the crash guard of release ${r.releaseId} to finish`);
        await waitGuardGone(to, paths, (GUARD_GRACE_S + 150) * 1000);
      }
      if (!j) {
        // the journal is written before anything changes: without one, nothing was changed
        await setJournalState(to, paths, 'done');
        done.push(`${r.releaseId}: no readable journal (nothing was changed)`);
        continue;
      }
      if (r.state === 'committed') {
        const after = await inspectContainers<{ Id: string; Name: string }>(to, j.history.map((c) => c.name));
        await recordOnce(ports, toName, r, 'released', ExitCode.ok, j.history.map((c) => ({ ...c, containerId: after.get(c.name)?.Id ?? c.containerId })));
        await setJournalState(to, paths, 'done');
        done.push(`${r.releaseId}: the new version was kept (it was healthy and committed); history recorded`);
        continue;
      }
      const steps = stepsOf.get(r.releaseId) ?? [];
      const exec = await executePlan({ ...plan, steps }, { hosts: ports.hosts, bus });
      if (!exec.ok) {
        await setJournalState(to, paths, 'rollback-failed').catch(() => undefined);
        failed = `release ${r.releaseId}: restore failed at step ${exec.failedIndex}/${steps.length}: ${renderError(exec.error)}\nRestore by hand on ${toName}: sh ${paths.undo}`;
        break;
      }
      await recordOnce(ports, toName, r, 'rolled-back', ExitCode.failed, j.history);
      await setJournalState(to, paths, 'done');
      const what = [...j.targets.filter((t) => !t.created).map((t) => t.name), ...(j.extraUndo?.length ? [`${j.extraUndo.length} target undo script(s): compose files and images, swarm services`] : [])];
      const removed = j.targets.filter((t) => t.created).map((t) => t.name);
      done.push(`${r.releaseId}: ${[what.length ? `previous containers restored and healthy (${what.join(', ')})` : '', removed.length ? `the containers it created removed (${removed.join(', ')}; volumes kept)` : ''].filter(Boolean).join('; ')}`);
    } catch (e) {
      failed = `release ${r.releaseId}: ${renderError(e)}`;
      break;
    }
  }
  if (failed) return finish('rollback-failed', ExitCode.rollbackIncomplete, `${failed}\nthe lock on ${toName} stays; run releaseflow recover again once the cause is fixed`);
  if (lockHeld) {
    const gone = await releaseLock(to, config, lockId).catch((e) => bus.warn(`could not remove the lock on ${toName}: ${e instanceof Error ? e.message : e}; run: releaseflow lock release`));
    done.push(gone === 'other' ? 'lock left in place: another run took it meanwhile' : 'lock removed');
  }
  return finish('rolled-back', ExitCode.ok, `recovered ${toName}: ${done.join('; ')}`);
}

/** The undo and health steps of every interrupted release that is not committed. */
function recoveryPlan(ports: Ports, toName: string, releases: InterruptedRelease[]): { plan: Plan; stepsOf: Map<string, Step[]> } {
  const to = ports.hosts.get(toName)!;
  const stepsOf = new Map<string, Step[]>();
  for (const r of releases) {
    if (!r.journal || r.state === 'committed') continue;
    const paths = journalPaths(to.config.stateDir, ports.config.app, r.releaseId);
    const lock = { lockDir: paths.undoLock, outFile: paths.undoOut, sudo: to.config.sudo };
    const cause = `recover release ${r.releaseId}: put the previous containers back${r.journal.targets.some((t) => t.created) ? ', remove the ones it created (volumes kept)' : ''}`;
    // the targets' undo scripts (compose: files from the snapshots, then compose up; swarm: each service back on its image), the same the guard runs
    const compose: Step[] = (r.journal.extraUndo ?? []).map((x, i) => ({ kind: 'exec', act: 'restore', name: `recover: undo script ${i + 1}`, host: toName, cause, commands: [{ script: withUndoLock(x, lock.lockDir, lock.outFile, lock.sudo) }] }));
    stepsOf.set(r.releaseId, [...planUndoSteps(toName, r.journal.targets, ports.config.health.intervalMs, cause, lock), ...compose]);
  }
  const steps = [...stepsOf.values()].flat();
  const releaseId = makeReleaseId(ports.clock());
  const plan: Plan = {
    kind: 'rollback',
    releaseId,
    app: ports.config.app,
    to: { name: toName, address: to.config.address },
    header: [`recover ${releases.map((r) => r.releaseId).join(', ') || 'lock'} on ${toName}`],
    containers: releases.flatMap((r) => (r.journal?.history ?? []).map((c) => ({ name: c.name, mode: 'run' as const, fromRef: c.toRef, fromId: c.toId, toRef: c.fromRef, toId: c.fromId, prevName: c.prevName, prevTag: c.prevTag, changes: true }))),
    steps,
    upToDate: false,
    warnings: [],
  };
  return { plan, stepsOf };
}

/** Record the interrupted release in history once (a run that died after recording is not recorded twice). */
async function recordOnce(ports: Ports, toName: string, r: InterruptedRelease, result: string, exitCode: number, containers: unknown[]): Promise<void> {
  const j = r.journal!;
  const to = ports.hosts.get(toName)!;
  const history = await readHistory(to, ports.config);
  if (history.some((h) => h.releaseId === r.releaseId && h.result === result)) return;
  await appendHistory(to, ports.config, {
    releaseId: r.releaseId,
    kind: j.kind,
    at: j.startedAt,
    durationMs: Date.now() - Date.parse(j.startedAt),
    operator: j.holder,
    from: j.from,
    to: j.to,
    result,
    exitCode,
    logFile: j.logFile,
    containers,
    interrupted: { state: r.state, recoveredBy: operatorName(), recoveredAt: ports.clock().toISOString() },
  });
}
