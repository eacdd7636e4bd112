// rollout: one release over several target hosts (a fleet). Every host is planned and locked first,
// the image reaches every host before any swap, then a canary and batches each run the one-host
// release (finishRelease); a failure stops the rollout and rolls back every host already released,
// newest first. Targets are per host and unchanged: a fleet is a rollout, not a target.
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, ReleaseflowError, renderError } from '../core/errors.ts';
import { renderPlan } from '../core/render-plan.ts';
import { buildWriteMarkScript, type FleetMark, fleetDir } from '../core/fleet.ts';
import { makeReleaseId } from '../core/state.ts';
import { basisChanged, type Plan } from '../core/step.ts';
import { EventBus } from '../events/bus.ts';
import type { ReleaseEventBody } from '../events/types.ts';
import { executePlan } from './execute.ts';
import { finishRelease } from './finish.ts';
import { acquireLock, releaseLock } from '../adapters/state/lock.ts';
import type { Ports } from './ports.ts';
import { observeAndPlan, observeSource, type PromoteOptions, refuseIfInterrupted } from './plan-release.ts';
import { abandonPassOn, chainTransfers, removePassOn } from './relay.ts';
import { rollbackHost } from './rollback.ts';

/** The hosts of each batch: the canary hosts alone first, then batches of `batch` hosts (or a share of the fleet). */
export function batchesOf(hosts: readonly string[], rollout: { canary: number; batch: number | string }): string[][] {
  const out: string[][] = [];
  const canary = Math.min(rollout.canary, hosts.length);
  if (canary > 0) out.push(hosts.slice(0, canary));
  const size = typeof rollout.batch === 'number' ? rollout.batch : Math.max(1, Math.ceil((hosts.length * Number.parseInt(rollout.batch, 10)) / 100));
  for (let i = canary; i < hosts.length; i += size) out.push(hosts.slice(i, i + size));
  return out;
}

/**
 * The bus one host's release reports on: its events go to the fleet's bus, but its end is one line of
 * the rollout (the fleet has one result), kept for the rollout to judge.
 */
class HostBus extends EventBus {
  finished?: Extract<ReleaseEventBody, { type: 'release-finished' }>;
  constructor(
    private readonly fleet: EventBus,
    private readonly host: string,
  ) {
    super();
  }
  override emit(body: ReleaseEventBody): void {
    if (body.type === 'release-finished') {
      this.finished = body;
      this.fleet.emit({ type: body.exitCode === 0 ? 'info' : 'warning', message: `${this.host}: ${body.result} (exit ${body.exitCode}): ${body.message}` });
    } else if (body.type === 'release-started') this.fleet.info(`${this.host}: ${body.kind} ${body.header[0] ?? ''}`.trim());
    else this.fleet.emit(body);
  }
}

/** One host's ports: the fleet's hosts and config, a bus that reports to the fleet's. */
const hostPorts = (ports: Ports, host: string): Ports & { bus: HostBus } => ({ ...ports, bus: new HostBus(ports.bus, host) });

type RolloutResult = Extract<ReleaseEventBody, { type: 'release-finished' }>['result'];

/** The rollout's one result line. */
function finish(bus: EventBus, started: number, result: RolloutResult, code: number, message: string): { code: number } {
  bus.emit({ type: 'release-finished', result, exitCode: code, durationMs: Date.now() - started, message });
  return { code };
}

export interface RolloutOptions extends PromoteOptions {
  hosts: string[];
}

/** Plan every host with one release id, reads only: the source read once, the hosts at once. */
async function planAll(ports: Ports, from: string, hosts: readonly string[], releaseId: string, opts: RolloutOptions): Promise<Map<string, Plan>> {
  await Promise.all(hosts.map((h) => refuseIfInterrupted(ports, h, Boolean(opts.dryRun))));
  const source = await observeSource(ports, from);
  const plans = await Promise.all(hosts.map(async (h) => [h, await observeAndPlan(ports, from, h, releaseId, opts.carry, source, opts.create)] as const));
  return new Map(plans);
}

/** The fleet's plan as the dashboard shows it (reads only): every host's steps, `to` naming them all. */
export async function planFleet(ports: Ports, from: string, hosts: readonly string[]): Promise<Plan> {
  const releaseId = makeReleaseId(ports.clock());
  const plans = await planAll(ports, from, hosts, releaseId, { hosts: [...hosts], from, dryRun: true, confirm: async () => false });
  const batches = batchesOf(hosts, ports.config.rollout);
  const header = [`rollout of app ${ports.config.app} from ${from} to ${hosts.length} hosts: ${batches.map((b) => b.join(', ')).join(', then ')}`];
  const to = { name: hosts.join(', '), address: [...plans.values()].map((p) => p.to.address).join(', ') };
  return { ...fleetPlan(plans, header), to };
}

