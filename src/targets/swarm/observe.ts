// Observe the swarm on the target host (reads only): is it a manager, the services the config's names
// stand for, every node, and which configured host each node that may run a service is.
import { randomBytes } from 'node:crypto';
import type { SshHost } from '../../adapters/ssh.ts';
import { parseJsonArray } from '../../core/docker-json.ts';
import type { InspectLike } from '../../core/plan.ts';
import { shJoin } from '../../core/quote.ts';
import { parseSections } from '../../core/sections.ts';
import { eligibleNodes, hostOfNode, type NodeJson, pinnedId, type ServiceJson, type SwarmNode, type SwarmService, toSwarmNode, toSwarmService } from '../../core/swarm.ts';
import { buildSwarmObserveScript } from '../../core/swarm-scripts.ts';
import type { ObserveContext, Observed, TargetView } from '../target.ts';

/** One service a config name stands for, with the nodes that may run it. */
export interface SwarmTarget {
  container: string;
  service: SwarmService;
  /** The image ID the service runs now (its pinned ID, or its tag resolved on the manager). */
  imageId?: string;
  /** Nodes that may run it, each with the configured host it is (undefined: no host of the config). */
  nodes: { node: SwarmNode; host?: string }[];
  /** Swarm's count of running/desired tasks (`docker service ls`), e.g. `3/3`. */
  tasks?: string;
  /** No container has the config's name on the host: the name stands for the service. */
  stands?: boolean;
  /** The image store of each node's configured host (releases only: ctx.storeOf). */
  stores?: Map<string, 'classic' | 'containerd' | undefined>;
}

export interface SwarmFacts {
  targets: Map<string, SwarmTarget>;
}

const SERVICE_LABEL = 'com.docker.swarm.service.name';

/** The service each config name stands for: the config's `service:`, a task container's label, or the name itself when no container has it. */
export function serviceNames(containers: ReadonlyMap<string, InspectLike | undefined>, named: ReadonlyMap<string, string> = new Map()): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, c] of containers) {
    const label = c?.Config.Labels?.[SERVICE_LABEL];
    if (named.has(name)) out.set(name, named.get(name)!);
    else if (!c) out.set(name, name);
    else if (label) out.set(name, label);
  }
  return out;
}

/** What the workflows plan with for a service no container is named after: its ID, spec image and image ID. */
export function standIn(t: SwarmTarget): InspectLike {
  return {
    Id: t.service.id,
    Name: `/${t.service.name}`,
    Image: t.imageId ?? t.service.specImage,
    Config: { Image: t.service.specImage, Labels: { [SERVICE_LABEL]: t.service.name } },
    HostConfig: {},
    State: { Status: 'running', Running: true },
  };
}

/** The IDs of spec images given by tag (or tag@digest), resolved on the manager. */
async function resolveImages(host: SshHost, refs: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const ref of refs) {
    const r = await host.run({ script: `${shJoin(['docker', 'image', 'inspect', '-f', '{{.Id}}', ref.replace(/@sha256:[0-9a-f]{64}$/, '')])} 2>/dev/null` });
    const id = r.stdout.split('\n').map((l) => l.trim()).find((l) => pinnedId(l));
    if (id) out.set(ref, id);
  }
  return out;
}

/** A service's mode in words: `global` or `3 replica(s)`. */
const modeOf = (s: SwarmService) => (s.global ? 'global' : `${s.replicas ?? '?'} replica(s)`);

/** The nodes that may run a service, each with the configured host it is: `prod2 10.0.0.7 = prod2, …`. */
const whereOf = (t: SwarmTarget) => t.nodes.map((n) => `${n.node.hostname} ${n.node.addr} = ${n.host ?? 'no configured host'}`).join(', ');

