// The swarm target's plans (pure): update each service to TEST's exact image by ID, wait for swarm's
// verdict, check every node's tasks; and the steps that put a service back on an image.
import { dockerTag } from '../../core/docker.ts';
import { ExitCode, ReleaseflowError } from '../../core/errors.ts';
import { shortId } from '../../core/host-facts.ts';
import type { ContainerInput, PromotionInput } from '../../core/plan.ts';
import { shJoin } from '../../core/quote.ts';
import { statePaths } from '../../core/state.ts';
import type { Step } from '../../core/step.ts';
import { updateTimeoutS } from '../../core/swarm.ts';
import { buildAtOnceScript, buildSaveServiceScript, buildSwarmUpdateScript, buildTaskHealthScript, serviceUpdateArgv } from '../../core/swarm-scripts.ts';
import type { PlannedPart } from '../target.ts';
import type { SwarmFacts, SwarmTarget } from './observe.ts';

/** One service of a release, as the plan, its undo, history and `releaseflow rollback` keep it. */
export interface SwarmServiceRelease {
  container: string;
  service: string;
  stack?: string;
  /** The image ID before the release, and TEST's, both by full `sha256:` ID. */
  prevId: string;
  imageId: string;
  /** The update's failure action before the release; releaseflow sets `pause` for its own update and puts this back on undo. */
  failureAction: string;
  tasks: number;
  timeoutS: number;
  /** The configured hosts that may run it (its nodes). */
  nodes: string[];
  healthUrl?: string;
  healthTimeoutMs: number;
}

export interface SwarmData {
  manager: string;
  services: SwarmServiceRelease[];
}

/** Refuse a service some node of which is no configured host: releaseflow could not put the image there. */
function assertNodesKnown(to: string, t: SwarmTarget): string[] {
  const unknown = t.nodes.filter((n) => !n.host);
  if (unknown.length > 0) {
    const list = unknown.map((n) => `${n.node.hostname} (${n.node.addr})`).join(', ');
    throw new ReleaseflowError(`swarm node(s) ${list} may run service ${t.service.name} but no host under hosts: has that address; the image must reach every node before the service changes`, {
      host: to,
      fix: `add each node under hosts: with its address (docker node inspect shows .Status.Addr), or limit the service's placement (docker service update --constraint-add) to configured hosts`,
    }, ExitCode.usage);
  }
  if (t.nodes.length === 0) throw new ReleaseflowError(`no ready, active swarm node may run service ${t.service.name}`, { host: to, fix: 'docker node ls on the manager; check the service placement constraints' }, ExitCode.usage);
  // measured (docs/swarm.md): a containerd-store node rejects a task pinned by a classic node's image ID, and the other way round
  const stores = new Set([...(t.stores?.values() ?? [])].filter(Boolean));
  if (stores.size > 1) {
    const list = [...t.stores!].map(([h, st]) => `${h} (${st ?? 'unknown'})`).join(', ');
    throw new ReleaseflowError(`the swarm nodes that may run service ${t.service.name} mix image stores: ${list}; a service pinned by image ID cannot run on both (the containerd store names an image by its manifest digest), so releaseflow does not release to this swarm`, {
      host: to,
      fix: `run every node that may run ${t.service.name} on one image store, or limit the service's placement (docker service update --constraint-add) to nodes of one store; nothing was changed`,
    }, ExitCode.usage);
  }
  return t.nodes.map((n) => n.host!);
}

/** A service's release from its facts and the container input. */
export function toServiceRelease(to: string, c: ContainerInput, t: SwarmTarget): SwarmServiceRelease {
  const nodes = assertNodesKnown(to, t);
  const tasks = t.service.global ? nodes.length : (t.service.replicas ?? 1);
  return {
    container: c.name,
    service: t.service.name,
    ...(t.service.stack ? { stack: t.service.stack } : {}),
    prevId: c.target!.Image,
    imageId: c.source!.Image,
    failureAction: t.service.failureAction,
    tasks,
    timeoutS: updateTimeoutS(t.service, tasks, c.healthTimeoutMs),
    nodes,
    healthUrl: c.healthUrl,
    healthTimeoutMs: c.healthTimeoutMs,
  };
}

/** A ref that can name an image as a tag (not an ID, not a digest ref). */
const tagName = (ref: string) => ref !== '' && !ref.includes('@') && !/^(sha256:)?[0-9a-f]{64}$/.test(ref);

/** Update the service to an image by ID, wait for swarm's verdict, then check the tasks on every node. */
export function planServiceSteps(manager: string, s: SwarmServiceRelease, imageId: string, failureAction: string | undefined, intervalMs: number, why: string): Step[] {
  const short = shortId(imageId);
  const update: Step = {
    kind: 'exec',
    act: 'swarm-update',
    name: `update service ${s.service}`,
    host: manager,
    affects: [s.container],
    cause: `${why}: docker service update --image ${short} (by ID: no node contacts a registry); done only when UpdateStatus is completed and all ${s.tasks} task(s) run it`,
    commands: [{ script: buildSwarmUpdateScript({ service: s.service, imageId, failureAction, tasks: s.tasks, timeoutS: s.timeoutS }) }],
  };
  const health = s.nodes.map((node): Step => ({
    kind: 'exec',
    act: 'health',
    name: `health ${s.service} on ${node}`,
    host: node,
    affects: [s.container],
    cause: `every task of ${s.service} on ${node} runs ${short}, Docker reports it healthy (when it has a HEALTHCHECK)${s.healthUrl ? ` and ${s.healthUrl} answers from ${node}` : ''}`,
    commands: [{ script: buildTaskHealthScript({ service: s.service, imageId, url: s.healthUrl, timeoutS: Math.ceil(s.healthTimeoutMs / 1000), intervalS: Math.max(1, Math.round(intervalMs / 1000)) }) }],
  }));
  return [update, ...health];
}