/** The fleet's plan for the prompt and `plan`: each host's steps under its name. */
export function fleetPlan(plans: Map<string, Plan>, header: string[]): Plan {
  const first = [...plans.values()][0]!;
  return {
    ...first,
    header: [...header, ...[...plans.values()].flatMap((p) => [`── ${p.to.name} (${p.to.address})`, ...p.header.slice(2)])],
    steps: [...plans.values()].flatMap((p) => p.steps.map((s) => ({ ...s, name: `${p.to.name}: ${s.name}` }))),
    containers: [...plans.values()].flatMap((p) => p.containers),
    warnings: [...plans.values()].flatMap((p) => p.warnings.map((w) => `${p.to.name}: ${w}`)),
    upToDate: [...plans.values()].every((p) => p.upToDate),
  };
}

/** Release the source's images to every host of the fleet. Returns the exit code (0, 1, 2 or 3). */
export async function rollout(ports: Ports, opts: RolloutOptions): Promise<{ code: number; plan?: Plan }> {
  const { config, bus } = ports;
  const from = opts.from ?? config.from;
  const started = Date.now();
  const releaseId = makeReleaseId(ports.clock());
  const batches = batchesOf(opts.hosts, config.rollout);
  const header = [`rollout ${releaseId} of app ${config.app} from ${from} to ${opts.hosts.length} hosts: ${batches.map((b, i) => `${i === 0 && config.rollout.canary > 0 ? 'canary' : `batch ${i + (config.rollout.canary > 0 ? 0 : 1)}`} ${b.join(', ')}`).join('; ')}`];
  const end = (result: RolloutResult, code: number, message: string, plan?: Plan) => ({ ...finish(bus, started, result, code, message), plan });
  let plans: Map<string, Plan>;
  try {
    plans = await planAll(ports, from, opts.hosts, releaseId, opts);
  } catch (e) {
    bus.emit({ type: 'release-started', kind: 'promote', from, to: opts.hosts.join(','), header });
    return end('failed', e instanceof ReleaseflowError ? e.exitCode : ExitCode.internal, renderError(e));
  }
  const plan = fleetPlan(plans, header);
  bus.emit({ type: 'release-started', kind: 'promote', from, to: opts.hosts.join(','), header: [...plan.header, ...plan.warnings.map((w) => `warning: ${w}`)] });
  if (plan.upToDate) return end('up-to-date', ExitCode.ok, `already up to date: every host runs the same images as ${from}; nothing changed`, plan);
  if (opts.dryRun) return end('planned', ExitCode.ok, 'dry run: nothing changed', plan);
  if (!(await opts.confirm(plan))) return end('failed', ExitCode.usage, 'not confirmed: nothing changed', plan);
  bus.emit({ type: 'plan', text: renderPlan(plan, { header: false }) });
  const locked: string[] = [];
  try {
    // every lock first: a host held by another run stops the rollout before anything moves
    for (const h of opts.hosts) {
      await acquireLock(ports.hosts.get(h)!, config, releaseId, 'promote', ports.clock);
      locked.push(h);
    }
    // the rollout's mark on every host: a rollout killed halfway is finished by `recover` (fleet-recover.ts)
    const mark: FleetMark = { releaseId, from, hosts: opts.hosts, state: 'started', at: new Date(started).toISOString() };
    await markFleet(ports, mark);
    const r = await runRollout(ports, from, plans, batches, opts, started);
    // an incomplete rollback stays marked: recover finishes it
    if (r.code !== ExitCode.rollbackIncomplete) await markFleet(ports, { ...mark, state: 'done' }).catch((e) => bus.warn(`could not mark rollout ${releaseId} done: ${e instanceof Error ? e.message : e}`));
    return { ...r, plan };
  } catch (e) {
    return end('failed', e instanceof ReleaseflowError ? e.exitCode : ExitCode.failed, `${renderError(e)}\nnothing was changed on the hosts`, plan);
  } finally {
    for (const h of locked) await releaseLock(ports.hosts.get(h)!, config, releaseId).catch(() => bus.warn(`could not remove the lock on ${h}; run: releaseflow lock release --to ${h}`));
  }
}

