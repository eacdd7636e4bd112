// The swarm target: services on a swarm manager (the target host). The image reaches every node that
// may run a service before anything changes (the frame's transfers to `nodes`), then each service is
// updated to TEST's image by full ID (no registry anywhere) and judged by swarm's UpdateStatus, every
// task's image and the health on each node; a failure puts every service back on its previous image.
import { ExitCode, ReleaseflowError } from '../../core/errors.ts';
import { inspectImages } from '../../adapters/inspect.ts';
import type { ReleaseTarget, RestoreInput, RestorePart } from '../target.ts';
import { observeSwarm, type SwarmFacts, swarmViews } from './observe.ts';
import { planSwarm, planSwarmBack, type SwarmData, type SwarmServiceRelease } from './plan.ts';

/** The swarm field of a history entry. */
export interface SwarmRecord {
  [field: string]: unknown;
  swarm?: SwarmData;
}

/** The services a recorded release updated (none when it did not go through swarm). */
export function recordedServices(entry: { [field: string]: unknown }): SwarmServiceRelease[] {
  return (entry as SwarmRecord).swarm?.services ?? [];
}

/** `releaseflow rollback`: every service of the recorded release back on its previous image (checked first on every node that may run it). */
async function restoreSwarm(input: RestoreInput): Promise<RestorePart> {
  const rec = (input.entry as SwarmRecord).swarm!;
  const names = new Set(input.containers.map((c) => c.name));
  const data: SwarmData = { manager: input.host.name, services: rec.services.filter((s) => names.has(s.container)) };
  // a task may start on any node: the previous image must be on each of them, not only on the manager
  const nodes = [...new Set([input.host.name, ...data.services.flatMap((s) => s.nodes)])];
  for (const node of nodes) {
    const host = node === input.host.name ? input.host : input.hostOf(node);
    if (!host) continue;
    const mine = data.services.filter((s) => node === input.host.name || s.nodes.includes(node));
    const images = await inspectImages(host, mine.map((s) => s.prevId));
    const gone = mine.filter((s) => !images.get(s.prevId));
    if (gone.length) {
      throw new ReleaseflowError(`the previous image(s) ${gone.map((s) => s.prevId).join(', ')} of release ${input.entry.releaseId} are gone from ${node}`, { host: node, fix: `load them again on ${node} (docker load), or release another version with releaseflow promote` }, ExitCode.usage);
    }
  }
  const back = planSwarmBack(data, 'prev', input.intervalMs, `bring back the image release ${input.entry.releaseId} replaced`);
  return {
    header: data.services.map((s) => `swarm: service ${s.service} back to ${s.prevId} on ${s.nodes.join(', ')}`),
    prepare: [],
    steps: back.steps,
    undo: () => {
      const fwd = planSwarmBack(data, 'next', input.intervalMs, 'the rollback failed: put back what was live before it');
      return { targets: [], scripts: fwd.scripts, steps: fwd.steps, manual: fwd.manual };
    },
    record: async () => ({ swarm: { ...data, services: data.services.map((s) => ({ ...s, prevId: s.imageId, imageId: s.prevId })) } }),
    prevNameOf: (c) => c.prevName,
  };
}

export const swarmTarget: ReleaseTarget<SwarmFacts, SwarmData> = {
  name: 'swarm',
  restores: 'every service on its previous image',
  observe: observeSwarm,
  views: swarmViews,
  claims: (container, facts) => facts?.targets.has(container) ?? false,
  plan: (input, mine, facts) => planSwarm(input, mine, facts),
  undo(data, u) {
    const back = planSwarmBack(data, 'prev', u.intervalMs, `release ${u.plan.releaseId} failed: put every service back on its previous image`);
    return { targets: [], scripts: back.scripts, steps: back.steps, manual: back.manual };
  },
  record: async (_host, data) => ({ swarm: data }),
  recorded: (entry) => recordedServices(entry).map((s) => s.container),
  restore: restoreSwarm,
};
