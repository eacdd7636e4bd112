// promote: observe → plan (pure) → confirm → lock → execute → health → record; rollback on failure.
import { inspectContainers, inspectImages, readDaemonContext } from '../adapters/inspect.ts';
import { probeDirect, resolveDirect } from '../adapters/transfer-direct.ts';
import { ExitCode, ReleaseflowError, renderError } from '../core/errors.ts';
import { type DriftItem, driftOf } from '../core/drift.ts';
import { type IdentityInspect, identityOf, sameImage } from '../core/image-identity.ts';
import { parseImageInspect, parseInspect } from '../core/inspect.ts';
import { toRunSpec } from '../core/runspec.ts';
import type { ContainerInput, ImageLike, InspectLike } from '../core/plan.ts';
import { renderPlan } from '../core/render-plan.ts';
import { makeReleaseId, statePaths } from '../core/state.ts';
import type { Plan } from '../core/step.ts';

import { acquireLock, lockBusyError, releaseLock } from '../adapters/state/lock.ts';
import { rebuildContainer } from './rebuild.ts';
import type { ReleaseOutcome } from './execute.ts';
import { finishRelease } from './finish.ts';
import { readReleaseState } from '../adapters/state/release-state.ts';
import { assertNoInterrupted, describeInterrupted } from './release-state.ts';
import { registerSecrets } from './secrets.ts';
import { notifyRun } from './notify.ts';
import { type Ports, targetsOf } from './ports.ts';
import { planRelease } from '../targets/plan.ts';
import { ownerOf } from '../targets/target.ts';

export type { Ports } from './ports.ts';

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
  signal?: AbortSignal;
}


