// Execute a planned release under its journal and crash guard; on failure gather diagnostics and let
// every target put its part back. One finish for every target (src/targets): they differ only in their parts.
import { inspectContainers } from '../adapters/inspect.ts';
import { dockerLogs, dockerPsAll } from '../core/docker.ts';
import { ExitCode, renderError } from '../core/errors.ts';
import type { InspectLike } from '../core/plan.ts';
import { buildPruneScript } from '../core/prune.ts';
import type { UndoLock } from '../core/rollback-plan.ts';
import type { Plan } from '../core/step.ts';
import { partsOf, type UndoInput } from '../targets/target.ts';
import { type ExecuteResult, executePlan, type ReleaseOutcome } from './execute.ts';
import { historyContainers, record } from './history.ts';
import { factsOfPlan, postHook, preHookStops, rollbackHook } from './hooks.ts';
import { setJournalState } from '../adapters/state/journal.ts';
import { awaitGoneGuard, commitRelease, endAfterRollback, newJournal, type OpenJournal, openJournal } from './journal.ts';
import { targetsOf, type Ports } from './ports.ts';

/** Each part of the plan with its target and what its undo is made from. */
function undoParts(ports: Ports, plan: Plan, before: Map<string, InspectLike | undefined>, lock?: UndoLock) {
  return partsOf(targetsOf(ports), plan).map(({ target, part }) => {
    const u: UndoInput = { plan, containers: plan.containers.filter((c) => part.containers.includes(c.name)), before, intervalMs: ports.config.health.intervalMs, lock };
    return { target, part, undo: target.undo(part.data, u) };
  });
}

/** Fields the targets add to the history entry (compose files and their hashes, …). */
async function recordedParts(ports: Ports, plan: Plan): Promise<Record<string, unknown>> {
  const to = ports.hosts.get(plan.to.name)!;
  const extra = await Promise.all(partsOf(targetsOf(ports), plan).map(({ target, part }) => target.record?.(to, part.data) ?? {}));
  return Object.assign({}, ...extra);
}

/** Run the plan; success records history, failure puts every part back. */
export async function finishRelease(ports: Ports, plan: Plan, started: number, signal?: AbortSignal): Promise<ReleaseOutcome> {
  const { bus, hosts, config } = ports;
  const to = hosts.get(plan.to.name)!;
  const names = plan.containers.map((c) => c.name);
  // the targets as they were, for the undo and history
  const before = await inspectContainers<InspectLike>(to, names);
  const stopped = await preHookStops(ports, plan, started, signal);
  if (stopped) return stopped;

  // before the first change: the journal (how to undo) and the crash guard that runs it if we vanish
  let j: OpenJournal;
  try {
    const parts = undoParts(ports, plan, before);
    const journal = newJournal({ releaseId: plan.releaseId, kind: 'promote', app: plan.app, stateDir: to.config.stateDir, from: plan.from, to: plan.to, logFile: config.logFile, targets: parts.flatMap((p) => p.undo.targets), history: historyContainers(plan, before, new Map()) }, ports.clock);
    const scripts = parts.flatMap((p) => p.undo.scripts);
    j = await openJournal(to, config, scripts.length ? { ...journal, extraUndo: scripts } : journal, bus);
  } catch (e) {
    bus.emit({ type: 'release-finished', result: 'failed', exitCode: ExitCode.failed, durationMs: Date.now() - started, message: `nothing was changed on ${plan.to.name}.\n${renderError(e)}` });
    return { code: ExitCode.failed, result: 'failed' };
  }

  let exec: ExecuteResult = await executePlan(plan, { hosts, bus, signal, guard: j.view });
  exec = await postHook(ports, plan, exec, signal);
  if (exec.ok) exec = await commitRelease(to, j, plan, exec, restoredWords(ports, plan));
  if (exec.ok) {
    const after = await inspectContainers<InspectLike>(to, names);
    // one figure for the release's duration: the one history records is also the result line's
    const durationMs = await record(ports, plan, 'released', ExitCode.ok, started, historyContainers(plan, before, after), await recordedParts(ports, plan));
    await setJournalState(to, j.paths, 'done').catch((e) => bus.warn(`could not mark the release done on ${to.name}: ${e instanceof Error ? e.message : e}; releaseflow recover will record it`));
    await prune(ports, plan);
    const released = plan.containers.filter((c) => c.changes).map((c) => (c.created ? `${c.name} created on ${c.fromRef}` : `${c.name} ${c.toRef} -> ${c.fromRef}${c.mode === 'run' ? '' : ` (${c.mode})`}`));
    bus.emit({ type: 'release-finished', result: 'released', exitCode: ExitCode.ok, durationMs, message: `released: ${released.join(', ')}` });
    return { code: ExitCode.ok, result: 'released' };
  }
  return await rollBack(ports, plan, j, exec, before, started);
}

/** What the rollback brings back, in words: each target's own, and the removal of the containers the release created (bootstrap). */
function restoredWords(ports: Ports, plan: Plan): string {
  const created = plan.containers.filter((c) => c.created).map((c) => c.name);
  const words = plan.containers.some((c) => c.changes && !c.created) ? partsOf(targetsOf(ports), plan).map(({ target }) => target.restores).join(' and ') : '';
  const removal = created.length ? `the containers it created removed (${created.join(', ')}; volumes kept)` : '';
  return [words, removal].filter(Boolean).join(', and ');
}

