// Observe both hosts and plan a release (reads only): what promote, plan, the dashboard and a rollout start from.
import { healthUrlOn } from '../core/config.ts';
import { inspectContainers, inspectImages, readDaemonContext, readImageStore } from '../adapters/inspect.ts';
import { probeDirect, resolveDirect } from '../adapters/transfer-direct.ts';
import { driftOfContainer, parseCarry } from '../core/drift.ts';
import { ExitCode, ReleaseflowError } from '../core/errors.ts';
import { asTargetSees } from '../core/image-identity.ts';
import type { ContainerInput, ImageLike, InspectLike } from '../core/plan.ts';
import { makeReleaseId, statePaths } from '../core/state.ts';
import type { Plan } from '../core/step.ts';
import { planRelease } from '../targets/plan.ts';
import { ownerOf } from '../targets/target.ts';
import { lockBusyError } from '../adapters/state/lock.ts';
import { readReleaseState } from '../adapters/state/release-state.ts';
import { type Ports, targetsOf } from './ports.ts';
import { planBootstraps, toCreate } from './bootstrap.ts';
import { migrateContainer, rebuildContainer } from './rebuild.ts';
import { assertNoInterrupted, describeInterrupted } from './release-state.ts';
import { registerSecrets } from './secrets.ts';
import { observeContext } from './observe.ts';

export interface PromoteOptions {
  from?: string;
  to?: string;
  dryRun?: boolean;
  /** Asked before changing anything; resolves true to go on. */
  confirm: (plan: Plan) => Promise<boolean>;
  /** --yes: when the hosts changed between the plan and the lock, stop (exit 1) instead of asking again. */
  assumeYes?: boolean;
  /** --carry env:NAME,…: settings taken from the source instead of the target's own (drift the release closes). */
  carry?: string[];
  /** --create: create a configured container the target lacks from the source's inspect (bootstrap; config create: does the same per container). */
  create?: boolean;
  signal?: AbortSignal;
}


/** What the source runs: its containers of the app and their images (reads only; a rollout reads it once for every host). */
export interface SourceView {
  src: Map<string, InspectLike | undefined>;
  srcImages: Map<string, ImageLike | undefined>;
}

export async function observeSource(ports: Ports, fromName: string): Promise<SourceView> {
  const from = ports.hosts.get(fromName)!;
  await from.connect();
  const src = await inspectContainers<InspectLike>(from, ports.config.containers.map((c) => c.name));
  const srcImages = await inspectImages<ImageLike>(from, [...src.values()].filter((c) => c).map((c) => c!.Image));
  return { src, srcImages };
}