/** Move the images everywhere, then release batch by batch; on a failure roll back what was released. */
async function runRollout(ports: Ports, from: string, plans: Map<string, Plan>, batches: string[][], opts: RolloutOptions, started: number): Promise<{ code: number }> {
  const { bus, config } = ports;
  const end = (result: RolloutResult, code: number, message: string) => finish(bus, started, result, code, message);
  // 1. the image on every host before any swap, to all hosts at once: a transfer failure changes nothing anywhere
  const moving = [...plans].map(([h, p]) => ({ h, p, steps: p.steps.filter((s) => s.act === 'transfer') })).filter((m) => m.steps.length > 0);
  if (moving.length) bus.info(`moving the images to ${moving.map((m) => m.h).join(', ')} at once, before any host changes`);
  // --relay: hosts that lack the same layers share one read of the source (with --direct: take them from each other, every hop checked first)
  let chain: Awaited<ReturnType<typeof chainTransfers>> | undefined;
  try {
    chain = config.transfer.relay && moving.length > 1 ? await chainTransfers(ports, moving) : undefined;
  } catch (e) {
    return end('failed', e instanceof ReleaseflowError ? e.exitCode : ExitCode.failed, `${renderError(e)}\nno host was changed`);
  }
  const moved = await Promise.all(
    moving.map(async (m) => {
      const r = await executePlan({ ...m.p, steps: m.steps }, { hosts: ports.hosts, bus, signal: opts.signal });
      // a host stopped by a failure never passes on its later images: the hosts waiting for them go on at once
      if (chain) await abandonPassOn(ports.hosts, m.steps);
      return { h: m.h, r };
    }),
  );
  if (chain) await removePassOn(ports, chain.token, chain.relaying);
  const bad = moved.filter((m) => !m.r.ok);
  if (bad.length) return end('failed', ExitCode.failed, `${bad.map((m) => `the image transfer to ${m.h} failed: ${renderError(m.r.error)}`).join('\n')}\nno host was changed (images already loaded stay unused)`);
  // 2. plan again: the images are there now (under each host's own IDs); a host changed meanwhile stops here
  const source = await observeSource(ports, from);
  for (const [h, p] of plans) {
    const again = await observeAndPlan(ports, from, h, p.releaseId, opts.carry, source, opts.create);
    const changed = basisChanged(p, again);
    if (changed.length) return end('failed', ExitCode.failed, `${h} changed after the plan was made (${changed.join('; ')}); no host was changed: run releaseflow promote again`);
    plans.set(h, again);
  }
  // 3. canary, then batches; each host is one release with its own journal and crash guard
  const released: string[] = [];
  for (const [i, batch] of batches.entries()) {
    if (i > 0 && config.rollout.pauseMs > 0) {
      bus.info(`pause ${Math.round(config.rollout.pauseMs / 1000)}s before the next batch (${batch.join(', ')})`);
      await sleep(config.rollout.pauseMs, undefined, { signal: opts.signal }).catch(() => undefined);
    }
    for (const h of batch) {
      const p = plans.get(h)!;
      if (p.upToDate) {
        bus.info(`${h}: already up to date`);
        continue;
      }
      const hp = hostPorts(ports, h);
      bus.info(`${h}: releasing (${i === 0 && config.rollout.canary > 0 ? 'canary' : `batch ${i}`})`);
      const outcome = await finishRelease(hp, p, Date.now(), opts.signal);
      if (outcome.code === ExitCode.ok) {
        released.push(h);
        continue;
      }
      const why = (hp.bus.finished?.message.split('\n')[0] ?? outcome.result).replace(/\.$/, '');
      return await undoReleased(ports, released, `${h} failed (${outcome.result}): ${why}`, outcome.code === ExitCode.rollbackIncomplete, started);
    }
  }
  return end('released', ExitCode.ok, `released to ${released.length} host(s): ${released.join(', ')}`);
}

/** Roll back every host already released, newest first, each checked healthy by its own rollback. */
async function undoReleased(ports: Ports, released: string[], cause: string, alreadyIncomplete: boolean, started: number): Promise<{ code: number }> {
  const { bus } = ports;
  bus.warn(`rollout stopped: ${cause}; rolling back ${released.length ? released.slice().reverse().join(', ') : 'no other host'}`);
  const failed: string[] = [];
  for (const h of released.slice().reverse()) {
    // the rollout still holds this host's lock: its rollback runs under it
    const code = await rollbackHost(hostPorts(ports, h), { to: h, confirm: async () => true, heldLock: true });
    if (code !== ExitCode.ok) failed.push(h);
  }
  const incomplete = alreadyIncomplete || failed.length > 0;
  const code = incomplete ? ExitCode.rollbackIncomplete : ExitCode.failed;
  const message = incomplete
    ? `rollout failed: ${cause}; the rollback is incomplete${failed.length ? ` on ${failed.join(', ')}` : ''}: run releaseflow recover --to <host> on each`
    : `rollout failed: ${cause}; rolled back: ${released.length ? released.join(', ') : 'no other host had been released'}; every host runs its previous version again, healthy`;
  return finish(bus, started, incomplete ? 'rollback-failed' : 'rolled-back', code, message);
}

/** Write the rollout's mark on every host of the fleet. */
export async function markFleet(ports: Ports, mark: FleetMark): Promise<void> {
  for (const h of mark.hosts) {
    const host = ports.hosts.get(h)!;
    await host.check({ script: buildWriteMarkScript(fleetDir(host.config.stateDir, ports.config.app), mark.releaseId) }, { stdin: `${JSON.stringify(mark)}\n`, what: `marking rollout ${mark.releaseId} ${mark.state}` });
  }
}
