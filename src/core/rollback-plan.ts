// Pure undo plans: put previous containers back, checking state before each undo (run by releaseflow, the crash guard and recover).
import { buildRemoveCreatedScript } from './bootstrap.ts';
import { restartPolicyValue } from './docker.ts';
import { withUndoLock } from './undo-lock.ts';
import { shJoin, shQuote } from './quote.ts';
import { prevContainerName } from './state.ts';
import type { Plan, Step } from './step.ts';

export interface UndoTarget {
  name: string;
  /** The kept container to bring back. */
  prevName: string;
  /** The container ID we expect to be live afterwards (verified). */
  expectId?: string;
  restartPolicy: string;
  /** What to do with the container currently named `name`: remove it, or keep it under another name. */
  displaced: { remove: true } | { renameTo: string };
  wasRunning: boolean;
  healthUrl?: string;
  dockerHealth: boolean;
  healthTimeoutMs: number;
  /** The container did not exist before release `releaseId` created it (bootstrap): the undo removes it and the networks that release created, once empty; volumes stay. */
  created?: { releaseId: string; networks: string[] };
}

/** The state-checking undo script for one container: safe to run whatever was or was not done. */
export function buildUndoScript(t: UndoTarget): string {
  if (t.created) return buildRemoveCreatedScript(t.name, t.created.networks, t.created.releaseId);
  const q = shQuote;
  const exists = (n: string) => `docker container inspect ${q(n)} >/dev/null 2>&1`;
  const displace = 'remove' in t.displaced ? shJoin(['docker', 'rm', '-f', t.name]) : `${shJoin(['docker', 'stop', t.name])} >/dev/null && ${shJoin(['docker', 'update', '--restart', 'no', t.name])} >/dev/null && ${shJoin(['docker', 'rename', t.name, t.displaced.renameTo])}`;
  const lines = [
    'set -e',
    `if ${exists(t.prevName)}; then`,
    `  if ${exists(t.name)}; then ${displace}; fi`,
    `  ${shJoin(['docker', 'rename', t.prevName, t.name])}`,
    'fi',
    `${shJoin(['docker', 'update', '--restart', t.restartPolicy, t.name])} >/dev/null`,
  ];
  if (t.wasRunning) lines.push(`${shJoin(['docker', 'start', t.name])} >/dev/null`);
  if (t.expectId) {
    lines.push(`test "$(${shJoin(['docker', 'inspect', '-f', '{{.Id}}', t.name])})" = ${q(t.expectId)} || { echo ${q(`${t.name} is not the expected container ${t.expectId.slice(0, 12)}`)} >&2; exit 1; }`);
  }
  lines.push(`echo ${q(`${t.name} restored`)}`);
  return lines.join('\n');
}

/** The undo mutex of the release journal: when given, each restore runs under it (see undo-lock.ts). */
export interface UndoLock {
  lockDir: string;
  outFile: string;
  /** The host reaches docker through `sudo -n`. */
  sudo?: boolean;
}

/** Steps that restore each target, then check its health. */
export function planUndoSteps(host: string, targets: UndoTarget[], intervalMs: number, cause: string, lock?: UndoLock): Step[] {
  const steps: Step[] = [];
  for (const t of targets) {
    const script = lock ? withUndoLock(buildUndoScript(t), lock.lockDir, lock.outFile, lock.sudo) : buildUndoScript(t);
    steps.push({ kind: 'exec', act: 'restore', name: `rollback: ${t.created ? 'remove' : 'restore'} ${t.name}`, host, container: t.name, cause, commands: [{ script }] });
  }
  for (const t of targets) {
    if (!t.wasRunning) continue;
    steps.push({
      kind: 'health',
      act: 'health',
      name: `rollback: health ${t.name}`,
      host,
      container: t.name,
      cause: 'the restored container must be healthy again',
      url: t.healthUrl,
      dockerHealth: t.dockerHealth,
      timeoutMs: t.healthTimeoutMs,
      intervalMs,
    });
  }
  return steps;
}

/** What the rollback of a promotion needs to know of each target container, as it was before the release. */
export interface PromotionFact {
  name: string;
  targetId: string;
  policy: { Name?: string; MaximumRetryCount?: number } | undefined;
  wasRunning: boolean;
  healthUrl?: string;
  dockerHealth: boolean;
  healthTimeoutMs: number;
}

/** The undo targets of a promotion: each new container removed, the kept one renamed back and started. */
export function undoTargetsOfPromotion(promotion: Plan, facts: PromotionFact[]): UndoTarget[] {
  return facts.map((f) => ({
    name: f.name,
    prevName: prevContainerName(f.name, promotion.releaseId),
    expectId: f.targetId,
    restartPolicy: restartPolicyValue(f.policy),
    displaced: { remove: true },
    wasRunning: f.wasRunning,
    healthUrl: f.healthUrl,
    dockerHealth: f.dockerHealth,
    healthTimeoutMs: f.healthTimeoutMs,
  }));
}

/** The undo of a container a release created (it did not exist before): remove it; no health to check afterwards. */
export function createdUndoTarget(name: string, releaseId: string, networks: readonly string[]): UndoTarget {
  return { name, prevName: name, restartPolicy: 'no', displaced: { remove: true }, wasRunning: false, dockerHealth: false, healthTimeoutMs: 0, created: { releaseId, networks: [...networks] } };
}

/** Record of one container in a release, as kept in history. */
export interface HistoryContainer {
  name: string;
  fromRef: string;
  fromId: string;
  toRef: string;
  toId: string;
  prevName: string;
  prevTag: string;
  restartPolicy: string;
  containerId?: string;
  prevContainerId?: string;
  /** The release created the container (bootstrap), and these networks and volumes; its rollback removes the container and those networks, keeps the volumes. */
  created?: { networks: string[]; volumes: string[] };
}
