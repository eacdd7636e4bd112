// rollback: bring back what the last successful release replaced, under a journal and crash guard, health-check, record.
// One rollback for every target: each brings back its own containers of the recorded release (src/targets).
import { healthUrlOn } from '../core/config.ts';
import { inspectContainers } from '../adapters/inspect.ts';
import { restartPolicyValue } from '../core/docker.ts';
import { ExitCode, ReleaseflowError, renderError } from '../core/errors.ts';
import type { InspectLike } from '../core/plan.ts';
import { buildPrivateDirScript } from '../core/file-scripts.ts';
import { renderPlan } from '../core/render-plan.ts';
import type { HistoryContainer } from '../core/rollback-plan.ts';
import { makeReleaseId, prevContainerName, statePaths } from '../core/state.ts';
import type { Plan } from '../core/step.ts';
import type { AnyTarget, RecordedRelease, RestorePart } from '../targets/target.ts';
import { executePlan } from './execute.ts';
import { appendHistory, readHistory } from '../adapters/state/history.ts';
import { rollbackHook } from './hooks.ts';
import { setJournalState, waitGuardGone } from '../adapters/state/journal.ts';
import { GUARD_GRACE_S, newJournal, type OpenJournal, openJournal } from './journal.ts';
import { operatorName } from '../adapters/state/holder.ts';
import { acquireLock, releaseLock } from '../adapters/state/lock.ts';
import { factsOfRun, notifyRun } from './notify.ts';
import { type Ports, targetsOf } from './ports.ts';
import { assertNoInterrupted } from './release-state.ts';

