// Execute a planned release under its journal and crash guard; on failure gather diagnostics and roll every container back.
import { dockerLogs, dockerPsAll, restartPolicyValue } from '../core/docker.ts';
import { ExitCode, ReleaseflowError, renderError } from '../core/errors.ts';
import type { InspectLike } from '../core/plan.ts';
import { shQuote } from '../core/quote.ts';
import { type HistoryContainer, type PromotionFact, planRollbackOfPromotion, undoTargetsOfPromotion } from '../core/rollback-plan.ts';
import { statePaths } from '../core/state.ts';
import type { Plan } from '../core/step.ts';
import type { ReleaseResult } from '../events/types.ts';
import { type ExecuteResult, executePlan } from './execute.ts';
import { inspectContainers } from './inspect.ts';
import { awaitGoneGuard, commitRelease, endAfterRollback, newJournal, type OpenJournal, openJournal, setJournalState } from './journal.ts';
import { factsOfPlan, postHook, preHookStops, rollbackHook } from './hooks.ts';
import { operatorName } from './lock.ts';
import type { Ports } from './ports.ts';

export interface ReleaseOutcome {
  code: number;
  result: ReleaseResult;
}

/** Run the plan; success records history, failure rolls back all containers. */
export async function finishRelease(ports: Ports, plan: Plan, started: number, signal?: AbortSignal): Promise<ReleaseOutcome> {
  const { bus, hosts, config } = ports;
  const to = hosts.get(plan.to.name)!;
  // the targets as they were, for rollback facts and history
  const before = await inspectContainers<InspectLike>(to, plan.containers.map((c) => c.name));
  const facts = promotionFacts(plan, before);
  const history = historyContainers(plan, before, new Map());
  const stopped = await preHookStops(ports, plan, started, signal);
  if (stopped) return stopped;

  // before the first change: the journal (how to undo) and the crash guard that runs it if we vanish
  let j: OpenJournal;
  try {
    j = await openJournal(to, config, newJournal({ releaseId: plan.releaseId, kind: 'promote', app: plan.app, stateDir: to.config.stateDir, from: plan.from, to: plan.to, logFile: config.logFile, targets: undoTargetsOfPromotion(plan, facts), history }), bus);
  } catch (e) {
    bus.emit({ type: 'release-finished', result: 'failed', exitCode: ExitCode.failed, durationMs: Date.now() - started, message: `nothing was changed on ${plan.to.name}.\n${renderError(e)}` });
    return { code: ExitCode.failed, result: 'failed' };
  }

  let exec: ExecuteResult = await executePlan(plan, { hosts, bus, signal, guard: j.view });
  exec = await postHook(ports, plan, exec, signal);
  if (exec.ok) exec = await commitRelease(to, j, plan, exec, 'the previous containers');
  if (exec.ok) {
    const after = await inspectContainers<InspectLike>(to, plan.containers.map((c) => c.name));
    // one figure for the release's duration: the one history records is also the result line's
    const durationMs = await record(ports, plan, 'released', ExitCode.ok, started, historyContainers(plan, before, after));
    await setJournalState(to, j.paths, 'done').catch((e) => bus.warn(`could not mark the release done on ${to.name}: ${e instanceof Error ? e.message : e}; releaseflow recover will record it`));
    await prune(ports, plan);
    bus.emit({ type: 'release-finished', result: 'released', exitCode: ExitCode.ok, durationMs, message: `released: ${plan.containers.map((c) => `${c.name} ${c.toRef} -> ${c.fromRef}`).join(', ')}` });
    return { code: ExitCode.ok, result: 'released' };
  }
  return await rollBack(ports, plan, j, exec, before, facts, started);
}