/** Observe both hosts (the source unless already observed) and plan the promotion (reads only). */
export async function observeAndPlan(ports: Ports, fromName: string, toName: string, releaseId?: string, carry: readonly string[] = [], source?: SourceView, create = false): Promise<Plan> {
  const carryEnvNames = [...new Set(parseCarry([...ports.config.carry, ...carry]))];
  const { config, hosts, bus } = ports;
  const from = hosts.get(fromName)!;
  const to = hosts.get(toName)!;
  await to.connect();
  const names = config.containers.map((c) => c.name);
  const [{ src, srcImages }, dst, daemon] = await Promise.all([source ?? observeSource(ports, fromName), inspectContainers<InspectLike>(to, names), readDaemonContext(to)]);
  // each release target reads what it needs of the target host; a container goes to the target that claims it
  const targets = targetsOf(ports);
  const ctx = { ...observeContext(config), storeOf: (name: string) => (hosts.get(name) ? readImageStore(hosts.get(name)!) : Promise.resolve(undefined)) };
  const observed = await Promise.all(targets.map(async (target) => ({ target, observed: await target.observe(to, dst, ctx) })));
  const facts = new Map(observed.map((o) => [o.target.name, o.observed.facts]));
  // a name may be what a target stands for on the host instead of a container (a swarm service)
  const stood = new Set<string>();
  for (const o of observed) {
    for (const [n, c] of o.observed.stands ?? []) {
      dst.set(n, c);
      stood.add(n);
    }
  }
  const srcIds = [...src.values()].filter((c) => c).map((c) => c!.Image);
  const dstIds = [...dst.values()].filter((c) => c).map((c) => c!.Image);
  const dstImages = await inspectImages<ImageLike>(to, [...dstIds, ...srcIds]);
  // secrets of both hosts' containers are scrubbed from every event from here on
  registerSecrets(bus, config, [...src.values(), ...dst.values()], [fromName, toName]);
  // --direct: fill the route from the source's entry and check our known_hosts has its key (reads only)
  const direct = config.transfer.direct ? await resolveDirect(from, config.transfer.directSsh) : undefined;

  const id = releaseId ?? makeReleaseId(ports.clock());
  // bootstrap: containers the target lacks, created from the source's inspect when allowed (reads only here)
  const creating = await planBootstraps(ports, fromName, toName, toCreate(config.containers, src, dst, create), src, srcImages, id, daemon);
  // a service named in the config (services:, or service:) must be one on the target: never taken for a container of that name
  for (const cc of config.containers) {
    if (cc.service && ownerOf(targets, facts, cc.name).name !== 'swarm') {
      throw new ReleaseflowError(`${cc.service} is not a swarm service on ${toName} (the config names it under services:, or as ${cc.name}'s service:)`, {
        host: toName,
        fix: `check on ${toName}: docker service ls (is it a swarm manager, and does it run ${cc.service}?); set to: to the manager, or list a plain container under containers: instead`,
      }, ExitCode.usage);
    }
  }
  const inputs: ContainerInput[] = config.containers.map((cc) => {
    const t = dst.get(cc.name);
    // the target may hold TEST's image under another ID (another image store): plan with that ID
    const s = asTargetSees(src.get(cc.name), srcImages, dstImages);
    return {
      name: cc.name,
      healthUrl: healthUrlOn(config, cc.name, toName),
      healthTimeoutMs: cc.healthTimeoutMs,
      source: s,
      sourceImage: s ? (srcImages.get(s.Image) ?? dstImages.get(s.Image)) : undefined,
      target: t,
      targetImage: t ? dstImages.get(t.Image) : undefined,
      targetMode: ownerOf(targets, facts, cc.name).name,
      targetHasSourceImage: s ? dstImages.get(s.Image) !== undefined : false,
      ...(creating.has(cc.name) ? { create: creating.get(cc.name)! } : {}),
    };
  });
  const migrate = config.hooks.migrate;
  const plan = planRelease({
    app: config.app,
    releaseId: id,
    stateDir: config.hosts[toName]!.stateDir,
    from: { name: fromName, address: config.hosts[fromName]!.address },
    to: { name: toName, address: config.hosts[toName]!.address },
    containers: inputs,
    intervalMs: config.health.intervalMs,
    direct: direct?.route,
    rebuild: (c, image, envFile) => rebuildContainer(c, image, envFile, config.secrets, daemon, carryEnvNames),
    ...(migrate ? { migrate: { container: migrate.container ?? config.containers[0]!.name, command: migrate.command, build: (c, image, envFile) => migrateContainer(c, image, envFile, migrate.command, id, daemon) } } : {}),
  }, observed);
  // what TEST has that this release does not bring (it rebuilds from PROD's own settings): said, not changed
  // a stand-in (a swarm service) is no container: there is nothing of TEST's container to compare it with
  plan.drift = inputs.filter((c) => !stood.has(c.name)).flatMap((c) => driftOfContainer(c, config.secrets)).map((d) => (d.kind === 'env' && d.name && carryEnvNames.includes(d.name) ? { ...d, carried: true, detail: `${d.detail}; carried: this release sets ${fromName}'s` } : d));
  if (carryEnvNames.length) {
    plan.carried = carryEnvNames.map((n) => `env:${n}`);
    plan.header.push(`carry: env ${carryEnvNames.join(', ')} from ${fromName} (run-mode containers; rollback restores ${toName}'s)`);
    const other = inputs.filter((c) => c.targetMode !== 'run').map((c) => c.name);
    if (other.length) plan.warnings.push(`--carry applies to containers released by docker run; ${other.join(', ')} take their env from the compose project on ${toName}`);
  }
  if (plan.drift.length) plan.header.push(`drift: ${plan.drift.length} setting(s) differ between ${fromName} and ${toName}; this release keeps ${toName}'s unless carried:`, ...plan.drift.map((d) => `  ${d.container}: ${d.detail}`));
  // before anything changes: can the target really reach the source with its own key?
  if (direct && plan.steps.some((s) => s.kind === 'transfer')) await probeDirect(from, to, direct);
  return plan;
}



/** Stop before planning when the target has an interrupted release: only `recover` may touch it now. */
export async function refuseIfInterrupted(ports: Ports, toName: string, dryRun: boolean): Promise<void> {
  const to = ports.hosts.get(toName)!;
  await to.connect();
  if (!dryRun) {
    const st = await assertNoInterrupted(to, ports.config);
    // another run holds the lock: say so now, not after observing containers it is swapping
    if (st.lock.held) throw lockBusyError(to, statePaths(to.config.stateDir, ports.config.app).lock, st.lock.info);
    return;
  }
  const st = await readReleaseState(to, ports.config);
  if (st.interrupted.length) ports.bus.warn(`${st.interrupted.map(describeInterrupted).join('; ')}; run: releaseflow recover before the next release`);
}

/** The target hosts of a release: --to (one, or a comma-separated list), else to: of the config. */
export function targetHosts(ports: Ports, to?: string): string[] {
  const hosts = to ? to.split(',').map((h) => h.trim()).filter(Boolean) : ports.config.fleet;
  for (const h of hosts) {
    if (!ports.hosts.has(h)) throw new ReleaseflowError(`unknown target host '${h}'`, { fix: `use hosts listed under hosts: in ${ports.config.file}` }, ExitCode.usage);
  }
  return hosts;
}
