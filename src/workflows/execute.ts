// The executor: runs a plan's steps in order and makes no decisions; emits step events.
import { setTimeout as sleep } from 'node:timers/promises';
import { transferImage } from '../adapters/transfer.ts';
import { resolveDirect } from '../adapters/transfer-direct.ts';
import { describeRoute } from '../core/direct.ts';
import { diagnoseSsh, type Remote, remoteString, type SshHost } from '../adapters/ssh.ts';
import { CommandError, HostUnreachableError, ReleaseflowError } from '../core/errors.ts';
import { buildHealthProbeScript, judgeHealth, parseHealthProbe } from '../core/health.ts';
import { buildRefuseAfterGuardScript, GUARD_REFUSED } from '../core/journal.ts';
import { renderCommand } from '../core/render-plan.ts';
import { bindImageId, type Plan, type Step } from '../core/step.ts';
import type { EventBus } from '../events/bus.ts';
import type { ReleaseResult } from '../events/types.ts';
import { abandonPassOn } from './relay.ts';

export interface ExecuteResult {
  ok: boolean;
  /** 1-based index of the failed step. */
  failedIndex?: number;
  failedStep?: Step;
  error?: unknown;
  /** Steps that completed, by index. */
  done: number[];
}

/** How a release ended: its exit code and its result word. */
export interface ReleaseOutcome {
  code: number;
  result: ReleaseResult;
}

/** The crash guard of a release, as the executor sees it (see src/adapters/state/crash-guard.ts). */
export interface GuardView {
  /** The target host the guard watches. */
  host: string;
  /** Why the guard is gone, if it is: the release must stop (the guard may be restoring). */
  lost(): string | undefined;
  /** The guard's "decided" directory: once it exists, no forward command may run on the target. */
  decidedDir: string;
}

export interface ExecuteContext {
  hosts: Map<string, SshHost>;
  bus: EventBus;
  signal?: AbortSignal;
  /** Forward steps of a guarded release: stop when the guard is lost; refuse commands once it decided. */
  guard?: GuardView;
}

const interrupted = () =>
  new ReleaseflowError('interrupted (Ctrl-C or a stop signal)', { fix: 'nothing to do: the release is rolled back; releaseflow status shows the state' });

/** Run every step; stop at the first failure and report it. */
export async function executePlan(plan: Plan, ctx: ExecuteContext): Promise<ExecuteResult> {
  const done: number[] = [];
  for (let i = 0; i < plan.steps.length; ) {
    const end = transferRunEnd(plan.steps, i);
    const failed = end - i > 1 ? await runTransfersAtOnce(plan, i, end, ctx, done) : await runOne(plan, i, ctx, done, i + 1);
    if (failed) return failed;
    i = end;
  }
  return { ok: true, done };
}

/**
 * The end of the run of consecutive transfer steps from i when they go to more than one host (a swarm's
 * nodes): those run at once, each host's in order. Otherwise i + 1: one step.
 */
export function transferRunEnd(steps: readonly Step[], i: number): number {
  let j = i;
  while (j < steps.length && steps[j]!.kind === 'transfer') j++;
  return new Set(steps.slice(i, j).map((s) => s.host)).size > 1 ? j : i + 1;
}

/** Steps from..end-1, transfers to several hosts: each host's chain in order, the chains at once; the first failure by index. */
async function runTransfersAtOnce(plan: Plan, from: number, end: number, ctx: ExecuteContext, done: number[]): Promise<ExecuteResult | undefined> {
  const chains = new Map<string, number[]>();
  for (let i = from; i < end; i++) chains.set(plan.steps[i]!.host, [...(chains.get(plan.steps[i]!.host) ?? []), i]);
  const failures = await Promise.all(
    [...chains.values()].map(async (chain) => {
      try {
        for (const i of chain) {
          // the target's own ID (another image store) is bound in the steps after the run, never in a transfer still running
          const f = await runOne(plan, i, ctx, done, plan.steps[i]!.host === plan.to.name ? end : undefined);
          if (f) return f;
        }
        return undefined;
      } finally {
        await abandonPassOn(ctx.hosts, plan.steps.filter((_, i) => chain.includes(i)));
      }
    }),
  );
  return failures.filter((f) => f !== undefined).sort((x, y) => (x.failedIndex ?? 0) - (y.failedIndex ?? 0))[0];
}