/** The swarm facts of the target host; nothing when it is no swarm manager or no config name is a service there. */
export async function observeSwarm(host: SshHost, containers: ReadonlyMap<string, InspectLike | undefined>, ctx: ObserveContext): Promise<Observed<SwarmFacts>> {
  const facts: SwarmFacts = { targets: new Map() };
  const empty = { facts, header: [], warnings: [] };
  const names = serviceNames(containers, ctx.services);
  if (names.size === 0) return empty;
  const marker = `@@rf-${randomBytes(6).toString('hex')}`;
  const r = await host.run({ script: buildSwarmObserveScript([...new Set(names.values())], marker) });
  const s = parseSections(r.stdout, marker);
  const [state, control] = (s.get('swarm')?.text ?? '').trim().split(/\s+/);
  if (state !== 'active') return empty;
  if (control !== 'true') return { ...empty, warnings: [`${host.name} is a swarm worker: releaseflow releases swarm services from a manager (set to: to a manager node)`] };
  const services = (parseJsonArray(s.get('services')?.text ?? '[]') as ServiceJson[]).map(toSwarmService);
  const nodes = (parseJsonArray(s.get('nodes')?.text ?? '[]') as NodeJson[]).map(toSwarmNode);
  const replicas = new Map((s.get('replicas')?.text ?? '').trim().split('\n').map((l) => l.trim().split(/\s+/) as [string, string]).filter((x) => x.length >= 2));
  const ids = await resolveImages(host, services.filter((x) => !pinnedId(x.specImage)).map((x) => x.specImage));
  const header: string[] = [];
  const stands = new Map<string, InspectLike>();
  for (const [container, svcName] of names) {
    const service = services.find((x) => x.name === svcName);
    if (!service) continue;
    const t: SwarmTarget = { container, service, imageId: pinnedId(service.specImage) ?? ids.get(service.specImage), nodes: eligibleNodes(service, nodes).map((node) => ({ node, host: hostOfNode(node, ctx.hosts) })), tasks: replicas.get(service.name) };
    facts.targets.set(container, t);
    // a task container is planned as itself; any other name stands for the service
    if (!containers.get(container)?.Config.Labels?.[SERVICE_LABEL]) {
      stands.set(container, standIn(t));
      t.stands = true;
    }
    header.push(`swarm: service ${service.name} (${modeOf(service)}, failure action ${service.failureAction}${service.stack ? `, stack ${service.stack}` : ''}) on manager ${host.name}; may run on ${whereOf(t)}`);
  }
  // a service pinned by image ID runs only where that ID names the image: one image store on every node
  if (ctx.storeOf) {
    // each node's host read once, whatever number of services may run on it
    const hostsOf = (t: SwarmTarget) => [...new Set(t.nodes.flatMap((n) => (n.host ? [n.host] : [])))];
    const all = [...new Set([...facts.targets.values()].flatMap(hostsOf))];
    const store = new Map(await Promise.all(all.map(async (h) => [h, await ctx.storeOf!(h)] as const)));
    for (const t of facts.targets.values()) t.stores = new Map(hostsOf(t).map((h) => [h, store.get(h)]));
  }
  const warnings = await stackWarnings(host, [...facts.targets.values()]);
  return { facts, header, warnings, stands, ...(facts.targets.size ? { via: 'docker swarm' } : {}) };
}

/** A stack released in part: its other services keep their images. Said, so that nobody takes the stack for released. */
async function stackWarnings(host: SshHost, targets: SwarmTarget[]): Promise<string[]> {
  const out: string[] = [];
  for (const stack of [...new Set(targets.flatMap((t) => (t.service.stack ? [t.service.stack] : [])))]) {
    const r = await host.run({ script: `${shJoin(['docker', 'service', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '--format', '{{.Name}}'])} 2>/dev/null` });
    const mine = new Set(targets.map((t) => t.service.name));
    const left = r.stdout.split('\n').map((l) => l.trim()).filter((n) => n && !mine.has(n)).sort();
    if (left.length) out.push(`stack ${stack}: ${left.join(', ')} ${left.length > 1 ? 'are' : 'is'} not in this release (no entry under services: or containers: stands for ${left.length > 1 ? 'them' : 'it'}) and keep${left.length > 1 ? '' : 's'} ${left.length > 1 ? 'their' : 'its'} image; to release the whole stack, list each under services: (docs/swarm.md)`);
  }
  return out;
}

/** status and doctor: each service a config name stands for, with what would stop or endanger a release. */
export function swarmViews(facts: SwarmFacts): TargetView[] {
  return [...facts.targets.values()].filter((t) => t.stands).map((t) => {
    const s = t.service;
    const [running, desired] = (t.tasks ?? '').split(' ')[0]!.split('/').map(Number);
    const problems: TargetView['problems'] = [];
    if (running === undefined || desired === undefined || Number.isNaN(running) || running < desired) {
      problems.push({ message: `service ${s.name}: ${t.tasks ?? '?'} task(s) running`, fix: `look at: docker service ps --no-trunc ${s.name} (on the manager)` });
    }
    if (s.updateState && /paused|rollback/.test(s.updateState)) {
      problems.push({ message: `service ${s.name}: its last update is ${s.updateState}`, fix: `look at: docker service inspect ${s.name} (UpdateStatus); releaseflow rollback puts the previous release back` });
    }
    for (const n of t.nodes.filter((x) => !x.host)) {
      problems.push({ message: `service ${s.name} may run on node ${n.node.hostname} (${n.node.addr}), which is no configured host: a release stops before it changes anything`, fix: `add ${n.node.hostname} under hosts: with address ${n.node.addr}, or constrain the service's placement` });
    }
    return {
      container: t.container,
      mode: 'swarm',
      what: `service ${s.name}`,
      state: `${t.tasks ?? '?'} running`,
      imageRef: s.specImage,
      imageId: t.imageId,
      notes: [`swarm service ${s.name} (${modeOf(s)}${s.stack ? `, stack ${s.stack}` : ''}, update ${s.updateState ?? 'none yet'}) may run on ${whereOf(t)}`],
      problems,
      details: { service: s.name, stack: s.stack ?? null, replicas: s.replicas ?? null, global: s.global, tasks: t.tasks ?? null, updateState: s.updateState ?? null, nodes: t.nodes.map((n) => ({ hostname: n.node.hostname, addr: n.node.addr, host: n.host ?? null })) },
    };
  });
}
