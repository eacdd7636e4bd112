// Release history on the target: one JSON line per release in the state folder.
import type { SshHost } from '../adapters/ssh.ts';
import type { Config } from '../core/config.ts';
import { ReleaseflowError } from '../core/errors.ts';
import { restartPolicyValue } from '../core/docker.ts';
import type { InspectLike } from '../core/plan.ts';
import type { HistoryContainer } from '../core/rollback-plan.ts';
import { shQuote } from '../core/quote.ts';
import { statePaths } from '../core/state.ts';
import type { Plan } from '../core/step.ts';
import type { ReleaseResult } from '../events/types.ts';
import { operatorName, stateDirFix } from './lock.ts';
import type { Ports } from './ports.ts';

export interface HistoryEntry {
  releaseId: string;
  kind: 'promote' | 'rollback';
  at: string;
  durationMs: number;
  operator: string;
  from?: { name: string; address: string };
  to: { name: string; address: string };
  result: string;
  exitCode: number;
  logFile: string;
  containers: HistoryContainer[];
}

/** Parse history lines; a damaged line is skipped, not fatal. */
export function parseHistory(text: string): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as HistoryEntry);
    } catch {
      /* a line cut by a crash */
    }
  }
  return out;
}

/** Read the target's history (oldest first). */
export async function readHistory(host: SshHost, config: Config): Promise<HistoryEntry[]> {
  const p = statePaths(host.config.stateDir, config.app);
  // a state folder the SSH user cannot read (left by root, sudo: true covers docker only) is named, not taken for "no history"
  const q = shQuote(p.root);
  const r = await host.run({ script: `if [ -d ${q} ] && ! { [ -r ${q} ] && [ -x ${q} ]; }; then id -un; exit 3; fi\ncat ${shQuote(p.history)} 2>/dev/null || true` });
  if (r.code === 3) {
    const user = r.stdout.trim().split('\n').pop() ?? '';
    throw new ReleaseflowError(`the state folder ${p.root} on ${host.name} is not readable for the SSH user ${user || '(unknown)'}: its history cannot be read`, {
      host: host.name,
      command: `cat ${p.history}`,
      fix: stateDirFix(host, p.root, user, p.root),
    });
  }
  return parseHistory(r.stdout);
}

/** History's record of each changing container. */
export function historyContainers(plan: Plan, before: Map<string, InspectLike | undefined>, after: Map<string, InspectLike | undefined>): HistoryContainer[] {
  return plan.containers
    .filter((c) => c.changes)
    .map((c) => ({
      name: c.name,
      fromRef: c.toRef,
      fromId: c.toId,
      toRef: c.fromRef ?? '',
      toId: c.fromId ?? '',
      prevName: c.prevName,
      prevTag: c.prevTag,
      restartPolicy: restartPolicyValue(before.get(c.name)?.HostConfig.RestartPolicy),
      prevContainerId: before.get(c.name)?.Id,
      containerId: after.get(c.name)?.Id,
    }));
}

/** Append one line to the target's history: the one writer of history.jsonl. */
export async function appendHistory(host: SshHost, config: Config, entry: object): Promise<void> {
  const p = statePaths(host.config.stateDir, config.app);
  await host.check({ script: `umask 077 && mkdir -p ${shQuote(p.root)} && cat >> ${shQuote(p.history)}` }, { stdin: `${JSON.stringify(entry)}\n`, what: 'recording history' });
}

/** Record one release in the target's history; `extra` adds mode-specific fields (compose projects).
 *  Returns the duration it recorded, for the release's result line (one figure in both places). */
export async function record(ports: Ports, plan: Plan, result: ReleaseResult, exitCode: number, started: number, containers: HistoryContainer[], extra: object = {}): Promise<number> {
  const durationMs = Date.now() - started;
  await appendHistory(ports.hosts.get(plan.to.name)!, ports.config, {
    releaseId: plan.releaseId,
    kind: plan.kind,
    at: new Date(started).toISOString(),
    durationMs,
    operator: operatorName(),
    from: plan.from,
    to: plan.to,
    result,
    exitCode,
    logFile: ports.config.logFile,
    containers,
    ...(plan.carried?.length ? { carried: plan.carried } : {}),
    ...extra,
  });
  return durationMs;
}