export interface RollbackOptions {
  to?: string;
  confirm: (plan: Plan) => Promise<boolean>;
  signal?: AbortSignal;
  /** The caller holds the target's lock already (a rollout undoing its hosts): neither take nor give it back. */
  heldLock?: boolean;
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

/** Which target brings back which container of a recorded release: the ones that recorded it, the fallback the rest. */
function ownersOf(targets: readonly AnyTarget[], entry: RecordedRelease): { target: AnyTarget; containers: HistoryContainer[] }[] {
  const owner = new Map<string, AnyTarget>();
  for (const t of targets) if (!t.fallback) for (const n of t.recorded(entry)) if (!owner.has(n)) owner.set(n, t);
  const fallback = targets.find((t) => t.fallback);
  return targets
    .map((target) => ({ target, containers: entry.containers.filter((c) => (owner.get(c.name) ?? fallback) === target) }))
    .filter((x) => x.containers.length > 0);
}

interface RestorePlan {
  plan: Plan;
  parts: { target: AnyTarget; restore: RestorePart; containers: HistoryContainer[] }[];
}

/** Read history, let each target check its containers and plan their restore (reads only). */
async function planRestore(ports: Ports, toName: string): Promise<RestorePlan> {
  const { config } = ports;
  const to = ports.hosts.get(toName)!;
  const last = [...(await readHistory(to, config))].reverse().find((h) => h.result === 'released');
  if (!last) throw new ReleaseflowError(`no successful release recorded on ${toName}: nothing to roll back`, { host: toName, fix: 'releaseflow history shows what was recorded' });
  const entry = last as unknown as RecordedRelease;
  const releaseId = makeReleaseId(ports.clock());
  const release = statePaths(to.config.stateDir, config.app, releaseId).release;
  const health = new Map(config.containers.map((c) => [c.name, { url: healthUrlOn(config, c.name, toName), timeoutMs: c.healthTimeoutMs }] as const));
  const parts: RestorePlan['parts'] = [];
  for (const { target, containers } of ownersOf(targetsOf(ports), entry)) {
    const restore = await target.restore({ host: to, hostOf: (n) => ports.hosts.get(n), app: config.app, releaseId, release, entry, containers, health, intervalMs: config.health.intervalMs });
    parts.push({ target, restore, containers });
  }
  const modeOf = (name: string) => parts.find((p) => p.containers.some((c) => c.name === name))?.target.name ?? 'run';
  const plan: Plan = {
    kind: 'rollback',
    releaseId,
    app: config.app,
    to: { name: toName, address: to.config.address },
    header: [
      `rollback ${releaseId} of app ${config.app} on ${toName} (${to.config.address}): undo release ${last.releaseId}`,
      ...last.containers.map((c) => (c.created ? `container ${c.name}: ${c.toRef} -> removed (release ${last.releaseId} created it${c.created.networks.length ? `; network ${c.created.networks.join(', ')} removed once empty` : ''}; volumes kept${c.created.volumes.length ? `: ${c.created.volumes.join(', ')}` : ''})` : `container ${c.name}: ${c.toRef} -> ${c.fromRef}${modeOf(c.name) === 'run' ? '' : ` (${modeOf(c.name)})`}`)),
      ...parts.flatMap((p) => p.restore.header),
    ],
    containers: last.containers.map((c) => ({ name: c.name, mode: modeOf(c.name), fromRef: c.toRef, fromId: c.toId, toRef: c.fromRef, toId: c.fromId, prevName: prevContainerName(c.name, releaseId), prevTag: c.prevTag, changes: true })),
    steps: [
      { kind: 'exec', act: 'prepare', name: 'prepare', host: toName, cause: 'state folder for this rollback (and a snapshot of the files it changes)', commands: [{ script: buildPrivateDirScript(release) }, ...parts.flatMap((p) => p.restore.prepare)] },
      ...parts.flatMap((p) => p.restore.steps),
    ],
    upToDate: false,
    warnings: [],
    parts: parts.map((p) => ({ target: p.target.name, containers: p.containers.map((c) => c.name) })),
  };
  return { plan, parts };
}

/** The rollback of one host, without notifications (a rollout undoing its hosts uses it). */
export async function rollbackHost(ports: Ports, opts: RollbackOptions): Promise<number> {
  return rollbackOnce(ports, opts);
}

async function rollbackOnce(ports: Ports, opts: RollbackOptions): Promise<number> {
  const { config, bus } = ports;
  const toName = opts.to ?? config.to;
  const to = ports.hosts.get(toName)!;
  const started = Date.now();
  const fail = (e: unknown, header: string[] = []) => {
    if (!bus.history.some((x) => x.type === 'release-started')) bus.emit({ type: 'release-started', kind: 'rollback', to: toName, header });
    const code = e instanceof ReleaseflowError ? e.exitCode : ExitCode.internal;
    bus.emit({ type: 'release-finished', result: 'failed', exitCode: code, durationMs: Date.now() - started, message: renderError(e) });
    return code;
  };
  let r: RestorePlan;
  try {
    await to.connect();
    await assertNoInterrupted(to, config);
    r = await planRestore(ports, toName);
    bus.emit({ type: 'release-started', kind: 'rollback', to: toName, header: r.plan.header });
    bus.emit({ type: 'plan', text: renderPlan(r.plan, { header: false }) });
    if (!(await opts.confirm(r.plan))) {
      bus.emit({ type: 'release-finished', result: 'failed', exitCode: ExitCode.usage, durationMs: Date.now() - started, message: 'not confirmed: nothing changed' });
      return ExitCode.usage;
    }
    if (!opts.heldLock) await acquireLock(to, config, r.plan.releaseId, 'rollback', ports.clock);
  } catch (e) {
    return fail(e);
  }
  const { plan } = r;
  try {
    return await runRestore(ports, r, started, opts.signal);
  } catch (e) {
    // the journal or guard could not be set up (nothing changed), or a bug
    return fail(e, plan.header);
  } finally {
    if (!opts.heldLock) await releaseLock(to, config, plan.releaseId).catch(() => bus.warn(`could not remove the lock on ${toName}; run: releaseflow lock release`));
  }
}

/** Run the restore under a journal; on failure put back what was live before it; record. */
async function runRestore(ports: Ports, r: RestorePlan, started: number, signal?: AbortSignal): Promise<number> {
  const { config, bus } = ports;
  const { plan } = r;
  const to = ports.hosts.get(plan.to.name)!;
  const names = plan.containers.map((c) => c.name);
  const before = await inspectContainers<InspectLike>(to, names);
  const historyOf = (after: Map<string, InspectLike | undefined>): HistoryContainer[] =>
    r.parts.flatMap((p) =>
      p.containers.map((c) => ({
        name: c.name,
        fromRef: c.toRef,
        fromId: c.toId,
        toRef: c.fromRef,
        toId: c.fromId,
        prevName: p.restore.prevNameOf(c),
        prevTag: c.prevTag,
        restartPolicy: restartPolicyValue(before.get(c.name)?.HostConfig.RestartPolicy),
        prevContainerId: before.get(c.name)?.Id,
        containerId: after.get(c.name)?.Id,
      })),
    );
  // what was live before this rollback, put back by the journal's undo (crash guard, recover) and by ours on failure
  const undos = (lock?: { lockDir: string; outFile: string; sudo?: boolean }) => r.parts.map((p) => p.restore.undo(before, lock));
  const forJournal = undos();
  const scripts = forJournal.flatMap((u) => u.scripts);
  const journal = newJournal({ releaseId: plan.releaseId, kind: 'rollback', app: config.app, stateDir: to.config.stateDir, to: plan.to, logFile: config.logFile, targets: forJournal.flatMap((u) => u.targets), history: historyOf(new Map()), undoes: plan.header[0] }, ports.clock);
  const j: OpenJournal = await openJournal(to, config, scripts.length ? { ...journal, extraUndo: scripts } : journal, bus);
  let exec = await executePlan(plan, { hosts: ports.hosts, bus, signal, guard: j.view });
  if (exec.ok) {
    const end = await j.guard.end('committed');
    if (!end.ok) exec = { ok: false, failedIndex: plan.steps.length, failedStep: plan.steps.at(-1), error: new ReleaseflowError(`every step passed, but the rollback could not be committed on ${to.name}: ${end.detail}`, { host: to.name, command: 'end committed (to the crash guard)', fix: `check the connection to ${to.name}; try again` }), done: exec.done };
  }
  let result = 'released';
  let code: number = ExitCode.ok;
  if (!exec.ok) {
    if (j.guard.lost() || j.guard.isEnded()) await waitGuardGone(to, j.paths, (GUARD_GRACE_S + 150) * 1000);
    const undo = undos({ lockDir: j.paths.undoLock, outFile: j.paths.undoOut, sudo: to.config.sudo }).flatMap((u) => u.steps);
    const rb = await executePlan({ ...plan, steps: undo }, { hosts: ports.hosts, bus });
    result = rb.ok ? 'rolled-back' : 'rollback-failed';
    code = rb.ok ? ExitCode.failed : ExitCode.rollbackIncomplete;
    if (!(j.guard.lost() || j.guard.isEnded()) && (await j.guard.end(result as 'rolled-back')).ok) {
      /* the guard recorded it */
    } else await setJournalState(to, j.paths, result as 'rolled-back').catch(() => undefined);
  }
  const after = await inspectContainers<InspectLike>(to, names);
  const extra = Object.assign({}, ...(await Promise.all(r.parts.map((p) => p.restore.record?.(to).catch(() => ({})) ?? {}))));
  // one figure for history and the result line
  const durationMs = Date.now() - started;
  const entry = { releaseId: plan.releaseId, kind: 'rollback', at: new Date(started).toISOString(), durationMs, operator: operatorName(), to: plan.to, result, exitCode: code, logFile: config.logFile, undoes: plan.header[0], containers: historyOf(after), ...extra };
  await appendHistory(to, config, entry).catch((e) => bus.warn(`could not record the rollback in the history on ${to.name}: ${e instanceof Error ? e.message : e}`));
  if (result !== 'rollback-failed') await setJournalState(to, j.paths, 'done').catch(() => undefined);
  bus.emit({
    type: 'release-finished',
    result: result as 'released',
    exitCode: code,
    durationMs,
    message: exec.ok ? `rolled back: ${plan.containers.map((c) => `${c.name} ${c.fromRef} -> ${c.toRef || 'removed (volumes kept)'}`).join(', ')}` : `rollback failed at step ${exec.failedIndex}/${plan.steps.length}: ${renderError(exec.error)}`,
  });
  return code;
}