/** Run step i; a failure as the plan's result. `bindFrom`: the first step that takes the target's own image ID. */
async function runOne(plan: Plan, i: number, ctx: ExecuteContext, done: number[], bindFrom: number | undefined): Promise<ExecuteResult | undefined> {
  const total = plan.steps.length;
  const step = plan.steps[i]!;
  const index = i + 1;
  const started = Date.now();
  ctx.bus.emit({ type: 'step-started', index, total, name: step.name, host: step.host, cause: step.cause });
  try {
    if (ctx.signal?.aborted) throw interrupted();
    checkGuard(ctx, step.host);
    const { note, boundId } = await runStep(step, index, ctx);
    // the target holds the image under another ID (another image store): later steps name that one
    if (boundId && bindFrom !== undefined && step.kind === 'transfer' && boundId !== step.imageId) {
      for (let j = bindFrom; j < total; j++) plan.steps[j] = bindImageId(plan.steps[j]!, step.imageId, boundId);
      plan.containers = plan.containers.map((c) => bindImageId(c, step.imageId, boundId));
    }
    done.push(index);
    ctx.bus.emit({ type: 'step-succeeded', index, total, name: step.name, durationMs: Date.now() - started, note });
    return undefined;
  } catch (caught) {
    // an unexpected error still names its step and host
    let error: unknown = caught;
    if (!(caught instanceof ReleaseflowError)) {
      error = new ReleaseflowError(`${caught instanceof Error ? caught.message : String(caught)}`, { host: step.host, fix: 'see the log file; run releaseflow status and doctor' });
    }
    const e = error as ReleaseflowError;
    if (ctx.signal?.aborted && !/interrupted/.test(e.message)) e.message = `interrupted (Ctrl-C or a stop signal): ${e.message}`;
    if (error instanceof CommandError) {
      if (error.stdout.trim()) ctx.bus.emit({ type: 'output', index, host: step.host, stream: 'stdout', text: error.stdout, raw: error.stdout });
      if (error.stderr.trim()) ctx.bus.emit({ type: 'output', index, host: step.host, stream: 'stderr', text: error.stderr, raw: error.stderr });
    }
    ctx.bus.emit({
      type: 'step-failed',
      index,
      total,
      name: step.name,
      durationMs: Date.now() - started,
      message: e.message,
      fix: e.detail.fix,
      exit: error instanceof CommandError ? error.exit : undefined,
    });
    e.detail.step = `step ${index}/${total} ${step.name}`;
    e.detail.host ??= step.host;
    return { ok: false, failedIndex: index, failedStep: step, error, done };
  }
}

function hostOf(ctx: ExecuteContext, name: string): SshHost {
  const h = ctx.hosts.get(name);
  if (!h) throw new ReleaseflowError(`internal: no connection for host ${name}`);
  return h;
}

