// promote: observe → plan (pure) → confirm → lock → execute → health → record; rollback on failure.
import { ExitCode, ReleaseflowError, renderError } from '../core/errors.ts';
import { renderPlan } from '../core/render-plan.ts';
import { basisChanged, type Plan } from '../core/step.ts';

import { acquireLock, releaseLock } from '../adapters/state/lock.ts';
import type { ReleaseOutcome } from './execute.ts';
import { finishRelease } from './finish.ts';
import { notifyRun } from './notify.ts';
import { observeAndPlan, type PromoteOptions, refuseIfInterrupted, targetHosts } from './plan-release.ts';
import type { Ports } from './ports.ts';
import { rollout } from './rollout.ts';
import { relayPlan, removePassOn } from './relay.ts';

export type { PromoteOptions } from './plan-release.ts';
export { observeAndPlan } from './plan-release.ts';


/**
 * Observe again under the lock; the same plan when nothing changed, else say what changed and
 * either ask again (a new plan) or, under --yes, return exit 1 (the lock is released by the caller).
 */
async function replanIfChanged(ports: Ports, plan: Plan, opts: PromoteOptions, fromName: string, toName: string): Promise<Plan | number> {
  const again = await observeAndPlan(ports, fromName, toName, plan.releaseId, opts.carry, undefined, opts.create);
  const changed = basisChanged(plan, again);
  if (changed.length === 0) return plan;
  ports.bus.warn(`the hosts changed after the plan was made; now: ${changed.join('; ')}${opts.assumeYes ? '' : '; here is the new plan'}`);
  // nothing left to release is not confirmed either: the new plan would change nothing
  if (opts.assumeYes || again.upToDate) return ExitCode.failed;
  return (await opts.confirm(again)) ? again : ExitCode.usage;
}

/** The whole release, then its notifications (notify:, never changing the result). Returns the exit code (0, 1, 2 or 3). */
export async function promote(ports: Ports, opts: PromoteOptions): Promise<{ code: number; plan?: Plan }> {
  const since = ports.bus.history.length;
  // several target hosts (to: [a, b, c] or --to a,b,c): one release over the fleet (rollout.ts)
  const fleet = targetHosts(ports, opts.to);
  const r = fleet.length > 1 ? await rollout(ports, { ...opts, hosts: fleet }) : await promoteOnce(ports, { ...opts, to: fleet[0] });
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
    plan = await observeAndPlan(ports, fromName, toName, undefined, opts.carry, undefined, opts.create);
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
    await acquireLock(to, config, plan.releaseId, 'promote', ports.clock);
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
    // --relay: a swarm's nodes share one read of the source (with --direct: pass the image on), as a fleet's hosts
    let relayed: Awaited<ReturnType<typeof relayPlan>>;
    try {
      relayed = config.transfer.relay ? await relayPlan(ports, plan) : undefined;
    } catch (e) {
      const code = e instanceof ReleaseflowError ? e.exitCode : ExitCode.failed;
      bus.emit({ type: 'release-finished', result: 'failed', exitCode: code, durationMs: Date.now() - started, message: `${renderError(e)}\nnothing was changed` });
      return { code, plan };
    }
    try {
      outcome = await finishRelease(ports, relayed?.plan ?? plan, started, opts.signal);
    } finally {
      if (relayed) await removePassOn(ports, relayed.token, relayed.relaying);
    }
    return { code: outcome.code, plan };
  } finally {
    await releaseLock(to, config, plan.releaseId).catch(() => bus.warn(`could not remove the lock on ${toName}; run: releaseflow lock release`));
  }
}
