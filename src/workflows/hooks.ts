// Hooks: the operator's commands around a release (pre, post, rollback), on this machine or on a host.
// The release's facts reach them as RELEASEFLOW_* variables; their output goes to the log, secrets masked.
import { runProcess } from '../adapters/process.ts';
import type { HookName } from '../core/config-hooks.ts';
import { ExitCode, ReleaseflowError, renderError } from '../core/errors.ts';
import { buildHookScript, type ReleaseFacts, releaseEnv } from '../core/release-facts.ts';
import type { Plan } from '../core/step.ts';
import type { ExecuteResult, ReleaseOutcome } from './execute.ts';
import { containerFacts } from './notify.ts';
import type { Ports } from './ports.ts';

/** The facts of a release still running (no result yet) or just rolled back. */
export function factsOfPlan(ports: Ports, plan: Plan, extra: Partial<ReleaseFacts> = {}): ReleaseFacts {
  return { kind: 'promote', app: ports.config.app, releaseId: plan.releaseId, from: plan.from?.name, to: plan.to.name, containers: containerFacts(plan), ...extra };
}

const OUTPUT_MAX = 8000;

/** Run the configured hook, if any. Resolves undefined when there is none or it passed; else the error to report. */
export async function runHook(ports: Ports, name: HookName, facts: ReleaseFacts, signal?: AbortSignal): Promise<ReleaseflowError | undefined> {
  const hook = ports.config.hooks[name];
  if (!hook) return undefined;
  const { bus } = ports;
  const env = releaseEnv(facts, name);
  const where = hook.on === 'local' ? 'this machine' : hook.on;
  const fix = `check the ${name} hook (hooks.${name} in ${ports.config.file}); its output is in the log above`;
  bus.info(`${name} hook on ${where}: ${hook.command}`);
  const started = Date.now();
  try {
    let code: number | null;
    let output: string;
    let timedOut = false;
    if (hook.on === 'local') {
      const r = await runProcess('sh', ['-c', hook.command], { env: { ...process.env, ...env }, timeoutMs: hook.timeoutMs, signal, maxBuffer: 1024 * 1024 });
      ({ code, timedOut } = r);
      output = `${r.stdout}${r.stderr}`;
    } else {
      const host = ports.hosts.get(hook.on);
      if (!host) return new ReleaseflowError(`the ${name} hook runs on ${hook.on}, which this command does not connect to`, { fix: `set hooks.${name}.on: to local or to the source or target host` });
      // the values are quoted (shQuote); the command is the operator's own text from the config
      const r = await host.run({ script: buildHookScript(env, hook.command) }, { timeoutMs: hook.timeoutMs, signal });
      code = r.code;
      output = `${r.stdout}${r.stderr}`;
    }
    if (output.trim()) bus.info(`${name} hook output:\n${output.length > OUTPUT_MAX ? `…${output.slice(-OUTPUT_MAX)}` : output.trimEnd()}`);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (timedOut) return new ReleaseflowError(`${name} hook timed out after ${hook.timeoutMs / 1000}s on ${where}`, { step: `${name} hook`, command: hook.command, fix: `${fix}; or raise hooks.${name}.timeout` });
    if (code !== 0) return new ReleaseflowError(`${name} hook failed on ${where} (exit ${code}, ${secs}s)`, { step: `${name} hook`, command: hook.command, output: output.trim().split('\n').slice(-10).join('\n'), fix });
    bus.info(`${name} hook passed on ${where} (${secs}s)`);
    return undefined;
  } catch (e) {
    // ssh timeouts and lost connections throw; they are the hook's failure, not a crash
    const msg = e instanceof Error ? e.message : String(e);
    return new ReleaseflowError(`${name} hook failed on ${where}: ${msg}`, { step: `${name} hook`, command: hook.command, fix });
  }
}

/** The pre hook before anything changes: its failure ends the release (exit 1) with nothing changed. */
export async function preHookStops(ports: Ports, plan: Plan, started: number, signal?: AbortSignal): Promise<ReleaseOutcome | undefined> {
  const err = await runHook(ports, 'pre', factsOfPlan(ports, plan), signal);
  if (!err) return undefined;
  ports.bus.emit({ type: 'release-finished', result: 'failed', exitCode: ExitCode.failed, durationMs: Date.now() - started, message: `pre hook failed: nothing was changed on ${plan.to.name}.\n${renderError(err)}` });
  return { code: ExitCode.failed, result: 'failed' };
}

/** The post hook after every health check passed, before the commit: its failure turns the release into a rollback. */
export async function postHook(ports: Ports, plan: Plan, exec: ExecuteResult, signal?: AbortSignal): Promise<ExecuteResult> {
  if (!exec.ok) return exec;
  const error = await runHook(ports, 'post', factsOfPlan(ports, plan), signal);
  if (!error) return exec;
  const last = plan.steps.at(-1);
  return { ok: false, failedIndex: plan.steps.length, failedStep: last && { ...last, name: 'post hook' }, error, done: exec.done };
}

/** The rollback hook after a rollback that succeeded; its failure is a warning (PROD is restored either way). */
export async function rollbackHook(ports: Ports, facts: ReleaseFacts): Promise<void> {
  const err = await runHook(ports, 'rollback', { ...facts, result: 'rolled-back' });
  if (err) ports.bus.warn(`${err.message}; the rollback itself succeeded`);
}