async function runStep(step: Step, index: number, ctx: ExecuteContext): Promise<{ note?: string; boundId?: string }> {
  const host = hostOf(ctx, step.host);
  switch (step.kind) {
    case 'exec': {
      for (const c of step.commands) {
        // Ctrl-C: stop between commands, never in the middle of one (the rollback restores what was done)
        if (ctx.signal?.aborted) throw interrupted();
        checkGuard(ctx, step.host);
        const shown = renderCommand(c);
        ctx.bus.emit({ type: 'command', index, host: step.host, command: shown });
        let remote: Remote = c.argv ? { argv: c.argv } : { script: c.script ?? 'true' };
        if (ctx.guard && ctx.guard.host === step.host) remote = { script: buildRefuseAfterGuardScript(ctx.guard.decidedDir, remoteString(remote, host.config.sudo)) };
        const r = await host.run(remote, { stdin: c.stdin }).catch((err: unknown) => {
          if (err instanceof ReleaseflowError) err.detail.command = shown;
          throw err;
        });
        if (r.code === GUARD_REFUSED) {
          throw new ReleaseflowError(`the crash guard on ${step.host} has taken over (it restores the previous containers): command not run`, { host: step.host, command: shown, fix: 'nothing to do: the release is rolled back; releaseflow status shows the state' });
        }
        if (r.code !== 0 && !c.allowFail) {
          throw new CommandError(`command failed on ${step.host} (exit ${r.code})`, r.code, r.rawStdout, r.rawStderr, {
            host: step.host,
            command: shown,
            output: (r.stderr || r.stdout).trim().split('\n').slice(-20).join('\n'),
            fix: hintFor(r.stderr),
          });
        }
      }
      return {};
    }
    case 'transfer': {
      const from = hostOf(ctx, step.from);
      const direct = step.direct ? await resolveDirect(from, step.direct) : undefined;
      const follow = step.relay?.follow ? { host: hostOf(ctx, step.relay.follow.host), fan: step.relay.follow.fan } : undefined;
      // --direct: the host before this one in the chain is reached at its own address, with the same key on the target
      const relay = step.relay ? { ...step.relay, follow: follow ? { ...follow, direct: direct ? await resolveDirect(follow.host, { identityFile: direct.route.identityFile }) : undefined } : undefined } : undefined;
      const via = relay?.follow?.direct
        ? `relayed: ${step.to} takes the stream from ${relay.follow.host.name} (${describeRoute(relay.follow.direct.route)}) while ${relay.follow.host.name} loads it, nothing through this machine`
        : relay?.follow
          ? `streamed through this machine from the one docker save on ${relay.follow.host.name} for all hosts (${relay.follow.fan})`
          : direct
            ? `straight from ${step.to}'s own ssh to ${describeRoute(direct.route)}, nothing through this machine`
            : 'streamed through this machine';
      const passes = relay?.passOn ? (direct ? `; ${step.to} passes it on to the next host as it loads (${relay.passOn})` : `; ${step.from} keeps this stream for the other hosts (${relay.passOn})`) : '';
      ctx.bus.emit({ type: 'info', message: `transfer source: ${step.from} (${from.config.address}) docker save ${step.imageId} -> target: ${step.to} (${host.config.address}) docker load, ${via}${passes}` });
      const r = await transferImage(from, host, step.imageId, {
        direct,
        relay,
        connectTimeoutS: Math.ceil(host.settings.connectTimeoutMs / 1000),
        signal: ctx.signal,
        // no byte for this long is a stalled transfer: never longer than any remote command may take
        stallMs: Math.min(120_000, host.settings.commandTimeoutMs),
        onInfo: (message) => ctx.bus.emit({ type: 'info', message }),
        onWarning: (message) => ctx.bus.emit({ type: 'warning', message }),
        onProgress: (bytes, rateBps, p) => ctx.bus.emit({ type: 'progress', index, bytes, totalBytes: p.totalBytes, rateBps }),
      });
      const how = r.strategy === 'present' ? 'nothing sent' : `${r.strategy}${r.fellBack ? ' after a failed layer-only attempt' : ''}, ${r.layers.sent} of ${r.layers.total} layers, ${r.compression}${r.rawBytes ? `, ${r.rawBytes} bytes before compression` : ''}${r.relayedBy === step.from ? `, from ${step.from}'s one docker save for all hosts` : r.relayedBy ? `, taken from ${r.relayedBy} as it loaded the stream` : r.layout === 'content-store' ? `, read from ${step.from}'s containerd content store (no docker save)` : r.layout === 'layer-store' ? `, the missing layers rebuilt from ${step.from}'s layer store by tar-split (no docker save)` : ''}`;
      ctx.bus.emit({ type: 'info', message: `transfer done: ${r.bytes} bytes in ${r.durationMs}ms (${how}); ${r.loadOutput.trim()}` });
      if (r.targetId !== step.imageId) {
        ctx.bus.emit({ type: 'info', message: `${step.to} holds the image as ${r.targetId} (its image store names images differently; same layers, creation time and configuration as ${step.from}'s ${step.imageId}); the next steps use that ID` });
      }
      const v = await host.run({ argv: ['docker', 'image', 'inspect', '-f', '{{.Id}}', r.targetId] });
      // a banner printed by the remote shell may precede the answer: look for the line
      if (v.code !== 0 || !v.stdout.split('\n').some((l) => l.trim() === r.targetId)) {
        throw new CommandError(`image ${r.targetId} is not on ${step.to} after docker load`, v.code, v.stdout, v.stderr, { host: step.to, fix: 'check docker load output above; run releaseflow doctor' });
      }
      return { note: `${r.bytes} bytes (${r.strategy}), image verified${r.targetId === step.imageId ? '' : ` as ${r.targetId}`}`, boundId: r.targetId };
    }
    case 'health':
      return { note: await waitHealthy(step, index, host, ctx) };
  }
}

