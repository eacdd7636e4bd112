// The compose target: containers a compose project runs on the target host. The release pins the new
// images in an override file of the project and lets compose recreate the services; the project's own
// compose file is never changed.
import { describeCli } from '../../core/compose.ts';
import type { Plan } from '../../core/step.ts';
import type { Observed, ReleaseTarget } from '../target.ts';
import { recordProjects } from './history.ts';
import { observeComposeTargets } from './observe.ts';
import { type ComposeData, type ComposeObservation, manualRestoreCommands, planCompose, planComposeRestoreSteps } from './plan.ts';
import { recordedProjects, restoreCompose } from './restore.ts';

/** Each released project's restore as one script: undo.sh runs them (the crash guard, recover). */
function undoScripts(data: ComposeData): string[] {
  return data.projects.map((p) => manualRestoreCommands(p, p.services.filter((s) => s.changes).map((s) => ({ service: s.service, ref: s.prevRef, id: s.prevId }))));
}

/** The observation as the seam takes it: header, warnings, and the compose CLIs for the mode line. */
export function observed(obs: ComposeObservation): Observed<ComposeObservation> {
  const clis = [...new Set([...obs.targets.values()].map((t) => describeCli(t.project.cli)))];
  return { facts: obs, header: obs.header, warnings: obs.warnings, ...(clis.length ? { via: clis.join(', ') } : {}) };
}

/** The compose part of a plan: the projects it releases (undefined when nothing goes through compose). */
export function composePart(plan: Plan): ComposeData | undefined {
  return plan.parts?.find((p) => p.target === 'compose')?.data as ComposeData | undefined;
}

export const composeTarget: ReleaseTarget<ComposeObservation, ComposeData> = {
  name: 'compose',
  restores: 'the previous images with the compose files as they were',
  observe: async (host, containers) => observed(await observeComposeTargets(host, new Map(containers))),
  claims: (container, obs) => obs.targets.has(container),
  plan: (input, mine, obs) => planCompose(input, mine, obs),
  undo(data, u) {
    const health = u.plan.steps.filter((s) => s.kind === 'health');
    const steps = data.projects.flatMap((p) => {
      const back = p.services.filter((s) => s.changes).map((s) => ({ container: s.container, service: s.service, ref: s.prevRef, id: s.prevId }));
      return planComposeRestoreSteps(u.plan.to.name, p, back, health, `release ${u.plan.releaseId} failed: put the project's files and images back as they were`);
    });
    const scripts = undoScripts(data);
    return { targets: [], scripts, steps, manual: scripts };
  },
  record: (host, data) => recordProjects(host, data.projects),
  recorded: (entry) => recordedProjects(entry).flatMap((p) => p.services.map((s) => s.container)),
  restore: restoreCompose,
};
