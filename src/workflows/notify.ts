// Notifications at the end of promote and rollback: webhooks (JSON POST) and/or a local command.
// A notification never changes the release's result: every failure is a warning in the log.
import { runProcess } from '../adapters/process.ts';
import type { NotifyConfig } from '../core/config-hooks.ts';
import { type ReleaseFacts, notifyPayload, redactFacts, releaseEnv } from '../core/release-facts.ts';
import type { Plan } from '../core/step.ts';
import type { EventBus } from '../events/bus.ts';
import type { Ports } from './ports.ts';

/** Waits between tries: 3 tries after the first failure. */
export const RETRY_DELAYS_MS = [500, 1000, 2000];

/** The old and new image of each container the plan changes. */
export function containerFacts(plan: Plan | undefined, kind: ReleaseFacts['kind'] = 'promote'): ReleaseFacts['containers'] {
  // a rollback plan names what runs now as fromRef and what it restores as toRef (the reverse of a promote's)
  if (kind === 'rollback') return (plan?.containers ?? []).map((c) => ({ name: c.name, oldImage: c.fromRef ?? '', newImage: c.toRef }));
  return (plan?.containers ?? []).filter((c) => c.changes).map((c) => ({ name: c.name, oldImage: c.toRef, newImage: c.fromRef ?? '' }));
}

/** The facts of a finished run, from its events (since index `since` of the bus history) and its plan. */
export function factsOfRun(ports: Ports, kind: ReleaseFacts['kind'], since: number, plan: Plan | undefined): ReleaseFacts | undefined {
  const events = ports.bus.history.slice(since);
  const started = events.find((e) => e.type === 'release-started');
  const fin = events.filter((e) => e.type === 'release-finished').at(-1);
  if (fin?.type !== 'release-finished') return undefined;
  const failed = events.filter((e) => e.type === 'step-failed').at(-1);
  const ok = fin.result === 'released' || fin.result === 'up-to-date';
  return {
    kind,
    app: ports.config.app,
    releaseId: plan?.releaseId ?? '',
    from: started?.type === 'release-started' ? started.from : plan?.from?.name,
    to: started?.type === 'release-started' ? started.to : (plan?.to.name ?? ports.config.to),
    containers: containerFacts(plan, kind),
    result: fin.result,
    exitCode: fin.exitCode,
    durationMs: fin.durationMs,
    // a hook that failed is no plan step: its name is in the result message
    failedStep: ok ? undefined : failed?.type === 'step-failed' ? failed.name : /\b(pre|post) hook\b/.exec(fin.message)?.[0],
    error: ok ? undefined : failed?.type === 'step-failed' ? failed.message : fin.message,
  };
}

/** After promote or rollback: notify, unless nothing was attempted (dry run, plan, not confirmed). */
export async function notifyRun(ports: Ports, kind: ReleaseFacts['kind'], since: number, plan: Plan | undefined): Promise<void> {
  const cfg = ports.config.notify;
  if (!cfg) return;
  const facts = factsOfRun(ports, kind, since, plan);
  if (!facts || facts.result === 'planned' || /^not confirmed/.test(facts.error ?? '')) return;
  await sendNotifications(cfg, facts, ports.bus);
}

/** Send to every webhook and run the command, in parallel; resolves when all are done or gave up. */
export async function sendNotifications(cfg: NotifyConfig, raw: ReleaseFacts, bus: EventBus, delays: readonly number[] = RETRY_DELAYS_MS): Promise<void> {
  const facts = redactFacts(raw, (s) => bus.redactor.redact(s));
  const body = JSON.stringify(notifyPayload(facts));
  const jobs = cfg.webhooks.map(async (url) => {
    const err = await withRetries(() => postJson(url, body, cfg.timeoutMs), delays);
    if (err) bus.warn(`notification to ${webhookLabel(url)} failed after ${delays.length + 1} tries: ${err}; the release's result is unchanged`);
    else bus.info(`notified ${webhookLabel(url)}`);
  });
  if (cfg.command) {
    const command = cfg.command;
    jobs.push(
      (async () => {
        const err = await withRetries(() => runNotifyCommand(command, releaseEnv(facts, 'notify'), cfg.timeoutMs), delays);
        if (err) bus.warn(`notify command failed after ${delays.length + 1} tries: ${err}; the release's result is unchanged`);
        else bus.info('notify command done');
      })(),
    );
  }
  await Promise.all(jobs);
}

/** A webhook's scheme, host and port only: its path often is the secret (Slack). */
export function webhookLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return 'a webhook';
  }
}

/** Undefined when a try succeeded, else the last error's text. */
async function withRetries(attempt: () => Promise<void>, delays: readonly number[]): Promise<string | undefined> {
  let last = '';
  for (let i = 0; i <= delays.length; i++) {
    try {
      await attempt();
      return undefined;
    } catch (e) {
      const cause = (e as { cause?: { message?: string } })?.cause?.message;
      last = `${e instanceof Error ? e.message : String(e)}${cause ? ` (${cause})` : ''}`;
      if (i < delays.length) await new Promise((r) => setTimeout(r, delays[i]));
    }
  }
  return last;
}

async function postJson(url: string, body: string, timeoutMs: number): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'releaseflow' }, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

async function runNotifyCommand(command: string, env: Record<string, string>, timeoutMs: number): Promise<void> {
  const r = await runProcess('sh', ['-c', command], { env: { ...process.env, ...env }, timeoutMs, maxBuffer: 64 * 1024 });
  if (r.timedOut) throw new Error(`timed out after ${timeoutMs / 1000}s`);
  if (r.code !== 0) throw new Error(`exit ${r.code ?? r.signal}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
}
