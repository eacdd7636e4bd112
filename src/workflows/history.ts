// A release's history entry: what it records of each container, written by the state adapter's one writer.
import { restartPolicyValue } from '../core/docker.ts';
import type { InspectLike } from '../core/plan.ts';
import type { HistoryContainer } from '../core/rollback-plan.ts';
import type { Plan } from '../core/step.ts';
import type { ReleaseResult } from '../events/types.ts';
import { operatorName } from '../adapters/state/holder.ts';
import { appendHistory } from '../adapters/state/history.ts';
import type { Ports } from './ports.ts';

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
      ...(c.created ? { created: c.created } : {}),
    }));
}

/** Record one release in the target's history; `extra` adds mode-specific fields (compose projects).
 *  Returns the duration it recorded, for the release's result line (one figure in both places). */
export async function record(ports: Ports, plan: Plan, result: ReleaseResult, exitCode: number, started: number, containers: HistoryContainer[], extra: object = {}): Promise<number> {
  const durationMs = Date.now() - started;
  await appendHistory(ports.hosts.get(plan.to.name)!, ports.config, {
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
