// The run target: containers started by plain `docker run`. Each is rebuilt from the target's own
// inspect with the new image (the old one kept aside under a name of ours), then health-checked.
import { inspectContainers } from '../../adapters/inspect.ts';
import { buildImageCheckScript, buildStopStartScript, dockerRename, dockerUpdateRestart, restartPolicyValue } from '../../core/docker.ts';
import { ReleaseflowError } from '../../core/errors.ts';
import type { ContainerInput, InspectLike, PromotionInput } from '../../core/plan.ts';
import { shJoin } from '../../core/quote.ts';
import { type PromotionFact, planUndoSteps, type UndoTarget, undoTargetsOfPromotion } from '../../core/rollback-plan.ts';
import { prevContainerName, statePaths } from '../../core/state.ts';
import type { PlannedContainer, Step, StepCommand } from '../../core/step.ts';
import { aboutContainer, healthStep, rebuildFiles } from '../plan.ts';
import type { PartUndo, PlannedPart, ReleaseTarget, RestoreInput, RestorePart, UndoInput } from '../target.ts';

/** The swap of one container: env file, old aside, new created from the target's inspect, stop old, start new. */
function swapStep(input: PromotionInput, c: ContainerInput, p: PlannedContainer, warnings: string[]): Step {
  const envFile = `${statePaths(input.stateDir, input.app, input.releaseId).release}/${c.name}.env`;
  const rb = input.rebuild(c, c.source!.Config.Image, envFile);
  warnings.push(...rb.warnings.map((w) => `${c.name}: ${w}`));
  p.runCommand = rb.runCommand;
  const oldPolicy = restartPolicyValue(c.target!.HostConfig.RestartPolicy);
  const files = rebuildFiles(envFile, rb);
  const commands: StepCommand[] = [
    ...files.write,
    { argv: dockerRename(c.name, p.prevName).argv },
    ...(rb.before ?? []).map((argv) => ({ argv })),
    { argv: rb.argv },
    files.remove,
    ...rb.networkConnects.map((argv) => ({ argv })),
    { script: buildImageCheckScript(c.name, c.source!.Image) },
    // a stopped previous container must not come back on a daemon restart and take the ports;
    // set while it still runs so the stop → start gap (the only downtime) is one round trip
    { argv: dockerUpdateRestart(p.prevName, 'no').argv },
    { script: buildStopStartScript(p.prevName, c.name) },
  ];
  const cause = `${c.name} runs ${c.target!.Config.Image}; rebuild it from ${input.to.name}'s own inspect with ${c.source!.Config.Image} (old kept as ${p.prevName}, restart policy ${oldPolicy})`;
  return { kind: 'exec', ...aboutContainer(input, c, 'swap', cause), commands };
}

/** Rollback facts of each released container, from its inspect before the release. */
export function promotionFacts(u: UndoInput): PromotionFact[] {
  return u.containers.map((c) => {
    const b = u.before.get(c.name);
    if (!b) throw new ReleaseflowError(`container ${c.name} disappeared from ${u.plan.to.name} after the plan was made`, { host: u.plan.to.name, fix: 'run releaseflow status; then plan again' });
    return { name: c.name, targetId: b.Id, policy: b.HostConfig.RestartPolicy, wasRunning: b.State?.Running ?? true, healthUrl: c.health?.url, dockerHealth: false, healthTimeoutMs: c.health?.timeoutMs ?? 60_000 };
  });
}

/** A container's undo after a failed rollback: what was live before it comes back; the one it restored keeps its kept name. */
function rollbackUndoTargets(input: RestoreInput, before: Map<string, InspectLike | undefined>): UndoTarget[] {
  return input.containers.map((c) => ({
    name: c.name,
    prevName: prevContainerName(c.name, input.releaseId),
    expectId: before.get(c.name)?.Id,
    restartPolicy: restartPolicyValue(before.get(c.name)?.HostConfig.RestartPolicy),
    displaced: { renameTo: c.prevName },
    wasRunning: before.get(c.name)?.State?.Running ?? true,
    healthUrl: input.health.get(c.name)?.url,
    dockerHealth: false,
    healthTimeoutMs: input.health.get(c.name)?.timeoutMs ?? 60_000,
  }));
}

export const runTarget: ReleaseTarget<undefined, undefined> = {
  name: 'run',
  fallback: true,
  restores: 'the previous containers',
  observe: async () => ({ facts: undefined, header: [], warnings: [] }),
  claims: () => true,
  plan(input, mine, _facts, planned): PlannedPart<undefined> {
    const warnings: string[] = [];
    const steps = mine.flatMap((c) => [swapStep(input, c, planned.find((p) => p.name === c.name)!, warnings), healthStep(input, c)]);
    return { snapshot: [], tagAs: new Map(), steps, warnings, data: undefined };
  },
  undo(_data, u): PartUndo {
    const targets = undoTargetsOfPromotion(u.plan, promotionFacts(u));
    const steps = planUndoSteps(u.plan.to.name, targets, u.intervalMs, `release ${u.plan.releaseId} failed: put the previous containers back`, u.lock);
    return { targets, scripts: [], steps, manual: steps.flatMap((s) => (s.kind === 'exec' ? s.commands.map((c) => c.script ?? shJoin(c.argv ?? [])) : [])) };
  },
  // run-mode containers are every recorded container no other target names
  recorded: (entry) => entry.containers.map((c) => c.name),
  async restore(input): Promise<RestorePart> {
    const live = await inspectContainers<InspectLike>(input.host, input.containers.map((c) => c.prevName));
    for (const c of input.containers) {
      if (!live.get(c.prevName)) {
        throw new ReleaseflowError(`the previous container ${c.prevName} of release ${input.entry.releaseId} no longer exists on ${input.host.name}`, {
          host: input.host.name,
          fix: `it was pruned or removed by hand; recreate it from the snapshot in ${statePaths(input.host.config.stateDir, input.app, input.entry.releaseId).release}/${c.name}.inspect.json (releaseflow run-command shows the command)`,
        });
      }
    }
    const targets: UndoTarget[] = input.containers.map((c) => ({
      name: c.name,
      prevName: c.prevName,
      expectId: c.prevContainerId,
      restartPolicy: c.restartPolicy,
      displaced: { renameTo: prevContainerName(c.name, input.releaseId) },
      wasRunning: true,
      healthUrl: input.health.get(c.name)?.url,
      dockerHealth: false,
      healthTimeoutMs: input.health.get(c.name)?.timeoutMs ?? 60_000,
    }));
    const name = input.host.name;
    return {
      header: [],
      prepare: [],
      steps: planUndoSteps(name, targets, input.intervalMs, `bring back the containers release ${input.entry.releaseId} replaced (current ones kept as *-rf-prev-${input.releaseId})`),
      undo: (before, lock) => {
        const back = rollbackUndoTargets(input, before);
        const steps = planUndoSteps(name, back, input.intervalMs, 'the rollback failed: put back what was live before it', lock);
        return { targets: back, scripts: [], steps, manual: [] };
      },
      prevNameOf: (c) => prevContainerName(c.name, input.releaseId),
    };
  },
};
