// renderPlan: the plan as text — the output of `releaseflow plan`, the head of the log, a golden string in tests.
import { formatBytes } from './human.ts';
import { describeRoute } from './direct.ts';
import { shJoin } from './quote.ts';
import { maskArgv, maskUrlCredentials } from './redact.ts';
import { describeCommand, type Plan, type Step, type StepCommand } from './step.ts';

/**
 * A command as it may be shown (plan, log, events, errors): rendered from its masked argv, since a value
 * split over lines or quoted no longer matches itself. `secrets`: the config's extra secret env names.
 */
export function renderCommand(c: StepCommand, secrets: readonly string[] = []): string {
  const shown = describeCommand(c, (argv) => shJoin(maskArgv(argv, secrets)));
  return c.argv ? shown : maskUrlCredentials(shown);
}

/** One step's printable lines (name, cause, commands). */
export function renderStep(step: Step, index: number, total: number, secrets: readonly string[] = []): string[] {
  const lines = [`step ${index}/${total} ${step.name} on ${step.host}`, `    why: ${step.cause}`];
  if (step.kind === 'exec') for (const c of step.commands) lines.push(...renderCommand(c, secrets).split('\n').map((l, i) => `    ${i === 0 ? '$ ' : '  '}${l}`));
  if (step.kind === 'transfer') {
    const via = step.direct ? `straight to ${step.to} (its own ssh to ${describeRoute(step.direct)})` : 'stream via this machine';
    lines.push(`    $ docker save ${step.imageId} on ${step.from}  ->  ${via}  ->  docker load on ${step.to}${step.bytes ? ` (image ${formatBytes(step.bytes)})` : ''}`);
  }
  if (step.kind === 'health') lines.push(`    poll ${step.url ?? '(container state)'}${step.dockerHealth ? ' and Docker HEALTHCHECK' : ''} every ${step.intervalMs}ms for up to ${Math.round(step.timeoutMs / 1000)}s`);
  return lines;
}

/** The whole plan as text. `secrets`: the config's extra secret env names. */
export function renderPlan(plan: Plan, opts: { header?: boolean; secrets?: readonly string[] } = {}): string {
  const out = opts.header === false ? [] : [...plan.header];
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  if (plan.upToDate) {
    out.push(`already up to date: ${plan.to.name} runs the same images as ${plan.from?.name ?? 'the source'}; nothing to do`);
    return out.join('\n');
  }
  for (const c of plan.containers) if (c.runCommand) out.push(`final command for ${c.name}:`, ...c.runCommand.split('\n').map((l) => `    ${l}`));
  out.push(`${plan.steps.length} steps:`);
  for (const [i, s] of plan.steps.entries()) out.push(...renderStep(s, i + 1, plan.steps.length, opts.secrets));
  return out.join('\n');
}
