// Execute a plan with compose projects; success records history (with the compose files), failure restores everything.
import type { SshHost } from '../adapters/ssh.ts';
import { manualRestoreCommands, planComposeRestoreSteps, type ComposePlan, type ComposeProjectRelease } from '../core/compose-plan.ts';
import { dockerLogs, dockerPsAll } from '../core/docker.ts';
import { ExitCode, renderError } from '../core/errors.ts';
import type { InspectLike } from '../core/plan.ts';
import { shJoin } from '../core/quote.ts';
import { planRollbackOfPromotion, undoTargetsOfPromotion } from '../core/rollback-plan.ts';
import type { Plan, Step } from '../core/step.ts';
import type { ReleaseResult } from '../events/types.ts';
import { type ExecuteResult, executePlan } from './execute.ts';
import { historyContainers, promotionFacts, prune, type ReleaseOutcome, record } from './finish.ts';
import type { HistoryEntry } from './history.ts';
import { inspectContainers } from './inspect.ts';
import { awaitGoneGuard, commitRelease, endAfterRollback, newJournal, type OpenJournal, openJournal, setJournalState } from './journal.ts';
import type { Ports } from './ports.ts';

/** A compose project as history keeps it: enough to restore its files and images later. */
export interface ComposeHistoryProject extends Omit<ComposeProjectRelease, 'files' | 'services'> {
  /** Each file releaseflow changed, its snapshot (content before), and its sha256 after (null: absent). */
  files: { path: string; snapshot: string; sha256: string | null }[];
  services: { container: string; service: string }[];
}

/** A history entry of a release or rollback that went through compose. */
export type ComposeHistoryEntry = HistoryEntry & { compose?: { projects: ComposeHistoryProject[] } };

/** sha256 of files on the host (null for a missing file), in one round trip. */
export async function hashFiles(host: SshHost, paths: readonly string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>(paths.map((p) => [p, null]));
  if (paths.length === 0) return out;
  const r = await host.run({ script: `for f in ${shJoin(paths)}; do if [ -f "$f" ]; then printf '%s %s\\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$f"; fi; done` });
  for (const line of r.stdout.split('\n')) {
    const m = /^([0-9a-f]{64}) (.+)$/.exec(line.trim());
    if (m && out.has(m[2]!)) out.set(m[2]!, m[1]!);
  }
  return out;
}

/** The compose part of a history entry. */
export function historyProjects(projects: readonly ComposeProjectRelease[], sha: Map<string, string | null>): ComposeHistoryProject[] {
  return projects.map(({ files, services, ...rest }) => ({
    ...rest,
    files: files.map((f) => ({ ...f, sha256: sha.get(f.path) ?? null })),
    services: services.map((s) => ({ container: s.container, service: s.service })),
  }));
}

/** Logs of the containers a failed step concerns: its container, or every changed service of a failed compose step. */
async function diagnose(ports: Ports, plan: ComposePlan, index: number, failed: Step | undefined): Promise<void> {
  const to = ports.hosts.get(plan.to.name)!;
  const project = plan.compose.projects.find((p) => failed?.name.endsWith(` ${p.project}`));
  const names = failed?.container ? [failed.container] : (project?.services.filter((s) => s.changes).map((s) => s.container) ?? []);
  for (const n of names) {
    const logs = await to.run(dockerLogs(n)).catch(() => undefined);
    if (logs) ports.bus.emit({ type: 'output', index, host: to.name, stream: 'stdout', text: `docker logs --tail 200 ${n}:\n${logs.stdout}${logs.stderr}`, raw: logs.rawStdout + logs.rawStderr });
  }
  const ps = await to.run(dockerPsAll()).catch(() => undefined);
  if (ps) ports.bus.emit({ type: 'output', index, host: to.name, stream: 'stdout', text: `docker ps -a:\n${ps.stdout}`, raw: ps.rawStdout });
}

/** The automatic rollback of a failed compose promotion: run-mode containers as run mode does, compose projects restored. */
export function planComposeRollback(plan: ComposePlan, before: Map<string, InspectLike | undefined>, intervalMs: number): Plan {
  const facts = promotionFacts(plan, before, (c) => c.mode === 'run');
  const runSteps = facts.length ? planRollbackOfPromotion(plan, facts, intervalMs).steps : [];
  const health = plan.steps.filter((s) => s.kind === 'health');
  const composeSteps = plan.compose.projects.flatMap((p) => {
    const back = p.services.filter((s) => s.changes).map((s) => ({ container: s.container, service: s.service, ref: s.prevRef, id: s.prevId }));
    return planComposeRestoreSteps(plan.to.name, p, back, health, `release ${plan.releaseId} failed: put the project's files and images back as they were`);
  });
  return { ...plan, kind: 'rollback', header: [`rollback of release ${plan.releaseId}`], steps: [...runSteps, ...composeSteps] };
}

/** The restore of each compose project, as one script each: undo.sh runs them (the crash guard, recover). */
function composeUndoScripts(plan: ComposePlan): string[] {
  return plan.compose.projects.map((p) => manualRestoreCommands(p, p.services.filter((s) => s.changes).map((s) => ({ service: s.service, ref: s.prevRef, id: s.prevId }))));
}

