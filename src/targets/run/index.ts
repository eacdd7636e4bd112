// The run target: containers started by plain `docker run`. Each is rebuilt from the target's own
// inspect with the new image (the old one kept aside under a name of ours), then health-checked.
import { inspectContainers } from '../../adapters/inspect.ts';
import { buildImageCheckScript, buildStopStartScript, dockerRename, dockerUpdateRestart, restartPolicyValue } from '../../core/docker.ts';
import { ReleaseflowError } from '../../core/errors.ts';
import type { ContainerInput, InspectLike, PromotionInput } from '../../core/plan.ts';
import { shJoin } from '../../core/quote.ts';
import { createdUndoTarget, type PromotionFact, planUndoSteps, type UndoTarget, undoTargetsOfPromotion } from '../../core/rollback-plan.ts';
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

/**
 * The bootstrap of a container the target lacks: the networks and volumes it needs first (each once in a
 * release: `made` holds those an earlier step of the release creates), then env file, create, start.
 */
function createStep(input: PromotionInput, c: ContainerInput, p: PlannedContainer, made: Set<string>, warnings: string[]): Step {
  const envFile = `${statePaths(input.stateDir, input.app, input.releaseId).release}/${c.name}.env`;
  const rb = c.create!.rebuild(envFile);
  warnings.push(...rb.warnings.map((w) => `${c.name}: ${w}`));
  p.runCommand = rb.runCommand;
  const first = [...c.create!.networks.map((n) => ({ ...n, key: `network ${n.name}` })), ...c.create!.volumes.map((v) => ({ ...v, key: `volume ${v.name}` }))].filter((x) => !made.has(x.key));
  for (const x of first) made.add(x.key);
  const files = rebuildFiles(envFile, rb);
  const commands: StepCommand[] = [
    ...first.map((x) => ({ script: x.script })),
    ...files.write,
    ...(rb.before ?? []).map((argv) => ({ argv })),
    { argv: rb.argv },
    files.remove,
    ...rb.networkConnects.map((argv) => ({ argv })),
    { script: buildImageCheckScript(c.name, c.source!.Image) },
    { argv: ['docker', 'start', c.name] },
  ];
  const made1 = first.map((x) => x.key).join(', ');
  const cause = `${input.to.name} has no ${c.name}: create it from ${input.from.name}'s inspect with ${c.source!.Config.Image} and ${input.to.name}'s overrides${made1 ? `, after creating ${made1}` : ''} (rollback removes it)`;
  return { kind: 'exec', ...aboutContainer(input, c, 'create', cause), commands };
}

/** Rollback facts of each released container, from its inspect before the release. */
export function promotionFacts(u: UndoInput): PromotionFact[] {
  return u.containers.filter((c) => !c.created).map((c) => {
    const b = u.before.get(c.name);
    if (!b) throw new ReleaseflowError(`container ${c.name} disappeared from ${u.plan.to.name} after the plan was made`, { host: u.plan.to.name, fix: 'run releaseflow status; then plan again' });
    return { name: c.name, targetId: b.Id, policy: b.HostConfig.RestartPolicy, wasRunning: b.State?.Running ?? true, healthUrl: c.health?.url, dockerHealth: false, healthTimeoutMs: c.health?.timeoutMs ?? 60_000 };
  });
}

/** A container's undo after a failed rollback: what was live before it comes back; the one it restored keeps its kept name. */
function rollbackUndoTargets(input: RestoreInput, before: Map<string, InspectLike | undefined>): UndoTarget[] {
  // a created container the rollback removed cannot come back: nothing to undo for it
  return input.containers.filter((c) => !c.created).map((c) => ({
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
    const made = new Set<string>();
    const step = (c: ContainerInput, p: PlannedContainer) => (c.create ? createStep(input, c, p, made, warnings) : swapStep(input, c, p, warnings));
    const steps = mine.flatMap((c) => [step(c, planned.find((p) => p.name === c.name)!), healthStep(input, c)]);
    return { snapshot: [], tagAs: new Map(), steps, warnings, data: undefined };
  },
  undo(_data, u): PartUndo {
    // a container the release created is removed (with the networks it created, once empty); volumes stay
    const created = u.containers.filter((c) => c.created).map((c) => createdUndoTarget(c.name, u.plan.releaseId, c.created!.networks));
    const targets = [...undoTargetsOfPromotion(u.plan, promotionFacts(u)), ...created];
    const steps = planUndoSteps(u.plan.to.name, targets, u.intervalMs, `release ${u.plan.releaseId} failed: ${created.length ? 'remove the containers it created (and the networks it created, once empty; volumes kept), put back the ones it replaced' : 'put the previous containers back'}`, u.lock);
    return { targets, scripts: [], steps, manual: steps.flatMap((s) => (s.kind === 'exec' ? s.commands.map((c) => c.script ?? shJoin(c.argv ?? [])) : [])) };
  },
  // run-mode containers are every recorded container no other target names
  recorded: (entry) => entry.containers.map((c) => c.name),
  async restore(input): Promise<RestorePart> {
    // a rollback of a bootstrap removed the container: there is nothing of it to bring back
    const gone = input.containers.filter((c) => !c.created && !c.toRef);
    if (gone.length) {
      throw new ReleaseflowError(`release ${input.entry.releaseId} removed ${gone.map((c) => c.name).join(', ')} (it undid the release that created them): nothing to bring back on ${input.host.name}`, {
        host: input.host.name,
        fix: 'to create them again: releaseflow promote --create (releaseflow history shows what was recorded)',
      });
    }
    const live = await inspectContainers<InspectLike>(input.host, input.containers.map((c) => c.prevName));
    for (const c of input.containers.filter((x) => !x.created)) {
      if (!live.get(c.prevName)) {
        throw new ReleaseflowError(`the previous container ${c.prevName} of release ${input.entry.releaseId} no longer exists on ${input.host.name}`, {
          host: input.host.name,
          fix: `it was pruned or removed by hand; recreate it from the snapshot in ${statePaths(input.host.config.stateDir, input.app, input.entry.releaseId).release}/${c.name}.inspect.json (releaseflow run-command shows the command)`,
        });
      }
    }
    const targets: UndoTarget[] = input.containers.map((c) => (c.created ? createdUndoTarget(c.name, input.entry.releaseId, c.created.networks) : {
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
      steps: planUndoSteps(name, targets, input.intervalMs, input.containers.some((c) => c.created) ? `undo release ${input.entry.releaseId}: remove the containers it created (and the networks it created, once empty; volumes kept), bring back the ones it replaced` : `bring back the containers release ${input.entry.releaseId} replaced (current ones kept as *-rf-prev-${input.releaseId})`),
      undo: (before, lock) => {
        const back = rollbackUndoTargets(input, before);
        const steps = planUndoSteps(name, back, input.intervalMs, 'the rollback failed: put back what was live before it', lock);
        return { targets: back, scripts: [], steps, manual: [] };
      },
      prevNameOf: (c) => prevContainerName(c.name, input.releaseId),
    };
  },
};