/** Observe both hosts and plan the promotion (reads only). */
export async function observeAndPlan(ports: Ports, fromName: string, toName: string, releaseId?: string, carry: readonly string[] = []): Promise<Plan> {
  const carryEnvNames = [...new Set(parseCarry([...ports.config.carry, ...carry]))];
  const { config, hosts, bus } = ports;
  const from = hosts.get(fromName)!;
  const to = hosts.get(toName)!;
  await Promise.all([from.connect(), to.connect()]);
  const names = config.containers.map((c) => c.name);
  const [src, dst, daemon] = await Promise.all([inspectContainers<InspectLike>(from, names), inspectContainers<InspectLike>(to, names), readDaemonContext(to)]);
  const srcIds = [...src.values()].filter((c) => c).map((c) => c!.Image);
  const dstIds = [...dst.values()].filter((c) => c).map((c) => c!.Image);
  const [srcImages, dstImages] = await Promise.all([inspectImages<ImageLike>(from, srcIds), inspectImages<ImageLike>(to, [...dstIds, ...srcIds])]);
  // secrets of both hosts' containers are scrubbed from every event from here on
  registerSecrets(bus, config, [...src.values(), ...dst.values()], [fromName, toName]);
  // each release target reads what it needs of the target host; a container goes to the target that claims it
  const targets = targetsOf(ports);
  const observed = await Promise.all(targets.map(async (target) => ({ target, observed: await target.observe(to, dst) })));
  const facts = new Map(observed.map((o) => [o.target.name, o.observed.facts]));
  // --direct: fill the route from the source's entry and check our known_hosts has its key (reads only)
  const direct = config.transfer.direct ? await resolveDirect(from, config.transfer.directSsh) : undefined;

  const inputs: ContainerInput[] = config.containers.map((cc) => {
    const t = dst.get(cc.name);
    // the target may hold TEST's image under another ID (another image store): plan with that ID
    const s = asTargetSees(src.get(cc.name), srcImages, dstImages);
    return {
      name: cc.name,
      healthUrl: cc.healthUrl,
      healthTimeoutMs: cc.healthTimeoutMs,
      source: s,
      sourceImage: s ? (srcImages.get(s.Image) ?? dstImages.get(s.Image)) : undefined,
      target: t,
      targetImage: t ? dstImages.get(t.Image) : undefined,
      targetMode: ownerOf(targets, facts, cc.name).name,
      targetHasSourceImage: s ? dstImages.get(s.Image) !== undefined : false,
    };
  });
  const plan = planRelease({
    app: config.app,
    releaseId: releaseId ?? makeReleaseId(ports.clock()),
    stateDir: config.hosts[toName]!.stateDir,
    from: { name: fromName, address: config.hosts[fromName]!.address },
    to: { name: toName, address: config.hosts[toName]!.address },
    containers: inputs,
    intervalMs: config.health.intervalMs,
    direct: direct?.route,
    rebuild: (c, image, envFile) => rebuildContainer(c, image, envFile, config.secrets, daemon, carryEnvNames),
  }, observed);
  // what TEST has that this release does not bring (it rebuilds from PROD's own settings): said, not changed
  plan.drift = inputs.flatMap((c) => driftOfContainer(c, config.secrets)).map((d) => (d.kind === 'env' && d.name && carryEnvNames.includes(d.name) ? { ...d, carried: true, detail: `${d.detail}; carried: this release sets ${fromName}'s` } : d));
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

/**
 * The source container as the target would name its image: unchanged when the target has the
 * same ID or not the image at all (the transfer binds the ID later, execute.ts); otherwise with the
 * target's ID for the same image (same layers, creation time and configuration).
 */
export function asTargetSees(s: InspectLike | undefined, srcImages: Map<string, ImageLike | undefined>, dstImages: Map<string, ImageLike | undefined>): InspectLike | undefined {
  const img = s ? srcImages.get(s.Image) : undefined;
  if (!s || !img || dstImages.get(s.Image)) return s;
  const want = identityOf(img as IdentityInspect);
  const same = [...dstImages.values()].find((d) => d && sameImage(want, identityOf(d as IdentityInspect)));
  return same ? { ...s, Image: same.Id } : s;
}

/** What a plan was made from on both hosts: the containers, their images, the source's images. */
export function planBasis(p: Plan): string[] {
  return p.containers.map((c) => `${c.name}: ${p.to.name} container ${(c.toContainerId ?? '').slice(0, 12) || '-'} on ${c.toRef} (${c.toId.replace(/^sha256:/, '').slice(0, 12)}), ${p.from?.name ?? 'source'} on ${c.fromRef} (${(c.fromId ?? '').replace(/^sha256:/, '').slice(0, 12)})`);
}

/**
 * Observe again under the lock; the same plan when nothing changed, else say what changed and
 * either ask again (a new plan) or, under --yes, return exit 1 (the lock is released by the caller).
 */
async function replanIfChanged(ports: Ports, plan: Plan, opts: PromoteOptions, fromName: string, toName: string): Promise<Plan | number> {
  const again = await observeAndPlan(ports, fromName, toName, plan.releaseId, opts.carry);
  const before = planBasis(plan);
  const now = planBasis(again);
  const changed = now.filter((l) => !before.includes(l));
  if (changed.length === 0 && now.length === before.length) return plan;
  ports.bus.warn(`the hosts changed after the plan was made; now: ${changed.join('; ') || 'other containers'}${opts.assumeYes ? '' : '; here is the new plan'}`);
  // nothing left to release is not confirmed either: the new plan would change nothing
  if (opts.assumeYes || again.upToDate) return ExitCode.failed;
  return (await opts.confirm(again)) ? again : ExitCode.usage;
}

/** `env:NAME` entries → names; anything else is a usage error naming what is supported. */
export function parseCarry(carry: readonly string[]): string[] {
  return carry.flatMap((c) => c.split(',')).map((c) => c.trim()).filter(Boolean).map((c) => {
    const m = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(c);
    if (!m) throw new ReleaseflowError(`--carry ${JSON.stringify(c)}: only env:NAME can be carried today`, { fix: 'write --carry env:NAME (several: env:A,env:B)' }, ExitCode.usage);
    return m[1]!;
  });
}

/** The drift of one container, when both hosts have it (pure over observed facts). */
function driftOfContainer(c: ContainerInput, secrets: readonly string[]): DriftItem[] {
  if (!c.source || !c.sourceImage || !c.target || !c.targetImage) return [];
  const spec = (i: InspectLike, img: ImageLike) => toRunSpec(parseInspect(i), parseImageInspect(img)).spec;
  return driftOf(c.name, spec(c.source, c.sourceImage), spec(c.target, c.targetImage), secrets);
}

/** Stop before planning when the target has an interrupted release: only `recover` may touch it now. */
async function refuseIfInterrupted(ports: Ports, toName: string, dryRun: boolean): Promise<void> {
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

/** The whole release, then its notifications (notify:, never changing the result). Returns the exit code (0, 1, 2 or 3). */
export async function promote(ports: Ports, opts: PromoteOptions): Promise<{ code: number; plan?: Plan }> {
  const since = ports.bus.history.length;
  const r = await promoteOnce(ports, opts);
  if (!opts.dryRun) await notifyRun(ports, 'promote', since, r.plan);
  return r;
}

async function promoteOnce(ports: Ports, opts: PromoteOptions): Promise<{ code: number; plan?: Plan }> {
  const { config, bus } = ports;
  const fromName = opts.from ?? config.from;
  const toName = opts.to ?? config.to;
  const started = Date.now();
  // host key checking switched off (insecureIgnoreHostKeys): said loudly on every run
  const insecure = [...new Set([fromName, toName])].flatMap((h) => ports.hosts.get(h)?.warnings?.() ?? []);
  let plan: Plan;
  try {
    // a release interrupted earlier (killed, connection lost) must be recovered before the next one
    await refuseIfInterrupted(ports, toName, Boolean(opts.dryRun));
    plan = await observeAndPlan(ports, fromName, toName, undefined, opts.carry);
  } catch (e) {
    bus.emit({ type: 'release-started', kind: 'promote', from: fromName, to: toName, header: [`hosts: ${fromName} -> ${toName}`] });
    for (const w of insecure) bus.warn(w);
    const code = e instanceof ReleaseflowError ? e.exitCode : ExitCode.internal;
    bus.emit({ type: 'release-finished', result: 'failed', exitCode: code, durationMs: Date.now() - started, message: renderError(e) });
    return { code };
  }
  bus.emit({ type: 'release-started', kind: 'promote', from: fromName, to: toName, header: [...plan.header, ...plan.warnings.map((w) => `warning: ${w}`)] });
  for (const w of insecure) bus.warn(w);
  if (plan.upToDate) {
    bus.emit({ type: 'release-finished', result: 'up-to-date', exitCode: ExitCode.ok, durationMs: Date.now() - started, message: `already up to date: ${toName} runs the same images as ${fromName}; nothing changed` });
    return { code: ExitCode.ok, plan };
  }
  if (opts.dryRun) {
    bus.emit({ type: 'release-finished', result: 'planned', exitCode: ExitCode.ok, durationMs: Date.now() - started, message: 'dry run: nothing changed' });
    return { code: ExitCode.ok, plan };
  }
  if (!(await opts.confirm(plan))) {
    bus.emit({ type: 'release-finished', result: 'failed', exitCode: ExitCode.usage, durationMs: Date.now() - started, message: 'not confirmed: nothing changed' });
    return { code: ExitCode.usage, plan };
  }
  bus.emit({ type: 'plan', text: renderPlan(plan, { header: false }) });
  const to = ports.hosts.get(toName)!;
  try {
    await acquireLock(to, config, plan.releaseId, 'promote');
  } catch (e) {
    // a held lock is 1; a state folder the SSH user cannot write is a set-up problem, 2
    const code = e instanceof ReleaseflowError ? e.exitCode : ExitCode.failed;
    bus.emit({ type: 'release-finished', result: 'failed', exitCode: code, durationMs: Date.now() - started, message: renderError(e) });
    return { code, plan };
  }
  let outcome: ReleaseOutcome | undefined;
  try {
    // the hosts may have changed while the operator read the plan: never apply a stale plan
    const fresh = await replanIfChanged(ports, plan, opts, fromName, toName);
    if (typeof fresh === 'number') {
      bus.emit({ type: 'release-finished', result: 'failed', exitCode: fresh, durationMs: Date.now() - started, message: fresh === ExitCode.usage ? 'not confirmed: nothing changed' : 'the hosts changed after the plan was made: nothing changed; run releaseflow promote again to see the new plan' });
      return { code: fresh, plan };
    }
    plan = fresh;
    outcome = await finishRelease(ports, plan, started, opts.signal);
    return { code: outcome.code, plan };
  } finally {
    await releaseLock(to, config, plan.releaseId).catch(() => bus.warn(`could not remove the lock on ${toName}; run: releaseflow lock release`));
  }
}
