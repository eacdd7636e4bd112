// Execute a planned release, and on failure gather diagnostics and roll every container back.
import { dockerLogs, dockerPsAll } from '../core/docker.ts';
import { ExitCode, renderError } from '../core/errors.ts';
import { shQuote } from '../core/quote.ts';
import { planRollbackOfPromotion, type HistoryContainer } from '../core/rollback-plan.ts';
import { statePaths } from '../core/state.ts';
import type { Plan } from '../core/step.ts';
import { executePlan } from './execute.ts';
import { operatorName } from './lock.ts';
import type { Ports } from './promote.ts';
import type { InspectLike } from '../core/plan.ts';
import { restartPolicyValue } from '../core/docker.ts';
import { inspectContainers } from './inspect.ts';
import type { ReleaseResult } from '../events/types.ts';

export interface ReleaseOutcome {
  code: number;
  result: ReleaseResult;
}

/** Run the plan; success records history, failure rolls back all containers. */
export async function finishRelease(ports: Ports, plan: Plan, started: number, signal?: AbortSignal): Promise<ReleaseOutcome> {
  const { bus, hosts } = ports;
  const to = hosts.get(plan.to.name)!;
  // the targets as they were, for rollback facts and history
  const before = await inspectContainers<InspectLike>(to, plan.containers.map((c) => c.name));
  const exec = await executePlan(plan, { hosts, bus, signal });
  if (exec.ok) {
    const after = await inspectContainers<InspectLike>(to, plan.containers.map((c) => c.name));
    await record(ports, plan, 'released', ExitCode.ok, started, before, after);
    await prune(ports, plan);
    bus.emit({ type: 'release-finished', result: 'released', exitCode: ExitCode.ok, durationMs: Date.now() - started, message: `released: ${plan.containers.map((c) => `${c.name} ${c.toRef} -> ${c.fromRef}`).join(', ')}` });
    return { code: ExitCode.ok, result: 'released' };
  }

  // diagnostics first: the failed container's logs are gone once it is removed
  const failed = exec.failedStep?.container;
  if (failed) {
    const logs = await to.run(dockerLogs(failed)).catch(() => undefined);
    if (logs) bus.emit({ type: 'output', index: exec.failedIndex!, host: to.name, stream: 'stdout', text: `docker logs --tail 200 ${failed}:\n${logs.stdout}${logs.stderr}`, raw: logs.rawStdout + logs.rawStderr });
  }
  const ps = await to.run(dockerPsAll()).catch(() => undefined);
  if (ps) bus.emit({ type: 'output', index: exec.failedIndex!, host: to.name, stream: 'stdout', text: `docker ps -a:\n${ps.stdout}`, raw: ps.rawStdout });

  const facts = plan.containers
    .filter((c) => c.changes)
    .map((c) => {
      const b = before.get(c.name)!;
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
  const rollback = planRollbackOfPromotion(plan, facts, ports.config.health.intervalMs);
  bus.warn(`release failed at step ${exec.failedIndex}/${plan.steps.length} ${exec.failedStep?.name}: ${exec.error instanceof Error ? exec.error.message : String(exec.error)}; rolling back all ${facts.length} container(s)`);
  const rb = await executePlan(rollback, { hosts, bus });
  if (rb.ok) {
    await record(ports, plan, 'rolled-back', ExitCode.failed, started, before, before).catch(() => undefined);
    bus.emit({ type: 'release-finished', result: 'rolled-back', exitCode: ExitCode.failed, durationMs: Date.now() - started, message: `failed at step ${exec.failedIndex}/${plan.steps.length} ${exec.failedStep?.name}; rolled back: ${plan.to.name} runs the previous containers again, healthy.\n${renderError(exec.error)}` });
    return { code: ExitCode.failed, result: 'rolled-back' };
  }
  const manual = rollback.steps
    .filter((s) => s.kind === 'exec')
    .flatMap((s) => (s.kind === 'exec' ? s.commands.map((c) => c.script ?? '') : []));
  await record(ports, plan, 'rollback-failed', ExitCode.rollbackIncomplete, started, before, before).catch(() => undefined);
  bus.emit({
    type: 'release-finished',
    result: 'rollback-failed',
    exitCode: ExitCode.rollbackIncomplete,
    durationMs: Date.now() - started,
    message: `failed at step ${exec.failedIndex}/${plan.steps.length} and the rollback failed at its step ${rb.failedIndex}/${rollback.steps.length}: ${renderError(rb.error)}\nRestore by hand on ${plan.to.name} (ssh ${plan.to.address}), running as root:\n${manual.join('\n\n')}`,
  });
  return { code: ExitCode.rollbackIncomplete, result: 'rollback-failed' };
}

async function record(ports: Ports, plan: Plan, result: ReleaseResult, exitCode: number, started: number, before: Map<string, InspectLike | undefined>, after: Map<string, InspectLike | undefined>): Promise<void> {
  const to = ports.hosts.get(plan.to.name)!;
  const containers: HistoryContainer[] = plan.containers.filter((c) => c.changes).map((c) => ({
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
  const entry = {
    releaseId: plan.releaseId,
    kind: plan.kind,
    at: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    operator: operatorName(),
    from: plan.from,
    to: plan.to,
    result,
    exitCode,
    logFile: ports.config.logFile,
    containers,
  };
  const p = statePaths(to.config.stateDir, plan.app);
  await to.check({ script: `umask 077 && mkdir -p ${shQuote(p.root)} && cat >> ${shQuote(p.history)}` }, { stdin: `${JSON.stringify(entry)}\n`, what: 'recording history' });
}

/** Keep the previous containers and image tags of the last N releases; never remove an image in use. */
async function prune(ports: Ports, plan: Plan): Promise<void> {
  const to = ports.hosts.get(plan.to.name)!;
  const keep = ports.config.keepReleases;
  for (const c of plan.containers) {
    const pattern = `^${c.name.replace(/\./g, '\\.')}-rf-prev-[0-9]{8}T[0-9]{6}Z$`;
    const repo = c.prevTag.split(':')[0]!;
    const script = [
      `docker ps -a --format '{{.Names}}' | grep -E ${shQuote(pattern)} | sort -r | tail -n +${keep + 1} | while read -r n; do docker rm "$n" >/dev/null && echo "removed $n"; done`,
      `docker images --format '{{.Repository}}:{{.Tag}}' ${shQuote(repo)} | sort -r | tail -n +${keep + 1} | while read -r t; do docker rmi "$t" >/dev/null 2>&1 && echo "untagged $t"; done`,
      'true',
    ].join('\n');
    const r = await to.run({ script }).catch(() => undefined);
    if (r?.stdout.trim()) ports.bus.info(`pruned on ${to.name} (keeping ${keep} releases): ${r.stdout.trim().split('\n').join(', ')}`);
  }
}
