// rollback: bring back the containers the last successful release kept aside, health-check, record.
import { ExitCode, ReleaseflowError, renderError } from '../core/errors.ts';
import type { InspectLike } from '../core/plan.ts';
import { renderPlan } from '../core/render-plan.ts';
import { restartPolicyValue } from '../core/docker.ts';
import { planManualRollback, planUndoSteps, type HistoryContainer, type UndoTarget } from '../core/rollback-plan.ts';
import { makeReleaseId, prevContainerName, statePaths } from '../core/state.ts';
import type { Plan } from '../core/step.ts';
import { shQuote } from '../core/quote.ts';
import { rollbackComposeRelease } from './compose-rollback.ts';
import { executePlan } from './execute.ts';
import { readHistory } from './history.ts';
import { inspectContainers } from './inspect.ts';
import { GUARD_GRACE_S, newJournal, type OpenJournal, openJournal, setJournalState, waitGuardGone } from './journal.ts';
import { acquireLock, operatorName, releaseLock } from './lock.ts';
import { assertNoInterrupted } from './release-state.ts';
import type { Ports } from './ports.ts';
import { rollbackHook } from './hooks.ts';
import { factsOfRun, notifyRun } from './notify.ts';

export interface RollbackOptions {
  to?: string;
  confirm: (plan: Plan) => Promise<boolean>;
  signal?: AbortSignal;
}

/** Undo the last successful release on the target, then notify (notify:). Returns the exit code. */
export async function rollback(ports: Ports, opts: RollbackOptions): Promise<number> {
  const since = ports.bus.history.length;
  let seen: Plan | undefined;
  const confirm = (p: Plan) => {
    seen = p; // the plan names the images, for the notification
    return opts.confirm(p);
  };
  const code = await rollbackOnce(ports, { ...opts, confirm });
  const facts = code === ExitCode.ok && seen ? factsOfRun(ports, 'rollback', since, seen) : undefined;
  if (facts) await rollbackHook(ports, facts);
  await notifyRun(ports, 'rollback', since, seen);
  return code;
}