/**
 * The services of a release updated at once (one step: every update started, each waited for on its
 * own, the step fails when any fails), then each one's health on every node. One service: its steps.
 */
export function planServicesSteps(manager: string, services: readonly SwarmServiceRelease[], imageOf: (s: SwarmServiceRelease) => string, actionOf: (s: SwarmServiceRelease) => string | undefined, intervalMs: number, why: (s: SwarmServiceRelease) => string): Step[] {
  const each = services.map((s) => planServiceSteps(manager, s, imageOf(s), actionOf(s), intervalMs, why(s)));
  if (each.length === 1) return each[0]!;
  const updates = each.map((steps) => steps[0]!);
  const scripts = updates.flatMap((u) => (u.kind === 'exec' ? u.commands.map((c) => c.script!) : []));
  const update: Step = {
    kind: 'exec',
    act: 'swarm-update',
    name: `update services ${services.map((s) => s.service).join(', ')} at once`,
    host: manager,
    affects: services.map((s) => s.container),
    cause: `${services.map((s) => `${s.service}: ${shortId(imageOf(s))}`).join(', ')}, by ID (no node contacts a registry), all at once; done only when each one's UpdateStatus is completed and all its tasks run it`,
    commands: [{ script: buildAtOnceScript(scripts) }],
  };
  return [update, ...each.flatMap((steps) => steps.slice(1))];
}

/** The one command that puts a service back by hand (and what the journal's undo runs, with its wait). */
export function manualServiceRestore(s: SwarmServiceRelease, imageId: string): string {
  return shJoin(serviceUpdateArgv(s.service, imageId, s.failureAction)).replace('--detach --quiet ', '');
}

/** The swarm part of a release: each service's saved spec, its nodes for the transfers, its update and health steps. */
export function planSwarm(input: PromotionInput, mine: ContainerInput[], facts: SwarmFacts): PlannedPart<SwarmData> {
  const release = statePaths(input.stateDir, input.app, input.releaseId).release;
  const services = mine.map((c) => toServiceRelease(input.to.name, c, facts.targets.get(c.name)!));
  const warnings = services.filter((s) => s.failureAction !== 'pause').map((s) => `service ${s.service}: its update failure action becomes pause (was ${s.failureAction}) so that releaseflow decides; a rollback puts ${s.failureAction} back`);
  const nodes = [...new Set(services.flatMap((s) => s.nodes))].filter((n) => n !== input.to.name);
  // the new version's name on every node (the frame tags it on the manager): an operator's stack file that
  // names that version then deploys it on any node with no registry (docker stack deploy --resolve-image never)
  const tags = nodes.flatMap((node): Step[] => {
    const refs = mine.filter((c) => services.find((s) => s.container === c.name)!.nodes.includes(node) && tagName(c.source!.Config.Image));
    if (refs.length === 0) return [];
    return [{ kind: 'exec', act: 'tag', name: `tag images on ${node}`, host: node, cause: `name the new image${refs.length > 1 ? 's' : ''} on ${node} as ${input.from.name} does (${refs.map((c) => c.source!.Config.Image).join(', ')}), so a stack file naming that version runs it there without a registry`, commands: refs.map((c) => ({ argv: dockerTag(c.source!.Image, c.source!.Config.Image).argv })) }];
  });
  return {
    snapshot: services.map((s) => ({ script: buildSaveServiceScript(s.service, `${release}/${s.container}.service.json`) })),
    tagAs: new Map(),
    nodes,
    steps: [...tags, ...planServicesSteps(input.to.name, services, (s) => s.imageId, (s) => (s.failureAction === 'pause' ? undefined : 'pause'), input.intervalMs, (s) => `release ${s.service} (${s.container})`)],
    warnings,
    data: { manager: input.to.name, services },
  };
}

/** Put every service of a release back on an image: `prev` (undo of the release) or `next` (undo of a rollback). */
export function planSwarmBack(data: SwarmData, side: 'prev' | 'next', intervalMs: number, why: string): { steps: Step[]; scripts: string[]; manual: string[] } {
  const imageOf = (s: SwarmServiceRelease) => (side === 'prev' ? s.prevId : s.imageId);
  const action = (s: SwarmServiceRelease) => (side === 'prev' ? s.failureAction : 'pause');
  return {
    steps: planServicesSteps(data.manager, data.services, imageOf, action, intervalMs, () => why),
    scripts: data.services.map((s) => buildSwarmUpdateScript({ service: s.service, imageId: imageOf(s), failureAction: action(s), tasks: s.tasks, timeoutS: s.timeoutS })),
    manual: data.services.map((s) => manualServiceRestore(s, imageOf(s))),
  };
}
