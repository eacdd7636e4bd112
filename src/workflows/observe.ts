// Observe a host, read-only: reachability, docker, the app's containers and their images, disk, networks.
import { randomBytes } from 'node:crypto';
import type { SshHost } from '../adapters/ssh.ts';
import { HostUnreachableError, ReleaseflowError } from '../core/errors.ts';
import { buildFileStatusScript } from '../core/file-scripts.ts';
import { composeFilePaths } from '../core/mode.ts';
import { buildObserveScript } from '../core/observe-script.ts';
import { type ContainerObservation, type HostFacts, parseObserveOutput, toContainer } from '../core/host-facts.ts';
import { tail } from '../core/noise.ts';
import type { Config } from '../core/config.ts';
import type { InspectLike } from '../core/plan.ts';
import { TARGETS } from '../targets/index.ts';
import type { AnyTarget, ObserveContext } from '../targets/target.ts';

export type { ContainerObservation, DockerAccess, DockerJson, HealthStatus, HostFacts, ImageObservation } from '../core/host-facts.ts';
export { parseObserveOutput, shortId } from '../core/host-facts.ts';

/** Check which compose files the labels name are readable by the SSH user (a second round trip, compose only). */
async function observeComposeFiles(host: SshHost, containers: ContainerObservation[]): Promise<void> {
  const withFiles = containers.filter((c) => c.mode?.mode === 'compose');
  const paths = [...new Set(withFiles.flatMap((c) => (c.mode?.mode === 'compose' ? composeFilePaths(c.mode) : [])))];
  if (paths.length === 0) return;
  const r = await host.run({ script: buildFileStatusScript(paths) });
  const lines = r.stdout.trim().split('\n').slice(-paths.length);
  const status = new Map(paths.map((p, i) => [p, (lines[i] ?? 'missing') as 'readable' | 'unreadable' | 'missing']));
  for (const c of withFiles) if (c.mode?.mode === 'compose') c.composeFiles = composeFilePaths(c.mode).map((path) => ({ path, status: status.get(path)! }));
}

/**
 * Observe one host, read-only, in one SSH round trip (plus one when compose-labelled containers
 * exist, to check their compose files). Never throws for operator-side problems: an unreachable
 * host, unusable docker or missing containers come back as facts. Throws only on bugs.
 */
export async function observeHost(host: SshHost, containers: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<HostFacts> {
  const base = { host: host.name, address: host.config.address };
  // facts of a host that could not be observed: the error becomes the problem
  const unobserved = (e: ReleaseflowError, reachable: boolean): HostFacts => ({
    ...base,
    reachable,
    problem: { message: e.message, fix: e.detail.fix, output: e.detail.output },
    docker: { access: 'unavailable', needsSudo: false },
    containers: containers.map((n) => toContainer(n, undefined, [])),
    images: [],
    networks: [],
    allContainers: [],
  });
  const t0 = Date.now();
  try {
    await host.connect(opts.signal);
  } catch (e) {
    if (e instanceof ReleaseflowError) return unobserved(e, false);
    throw e;
  }
  const connectMs = Date.now() - t0;
  const marker = `@@rf-${randomBytes(6).toString('hex')}`;
  let facts: HostFacts;
  try {
    const r = await host.run({ script: buildObserveScript(containers, host.config.sudo, marker) }, { signal: opts.signal });
    facts = { ...base, reachable: true, connectMs, ...parseObserveOutput(r.stdout, marker, containers) };
  } catch (e) {
    if (!(e instanceof ReleaseflowError)) throw e;
    return { ...unobserved(e, !(e instanceof HostUnreachableError)), connectMs };
  }
  if (facts.docker.access === 'unavailable' && !facts.problem) {
    facts.problem = {
      message: `docker is not usable on ${host.name}: ${tail(facts.docker.error ?? '', 1).trim() || 'no answer'}`,
      fix: host.config.sudo
        ? `check that the SSH user may run 'sudo -n docker' without a password and that dockerd runs on ${host.name}`
        : `check that dockerd runs on ${host.name} and the SSH user is in the docker group (or set sudo: true for this host)`,
    };
  }
  await observeComposeFiles(host, facts.containers).catch((e) => {
    if (!(e instanceof ReleaseflowError)) throw e;
    facts.problem ??= { message: `could not check the compose files on ${host.name}: ${e.message}`, fix: e.detail.fix };
  });
  return facts;
}

/** A host's facts for status, doctor and the dashboard: its app containers, and what release targets stand for there instead (a swarm service). */
export async function observeAppHost(host: SshHost, config: Config): Promise<HostFacts> {
  const f = await observeHost(
    host,
    config.containers.map((c) => c.name),
  );
  await observeViews(host, f, config);
  return f;
}

/** What observing a target host may know beyond it: every configured host's address, each container's `service:`. */
export function observeContext(config: Config): ObserveContext {
  return { hosts: Object.entries(config.hosts).map(([name, h]) => ({ name, address: h.address })), services: new Map(config.containers.flatMap((c) => (c.service ? [[c.name, c.service] as const] : []))) };
}

/**
 * What release targets stand for on a target host instead of missing containers (a swarm service),
 * into `facts.views`: status and doctor show them as what they are, not as missing containers.
 * Reads only; a failure to read becomes the host's problem.
 */
export async function observeViews(host: SshHost, facts: HostFacts, config: Config, targets: readonly AnyTarget[] = TARGETS): Promise<void> {
  if (!facts.reachable || facts.docker.access === 'unavailable' || host.name === config.from) return;
  if (facts.containers.every((c) => c.present)) return;
  const containers = new Map(facts.containers.map((c) => [c.name, c.inspect as InspectLike | undefined]));
  const ctx = observeContext(config);
  for (const t of targets) {
    if (!t.views) continue;
    try {
      const o = await t.observe(host, containers, ctx);
      const views = t.views(o.facts);
      if (views.length) facts.views = [...(facts.views ?? []), ...views];
    } catch (e) {
      if (!(e instanceof ReleaseflowError)) throw e;
      facts.problem ??= { message: `could not read the ${t.name} target on ${host.name}: ${e.message}`, fix: e.detail.fix };
    }
  }
}

/** The machine-readable status of one host (the `--json` output lists these under `hosts`). */
export function statusOf(f: HostFacts) {
  return {
    host: f.host,
    address: f.address,
    reachable: f.reachable,
    problem: f.problem,
    docker: { version: f.docker.version, apiVersion: f.docker.apiVersion, access: f.docker.access, needsSudo: f.docker.needsSudo },
    containers: f.containers.map((c) => ({
      name: c.name,
      present: c.present,
      mode: c.mode ?? null,
      state: c.state ?? 'missing',
      health: c.health,
      imageRef: c.imageRef,
      imageId: c.imageId,
      created: c.created,
      imageCreated: c.image?.created,
    })),
    ...(f.views?.length ? { views: f.views } : {}),
  };
}