/** The result line's words after a successful undo: what the target runs again, and what is gone again. */
function backWords(ports: Ports, plan: Plan): string {
  if (!plan.containers.some((c) => c.created)) return `${plan.to.name} runs ${restoredWords(ports, plan)} again, healthy`;
  return `${plan.to.name} is as it was before the release: ${restoredWords(ports, plan)}`;
}

/** The logs of the containers the failed step concerns, and `docker ps -a`: gone once the rollback removed them. */
async function diagnose(ports: Ports, plan: Plan, exec: ExecuteResult): Promise<void> {
  const to = ports.hosts.get(plan.to.name)!;
  const failed = exec.failedStep;
  const names = failed?.container ? [failed.container] : (failed?.affects ?? []);
  for (const n of names) {
    const logs = await to.run(dockerLogs(n)).catch(() => undefined);
    if (logs) ports.bus.emit({ type: 'output', index: exec.failedIndex!, host: to.name, stream: 'stdout', text: `docker logs --tail 200 ${n}:\n${logs.stdout}${logs.stderr}`, raw: logs.rawStdout + logs.rawStderr });
  }
  const ps = await to.run(dockerPsAll()).catch(() => undefined);
  if (ps) ports.bus.emit({ type: 'output', index: exec.failedIndex!, host: to.name, stream: 'stdout', text: `docker ps -a:\n${ps.stdout}`, raw: ps.rawStdout });
}

async function rollBack(ports: Ports, plan: Plan, j: OpenJournal, exec: ExecuteResult, before: Map<string, InspectLike | undefined>, started: number): Promise<ReleaseOutcome> {
  const { bus, hosts } = ports;
  const to = hosts.get(plan.to.name)!;
  const where = `step ${exec.failedIndex}/${plan.steps.length} ${exec.failedStep?.name ?? ''}`.trim();
  await diagnose(ports, plan, exec);
  // a guard that is gone may be restoring right now: let it finish first (its restore and ours never overlap anyway)
  const guardGone = await awaitGoneGuard(to, j, bus);
  const parts = undoParts(ports, plan, before, { lockDir: j.paths.undoLock, outFile: j.paths.undoOut, sudo: to.config.sudo });
  const rollback: Plan = { ...plan, kind: 'rollback', header: [`rollback of release ${plan.releaseId}`], steps: parts.flatMap((p) => p.undo.steps) };
  const changed = plan.containers.filter((c) => c.changes).length;
  const words = restoredWords(ports, plan);
  bus.warn(`release failed at ${where}: ${exec.error instanceof Error ? exec.error.message : String(exec.error)}; rolling back all ${changed} container(s): ${words}`);
  const rb = await executePlan(rollback, { hosts, bus });
  await endAfterRollback(to, j, rb.ok, guardGone);
  const containers = historyContainers(plan, before, before);
  if (rb.ok) {
    await rollbackHook(ports, factsOfPlan(ports, plan, { failedStep: exec.failedStep?.name, error: exec.error instanceof Error ? exec.error.message : String(exec.error) }));
    const durationMs = await record(ports, plan, 'rolled-back', ExitCode.failed, started, containers, await recordedParts(ports, plan)).catch(() => Date.now() - started);
    await setJournalState(to, j.paths, 'done').catch(() => undefined);
    bus.emit({ type: 'release-finished', result: 'rolled-back', exitCode: ExitCode.failed, durationMs, message: `failed at ${where} on ${to.name}; rolled back: ${backWords(ports, plan)}.\n${renderError(exec.error)}` });
    return { code: ExitCode.failed, result: 'rolled-back' };
  }
  const manual = parts.flatMap((p) => p.undo.manual);
  const durationMs = await record(ports, plan, 'rollback-failed', ExitCode.rollbackIncomplete, started, containers, await recordedParts(ports, plan).catch(() => ({}))).catch(() => Date.now() - started);
  bus.emit({
    type: 'release-finished',
    result: 'rollback-failed',
    exitCode: ExitCode.rollbackIncomplete,
    durationMs,
    message: `failed at ${where} and the rollback failed at its step ${rb.failedIndex}/${rollback.steps.length}: ${renderError(rb.error)}\nFirst try: releaseflow recover (it retries the restore from the journal on ${plan.to.name}).\nOr restore by hand on ${plan.to.name} (ssh ${plan.to.address}), running as the SSH user:\n${manual.join('\n\n')}`,
  });
  return { code: ExitCode.rollbackIncomplete, result: 'rollback-failed' };
}

/** Keep the previous containers and image tags of the last N releases; never remove an image in use. */
export async function prune(ports: Ports, plan: Plan): Promise<void> {
  const to = ports.hosts.get(plan.to.name)!;
  const keep = ports.config.keepReleases;
  for (const c of plan.containers) {
    const r = await to.run({ script: buildPruneScript(c.name, c.prevTag, keep) }).catch(() => undefined);
    // only our own lines: a banner printed by the remote shell is not a pruned container
    const lines = (r?.stdout ?? '').split('\n').filter((l) => l.startsWith('rf-pruned ')).map((l) => l.slice(10));
    if (lines.length) ports.bus.info(`pruned on ${to.name} (keeping ${keep} releases): ${lines.join(', ')}`);
  }
}