async function rollBack(ports: Ports, plan: Plan, j: OpenJournal, exec: ExecuteResult, before: Map<string, InspectLike | undefined>, facts: PromotionFact[], started: number): Promise<ReleaseOutcome> {
  const { bus, hosts } = ports;
  const to = hosts.get(plan.to.name)!;
  const where = `step ${exec.failedIndex}/${plan.steps.length} ${exec.failedStep?.name ?? ''}`.trim();
  // diagnostics first: the failed container's logs are gone once it is removed
  const failed = exec.failedStep?.container;
  if (failed) {
    const logs = await to.run(dockerLogs(failed)).catch(() => undefined);
    if (logs) bus.emit({ type: 'output', index: exec.failedIndex!, host: to.name, stream: 'stdout', text: `docker logs --tail 200 ${failed}:\n${logs.stdout}${logs.stderr}`, raw: logs.rawStdout + logs.rawStderr });
  }
  const ps = await to.run(dockerPsAll()).catch(() => undefined);
  if (ps) bus.emit({ type: 'output', index: exec.failedIndex!, host: to.name, stream: 'stdout', text: `docker ps -a:\n${ps.stdout}`, raw: ps.rawStdout });

  // a guard that is gone may be restoring right now: let it finish first (its restore and ours never overlap anyway)
  const guardGone = await awaitGoneGuard(to, j, bus);
  const rollback = planRollbackOfPromotion(plan, facts, ports.config.health.intervalMs, { lockDir: j.paths.undoLock, outFile: j.paths.undoOut, sudo: to.config.sudo });
  bus.warn(`release failed at ${where}: ${exec.error instanceof Error ? exec.error.message : String(exec.error)}; rolling back all ${facts.length} container(s)`);
  const rb = await executePlan(rollback, { hosts, bus });
  await endAfterRollback(to, j, rb.ok, guardGone);
  if (rb.ok) {
    await rollbackHook(ports, factsOfPlan(ports, plan, { failedStep: exec.failedStep?.name, error: exec.error instanceof Error ? exec.error.message : String(exec.error) }));
    const durationMs = await record(ports, plan, 'rolled-back', ExitCode.failed, started, historyContainers(plan, before, before)).catch(() => Date.now() - started);
    await setJournalState(to, j.paths, 'done').catch(() => undefined);
    bus.emit({ type: 'release-finished', result: 'rolled-back', exitCode: ExitCode.failed, durationMs, message: `failed at ${where} on ${to.name}; rolled back: ${plan.to.name} runs the previous containers again, healthy.\n${renderError(exec.error)}` });
    return { code: ExitCode.failed, result: 'rolled-back' };
  }
  const manual = rollback.steps.flatMap((s) => (s.kind === 'exec' ? s.commands.map((c) => c.script ?? '') : []));
  const durationMs = await record(ports, plan, 'rollback-failed', ExitCode.rollbackIncomplete, started, historyContainers(plan, before, before)).catch(() => Date.now() - started);
  bus.emit({
    type: 'release-finished',
    result: 'rollback-failed',
    exitCode: ExitCode.rollbackIncomplete,
    durationMs,
    message: `failed at ${where} and the rollback failed at its step ${rb.failedIndex}/${rollback.steps.length}: ${renderError(rb.error)}\nFirst try: releaseflow recover (it retries the restore from the journal on ${plan.to.name}).\nOr restore by hand on ${plan.to.name} (ssh ${plan.to.address}), running as the SSH user:\n${manual.join('\n\n')}`,
  });
  return { code: ExitCode.rollbackIncomplete, result: 'rollback-failed' };
}

/** Rollback facts of each changing container (optionally only some), from its inspect before the release. */
export function promotionFacts(plan: Plan, before: Map<string, InspectLike | undefined>, only: (c: Plan['containers'][number]) => boolean = () => true): PromotionFact[] {
  return plan.containers
    .filter((c) => c.changes && only(c))
    .map((c) => {
      const b = before.get(c.name);
      if (!b) throw new ReleaseflowError(`container ${c.name} disappeared from ${plan.to.name} after the plan was made`, { host: plan.to.name, fix: 'run releaseflow status; then plan again' });
      const step = plan.steps.find((s) => s.kind === 'health' && s.container === c.name);
      return {
        name: c.name,
        targetId: b.Id,
        policy: b.HostConfig.RestartPolicy,
        wasRunning: b.State?.Running ?? true,
        healthUrl: step?.kind === 'health' ? step.url : undefined,
        dockerHealth: false,
        healthTimeoutMs: step?.kind === 'health' ? step.timeoutMs : 60_000,
      };
    });
}