async function waitHealthy(step: Extract<Step, { kind: 'health' }>, index: number, host: SshHost, ctx: ExecuteContext): Promise<string> {
  const deadline = Date.now() + step.timeoutMs;
  const script = buildHealthProbeScript(step.container, step.url);
  let last = '';
  for (;;) {
    checkGuard(ctx, step.host);
    const r = await host.run({ script }, { signal: ctx.signal, timeoutMs: 30_000 });
    if (ctx.signal?.aborted) throw interrupted();
    if (r.code === 255) {
      // ssh itself failed (the probe never ran): the connection, not the container
      const d = diagnoseSsh(host.config, r.stderr || 'ssh exited 255');
      throw new HostUnreachableError(d.message, { host: step.host, command: `health probe of ${step.container}`, output: r.stderr.trim(), fix: d.fix });
    }
    const probe = parseHealthProbe(r.stdout);
    const { verdict, reason } = judgeHealth(probe, step.dockerHealth);
    if (reason !== last) ctx.bus.emit({ type: 'info', message: `step ${index} health ${step.container}: ${reason}` });
    last = reason;
    if (verdict === 'healthy') return reason;
    if (verdict === 'failed' || Date.now() > deadline) {
      const out = `${r.stdout}${r.stderr}`;
      throw new CommandError(`${step.container} is not healthy on ${step.host}: ${reason}${verdict === 'failed' ? '' : ` after ${Math.round(step.timeoutMs / 1000)}s`}`, null, r.stdout, r.stderr, {
        host: step.host,
        command: step.url ? `GET ${step.url} from ${step.host}` : `docker inspect ${step.container}`,
        output: out.trim(),
        fix: `read the container's logs below; check the health URL (${step.url ?? 'none'}) and health.timeout in the config`,
      });
    }
    if (ctx.signal?.aborted) throw interrupted();
    await sleep(step.intervalMs);
  }
}

/** Stop the release when its crash guard is gone (it may be restoring the previous containers). */
function checkGuard(ctx: ExecuteContext, host: string): void {
  const why = ctx.guard && ctx.guard.host === host ? ctx.guard.lost() : undefined;
  if (why) {
    throw new ReleaseflowError(`lost the crash guard on ${host}: ${why}`, {
      host,
      command: `the guard's ssh session to ${host} (sh guard script)`,
      fix: 'the connection to the host failed; the guard restores the previous containers by itself, and releaseflow rolls back too; check the network, then releaseflow status',
    });
  }
}

/** A one-line hint from well-known docker error text. */
export function hintFor(stderr: string): string | undefined {
  if (/no space left on device/i.test(stderr)) return 'free disk space on the host (docker system df; docker image prune)';
  if (/port is already allocated|address already in use/i.test(stderr)) return 'another container or process holds the port: docker ps; ss -ltnp';
  if (/Conflict\. The container name .* is already in use/i.test(stderr)) return 'a container with that name exists: docker ps -a; remove or rename it';
  if (/permission denied.*docker\.sock/i.test(stderr)) return 'the SSH user cannot use docker: add it to the docker group or set sudo: true for the host';
  if (/No such container/i.test(stderr)) return 'the container disappeared during the release: docker ps -a';
  if (/No such image|pull access denied|repository does not exist/i.test(stderr)) return 'the image is missing on the host: run releaseflow plan to see the transfer';
  return undefined;
}