async function rollbackOnce(ports: Ports, opts: RollbackOptions): Promise<number> {
  // a release that went through compose is undone through compose (files and images)
  const composed = await rollbackComposeRelease(ports, opts);
  if (composed !== undefined) return composed;
  const { config, bus } = ports;
  const toName = opts.to ?? config.to;
  const to = ports.hosts.get(toName)!;
  const started = Date.now();
  const fail = (e: unknown, header: string[] = []) => {
    bus.emit({ type: 'release-started', kind: 'rollback', to: toName, header });
    const code = e instanceof ReleaseflowError ? e.exitCode : ExitCode.internal;
    bus.emit({ type: 'release-finished', result: 'failed', exitCode: code, durationMs: Date.now() - started, message: renderError(e) });
    return code;
  };
  let plan: Plan;
  let restoredFrom = new Map<string, string>();
  try {
    await to.connect();
    await assertNoInterrupted(to, config);
    const history = await readHistory(to, config);
    const last = [...history].reverse().find((h) => h.result === 'released');
    if (!last) throw new ReleaseflowError(`no successful release recorded on ${toName}: nothing to roll back`, { host: toName, fix: 'releaseflow history shows what was recorded' });
    const names = last.containers.map((c) => c.name);
    const live = await inspectContainers<InspectLike>(to, [...names, ...last.containers.map((c) => c.prevName)]);
    for (const c of last.containers) {
      if (!live.get(c.prevName)) {
        throw new ReleaseflowError(`the previous container ${c.prevName} of release ${last.releaseId} no longer exists on ${toName}`, {
          host: toName,
          fix: `it was pruned or removed by hand; recreate it from the snapshot in ${statePaths(to.config.stateDir, config.app, last.releaseId).release}/${c.name}.inspect.json (releaseflow run-command shows the command)`,
        });
      }
    }
    restoredFrom = new Map(last.containers.map((c) => [c.name, c.prevName]));
    const releaseId = makeReleaseId(ports.clock());
    const health = new Map(
      config.containers.map((c) => [c.name, { url: c.healthUrl, dockerHealth: false, timeoutMs: c.healthTimeoutMs }] as const),
    );
    plan = planManualRollback({ app: config.app, releaseId, stateDir: to.config.stateDir, to: { name: toName, address: to.config.address }, previous: last, health, intervalMs: config.health.intervalMs });
    bus.emit({ type: 'release-started', kind: 'rollback', to: toName, header: plan.header });
    bus.emit({ type: 'plan', text: renderPlan(plan, { header: false }) });
    if (!(await opts.confirm(plan))) {
      bus.emit({ type: 'release-finished', result: 'failed', exitCode: ExitCode.usage, durationMs: Date.now() - started, message: 'not confirmed: nothing changed' });
      return ExitCode.usage;
    }
    await acquireLock(to, config, releaseId, 'rollback');
  } catch (e) {
    return fail(e);
  }
  let j: OpenJournal | undefined;
  try {
    const before = await inspectContainers<InspectLike>(to, plan.containers.map((c) => c.name));
    // put the containers that were live before this rollback back in place: the journal's undo, and ours on failure
    const undoTargets: UndoTarget[] = plan.containers.map((c) => ({
      name: c.name,
      prevName: prevContainerName(c.name, plan.releaseId),
      expectId: before.get(c.name)?.Id,
      restartPolicy: restartPolicyValue(before.get(c.name)?.HostConfig.RestartPolicy),
      // the container we tried to bring back goes back under its kept name, for a later try
      displaced: { renameTo: restoredFrom.get(c.name) ?? `${c.name}-rf-failed-${plan.releaseId}` },
      wasRunning: before.get(c.name)?.State?.Running ?? true,
      healthUrl: config.containers.find((x) => x.name === c.name)?.healthUrl,
      dockerHealth: false,
      healthTimeoutMs: config.containers.find((x) => x.name === c.name)?.healthTimeoutMs ?? 60_000,
    }));
    const historyOf = (after: Map<string, InspectLike | undefined>): HistoryContainer[] =>
      plan.containers.map((c) => ({
        name: c.name,
        fromRef: c.fromRef ?? '',
        fromId: c.fromId ?? '',
        toRef: c.toRef,
        toId: c.toId,
        prevName: prevContainerName(c.name, plan.releaseId),
        prevTag: c.prevTag,
        restartPolicy: restartPolicyValue(before.get(c.name)?.HostConfig.RestartPolicy),
        prevContainerId: before.get(c.name)?.Id,
        containerId: after.get(c.name)?.Id,
      }));
    j = await openJournal(to, config, newJournal({ releaseId: plan.releaseId, kind: 'rollback', app: config.app, stateDir: to.config.stateDir, to: plan.to, logFile: config.logFile, targets: undoTargets, history: historyOf(new Map()), undoes: restoredFrom.size ? plan.header[0] : undefined }), bus);
    let exec = await executePlan(plan, { hosts: ports.hosts, bus, signal: opts.signal, guard: j.view });
    if (exec.ok) {
      const end = await j.guard.end('committed');
      if (!end.ok) exec = { ok: false, failedIndex: plan.steps.length, failedStep: plan.steps.at(-1), error: new ReleaseflowError(`every step passed, but the rollback could not be committed on ${toName}: ${end.detail}`, { host: toName, command: 'end committed (to the crash guard)', fix: `check the connection to ${toName}; try again` }), done: exec.done };
    }
    const after = await inspectContainers<InspectLike>(to, plan.containers.map((c) => c.name));
    const containers = historyOf(after);
    let result = 'released';
    let code: number = ExitCode.ok;
    if (!exec.ok) {
      if (j.guard.lost() || j.guard.isEnded()) await waitGuardGone(to, j.paths, (GUARD_GRACE_S + 150) * 1000);
      const undo = planUndoSteps(toName, undoTargets, config.health.intervalMs, 'the rollback failed: put back what was live before it', { lockDir: j.paths.undoLock, outFile: j.paths.undoOut, sudo: to.config.sudo });
      const rb = await executePlan({ ...plan, steps: undo }, { hosts: ports.hosts, bus });
      result = rb.ok ? 'rolled-back' : 'rollback-failed';
      code = rb.ok ? ExitCode.failed : ExitCode.rollbackIncomplete;
      const word = rb.ok ? 'rolled-back' : 'rollback-failed';
      if (!(j.guard.lost() || j.guard.isEnded()) && (await j.guard.end(word)).ok) {
        /* the guard recorded it */
      } else await setJournalState(to, j.paths, word).catch(() => undefined);
    }
    // one figure for history and the result line
    const durationMs = Date.now() - started;
    const entry = { releaseId: plan.releaseId, kind: 'rollback', at: new Date(started).toISOString(), durationMs, operator: operatorName(), to: plan.to, result, exitCode: code, logFile: config.logFile, undoes: plan.header[0], containers };
    const p = statePaths(to.config.stateDir, config.app);
    await to.run({ script: `umask 077 && cat >> ${shQuote(p.history)}` }, { stdin: `${JSON.stringify(entry)}\n` });
    if (result !== 'rollback-failed') await setJournalState(to, j.paths, 'done').catch(() => undefined);
    bus.emit({
      type: 'release-finished',
      result: result as 'released',
      exitCode: code,
      durationMs,
      message: exec.ok ? `rolled back: ${plan.containers.map((c) => `${c.name} ${c.fromRef} -> ${c.toRef}`).join(', ')}` : `rollback failed at step ${exec.failedIndex}/${plan.steps.length}: ${renderError(exec.error)}`,
    });
    return code;
  } catch (e) {
    // the journal or guard could not be set up (nothing changed), or a bug
    return fail(e, plan.header);
  } finally {
    await releaseLock(to, config, plan.releaseId).catch(() => bus.warn(`could not remove the lock on ${toName}; run: releaseflow lock release`));
  }
}