/** History's record of each changing container. */
export function historyContainers(plan: Plan, before: Map<string, InspectLike | undefined>, after: Map<string, InspectLike | undefined>): HistoryContainer[] {
  return plan.containers
    .filter((c) => c.changes)
    .map((c) => ({
      name: c.name,
      fromRef: c.toRef,
      fromId: c.toId,
      toRef: c.fromRef ?? '',
      toId: c.fromId ?? '',
      prevName: c.prevName,
      prevTag: c.prevTag,
      restartPolicy: restartPolicyValue(before.get(c.name)?.HostConfig.RestartPolicy),
      prevContainerId: before.get(c.name)?.Id,
      containerId: after.get(c.name)?.Id,
    }));
}

/** Append one history line on the target. */
export async function appendHistory(ports: Ports, toName: string, entry: object): Promise<void> {
  const to = ports.hosts.get(toName)!;
  const p = statePaths(to.config.stateDir, ports.config.app);
  await to.check({ script: `umask 077 && mkdir -p ${shQuote(p.root)} && cat >> ${shQuote(p.history)}` }, { stdin: `${JSON.stringify(entry)}\n`, what: 'recording history' });
}

/** Record one release in the target's history; `extra` adds mode-specific fields (compose projects).
 *  Returns the duration it recorded, for the release's result line (one figure in both places). */
export async function record(ports: Ports, plan: Plan, result: ReleaseResult, exitCode: number, started: number, containers: HistoryContainer[], extra: object = {}): Promise<number> {
  const durationMs = Date.now() - started;
  await appendHistory(ports, plan.to.name, {
    releaseId: plan.releaseId,
    kind: plan.kind,
    at: new Date(started).toISOString(),
    durationMs,
    operator: operatorName(),
    from: plan.from,
    to: plan.to,
    result,
    exitCode,
    logFile: ports.config.logFile,
    containers,
    ...(plan.carried?.length ? { carried: plan.carried } : {}),
    ...extra,
  });
  return durationMs;
}

/** Keep the previous containers and image tags of the last N releases; never remove an image in use. */
export async function prune(ports: Ports, plan: Plan): Promise<void> {
  const to = ports.hosts.get(plan.to.name)!;
  const keep = ports.config.keepReleases;
  for (const c of plan.containers) {
    const pattern = `^${c.name.replace(/\./g, '\\.')}-rf-prev-[0-9]{8}T[0-9]{6}Z$`;
    const repo = c.prevTag.split(':')[0]!;
    const script = [
      `docker ps -a --format '{{.Names}}' | grep -E ${shQuote(pattern)} | sort -r | tail -n +${keep + 1} | while read -r n; do docker rm "$n" >/dev/null && echo "rf-pruned removed $n"; done`,
      `docker images --format '{{.Repository}}:{{.Tag}}' ${shQuote(repo)} | sort -r | tail -n +${keep + 1} | while read -r t; do docker rmi "$t" >/dev/null 2>&1 && echo "rf-pruned untagged $t"; done`,
      'true',
    ].join('\n');
    const r = await to.run({ script }).catch(() => undefined);
    // only our own lines: a banner printed by the remote shell is not a pruned container
    const lines = (r?.stdout ?? '').split('\n').filter((l) => l.startsWith('rf-pruned ')).map((l) => l.slice(10));
    if (lines.length) ports.bus.info(`pruned on ${to.name} (keeping ${keep} releases): ${lines.join(', ')}`);
  }
}