/** Run the plan under a journal and crash guard; success records history, failure restores every container and the compose files. */
export async function finishComposeRelease(ports: Ports, plan: ComposePlan, started: number, signal?: AbortSignal): Promise<ReleaseOutcome> {
  const { bus, hosts, config } = ports;
  const to = hosts.get(plan.to.name)!;
  const names = plan.containers.map((c) => c.name);
  const before = await inspectContainers<InspectLike>(to, names);
  const files = plan.compose.projects.flatMap((p) => p.files.map((f) => f.path));
  // before the first change, as in run mode: the journal (run-mode targets + each project's restore) and the guard
  let j: OpenJournal;
  try {
    const runFacts = promotionFacts(plan, before, (c) => c.mode === 'run');
    j = await openJournal(to, config, newJournal({ releaseId: plan.releaseId, kind: 'promote', app: plan.app, stateDir: to.config.stateDir, from: plan.from, to: plan.to, logFile: config.logFile, targets: undoTargetsOfPromotion(plan, runFacts), history: historyContainers(plan, before, new Map()), extraUndo: composeUndoScripts(plan) }), bus);
  } catch (e) {
    bus.emit({ type: 'release-finished', result: 'failed', exitCode: ExitCode.failed, durationMs: Date.now() - started, message: `nothing was changed on ${plan.to.name}.\n${renderError(e)}` });
    return { code: ExitCode.failed, result: 'failed' };
  }
  let exec: ExecuteResult = await executePlan(plan, { hosts, bus, signal, guard: j.view });
  if (exec.ok) exec = await commitRelease(to, j, plan, exec, 'the previous images and compose files');
  if (exec.ok) {
    const after = await inspectContainers<InspectLike>(to, names);
    // one figure for the release's duration: history's is also the result line's
    const durationMs = await recordCompose(ports, plan, 'released', ExitCode.ok, started, before, after, await hashFiles(to, files));
    await setJournalState(to, j.paths, 'done').catch((e) => bus.warn(`could not mark the release done on ${to.name}: ${e instanceof Error ? e.message : e}; releaseflow recover will record it`));
    await prune(ports, plan);
    bus.emit({ type: 'release-finished', result: 'released', exitCode: ExitCode.ok, durationMs, message: `released: ${plan.containers.filter((c) => c.changes).map((c) => `${c.name} ${c.toRef} -> ${c.fromRef}${c.mode === 'compose' ? ' (compose)' : ''}`).join(', ')}` });
    return { code: ExitCode.ok, result: 'released' };
  }
  await diagnose(ports, plan, exec.failedIndex!, exec.failedStep);
  // a guard that is gone may be restoring right now: let it finish first
  const guardGone = await awaitGoneGuard(to, j, bus);
  const rollback = planComposeRollback(plan, before, ports.config.health.intervalMs);
  const where = `step ${exec.failedIndex}/${plan.steps.length} ${exec.failedStep?.name}`;
  bus.warn(`release failed at ${where}: ${exec.error instanceof Error ? exec.error.message : String(exec.error)}; rolling back every container and the compose files`);
  const rb = await executePlan(rollback, { hosts, bus });
  await endAfterRollback(to, j, rb.ok, guardGone);
  const sha = await hashFiles(to, files).catch(() => new Map<string, string | null>());
  if (rb.ok) {
    const durationMs = await recordCompose(ports, plan, 'rolled-back', ExitCode.failed, started, before, before, sha).catch(() => Date.now() - started);
    await setJournalState(to, j.paths, 'done').catch(() => undefined);
    bus.emit({ type: 'release-finished', result: 'rolled-back', exitCode: ExitCode.failed, durationMs, message: `failed at ${where}; rolled back: ${plan.to.name} runs the previous images again with its compose files as they were, healthy.\n${renderError(exec.error)}` });
    return { code: ExitCode.failed, result: 'rolled-back' };
  }
  const durationMs = await recordCompose(ports, plan, 'rollback-failed', ExitCode.rollbackIncomplete, started, before, before, sha).catch(() => Date.now() - started);
  const manual = [
    ...rollback.steps.filter((s) => s.kind === 'exec' && !s.name.includes('compose')).flatMap((s) => (s.kind === 'exec' ? s.commands.map((c) => c.script ?? shJoin(c.argv ?? [])) : [])),
    ...composeUndoScripts(plan),
  ];
  bus.emit({
    type: 'release-finished',
    result: 'rollback-failed',
    exitCode: ExitCode.rollbackIncomplete,
    durationMs,
    message: `failed at ${where} and the rollback failed at its step ${rb.failedIndex}/${rollback.steps.length}: ${renderError(rb.error)}\nFirst try: releaseflow recover (it retries the restore from the journal on ${plan.to.name}).\nOr restore by hand on ${plan.to.name} (ssh ${plan.to.address}):\n${manual.join('\n\n')}`,
  });
  return { code: ExitCode.rollbackIncomplete, result: 'rollback-failed' };
}

function recordCompose(ports: Ports, plan: ComposePlan, result: ReleaseResult, exitCode: number, started: number, before: Map<string, InspectLike | undefined>, after: Map<string, InspectLike | undefined>, sha: Map<string, string | null>): Promise<number> {
  return record(ports, plan, result, exitCode, started, historyContainers(plan, before, after), { compose: { projects: historyProjects(plan.compose.projects, sha) } });
}
