// `releaseflow rollback` of a release that went through compose: files and images back, `up`, health, record.
import { planComposeRestoreSteps, type ComposeProjectRelease } from '../core/compose-plan.ts';
import { buildSnapshotFilesScript, type ManagedFile } from '../core/compose.ts';
import { ExitCode, ReleaseflowError, renderError } from '../core/errors.ts';
import type { InspectLike } from '../core/plan.ts';
import { shQuote } from '../core/quote.ts';
import { renderPlan } from '../core/render-plan.ts';
import { type HistoryContainer, planUndoSteps } from '../core/rollback-plan.ts';
import { makeReleaseId, prevContainerName, prevImageTag, statePaths } from '../core/state.ts';
import type { Plan, Step } from '../core/step.ts';
import { type ComposeHistoryEntry, type ComposeHistoryProject, hashFiles, historyProjects } from './compose-release.ts';
import { executePlan } from './execute.ts';
import { readHistory } from './history.ts';
import { inspectContainers, inspectImages } from './inspect.ts';
import { acquireLock, operatorName, releaseLock } from './lock.ts';
import type { Ports } from './ports.ts';
import type { RollbackOptions } from './rollback.ts';

/** A project of history as a restorable release: its files come back from `snapshots`. */
function asRelease(p: ComposeHistoryProject, files: ManagedFile[]): ComposeProjectRelease {
  return { ...p, files, services: [] };
}

/** The files a rollback snapshots before it restores: the same paths, into this rollback's own release folder. */
function ownSnapshots(p: ComposeHistoryProject, release: string, i: number): ManagedFile[] {
  return p.files.map((f, j) => ({ path: f.path, snapshot: `${release}/compose/${i + 1}-${j === 0 ? 'dotenv' : 'override.yml'}` }));
}

/**
 * Undo the last successful release when it went through compose; returns undefined (nothing done)
 * when the last release did not, so the docker-run rollback handles it.
 */
export async function rollbackComposeRelease(ports: Ports, opts: RollbackOptions): Promise<number | undefined> {
  const { config, bus } = ports;
  const toName = opts.to ?? config.to;
  const to = ports.hosts.get(toName)!;
  let last: ComposeHistoryEntry | undefined;
  try {
    await to.connect();
    last = [...((await readHistory(to, config)) as ComposeHistoryEntry[])].reverse().find((h) => h.result === 'released');
  } catch {
    return undefined;
  }
  if (!last?.compose?.projects.length) return undefined;
  const started = Date.now();
  const releaseId = makeReleaseId(ports.clock());
  const paths = statePaths(to.config.stateDir, config.app, releaseId);
  const inCompose = new Set(last.compose.projects.flatMap((p) => p.services.map((s) => s.container)));
  const byName = new Map(last.containers.map((c) => [c.name, c]));
  let plan: Plan;
  let projects: { p: ComposeHistoryProject; own: ManagedFile[] }[];
  try {
    const now = await hashFiles(to, last.compose.projects.flatMap((p) => p.files.map((f) => f.path)));
    const changed = last.compose.projects.flatMap((p) => p.files).filter((f) => now.get(f.path) !== f.sha256);
    if (changed.length > 0) {
      throw new ReleaseflowError(`${changed.map((f) => f.path).join(' and ')} changed on ${toName} since release ${last.releaseId}; rolling back would overwrite that change`, {
        host: toName,
        fix: `compare with the snapshot (${changed.map((f) => f.snapshot).join(', ')}) and restore by hand, or run releaseflow promote again`,
      }, ExitCode.usage);
    }
    const ids = last.containers.filter((c) => inCompose.has(c.name)).map((c) => c.fromId);
    const images = await inspectImages(to, ids);
    const missing = ids.filter((id) => !images.get(id));
    if (missing.length > 0) throw new ReleaseflowError(`the previous image(s) ${missing.join(', ')} of release ${last.releaseId} are gone from ${toName}`, { host: toName, fix: 'load them again (docker load), or release another version with releaseflow promote' });
    projects = last.compose.projects.map((p, i) => ({ p, own: ownSnapshots(p, paths.release, i) }));
    const health = config.containers.map((c): Step => ({
      kind: 'health',
      name: `health ${c.name}`,
      host: toName,
      container: c.name,
      cause: 'the restored container must be healthy again',
      url: c.healthUrl,
      dockerHealth: false,
      timeoutMs: c.healthTimeoutMs,
      intervalMs: config.health.intervalMs,
    }));
    const steps: Step[] = [
      { kind: 'exec', name: 'snapshot', host: toName, cause: 'keep the compose files as they are now, so this rollback can be undone too', commands: [{ script: `umask 077 && mkdir -p ${shQuote(`${paths.release}/compose`)}` }, ...projects.map((x) => ({ script: buildSnapshotFilesScript(x.own) }))] },
      ...projects.flatMap(({ p }) =>
        planComposeRestoreSteps(toName, asRelease(p, p.files), p.services.map((s) => ({ ...s, ref: byName.get(s.container)?.fromRef ?? '', id: byName.get(s.container)?.fromId ?? '' })), health, `bring back the files and images release ${last!.releaseId} replaced`),
      ),
    ];
    // docker-run containers of the same release (a target running part of the app by compose)
    const run = last.containers.filter((c) => !inCompose.has(c.name));
    steps.push(...planUndoSteps(toName, run.map((c) => ({ name: c.name, prevName: c.prevName, expectId: c.prevContainerId, restartPolicy: c.restartPolicy, displaced: { renameTo: prevContainerName(c.name, releaseId) }, wasRunning: true, healthUrl: config.containers.find((x) => x.name === c.name)?.healthUrl, dockerHealth: false, healthTimeoutMs: config.containers.find((x) => x.name === c.name)?.healthTimeoutMs ?? 60_000 })), config.health.intervalMs, `bring back the containers release ${last.releaseId} replaced`));
    plan = {
      kind: 'rollback',
      releaseId,
      app: config.app,
      to: { name: toName, address: to.config.address },
      header: [
        `rollback ${releaseId} of app ${config.app} on ${toName} (${to.config.address}): undo release ${last.releaseId}`,
        ...last.containers.map((c) => `container ${c.name}: ${c.toRef} -> ${c.fromRef}${inCompose.has(c.name) ? ' (compose)' : ''}`),
        ...last.compose.projects.flatMap((p) => [`compose_path: ${p.composePath} (project ${p.project}, working_dir ${p.workingDir})`, `env_path: ${p.envPath}`]),
      ],
      containers: last.containers.map((c) => ({ name: c.name, mode: inCompose.has(c.name) ? 'compose' : 'run', fromRef: c.toRef, fromId: c.toId, toRef: c.fromRef, toId: c.fromId, prevName: prevContainerName(c.name, releaseId), prevTag: prevImageTag(c.name, releaseId), changes: true })),
      steps,
      upToDate: false,
      warnings: [],
    };
    bus.emit({ type: 'release-started', kind: 'rollback', to: toName, header: plan.header });
    bus.emit({ type: 'plan', text: renderPlan(plan, { header: false }) });
    if (!(await opts.confirm(plan))) {
      bus.emit({ type: 'release-finished', result: 'failed', exitCode: ExitCode.usage, durationMs: Date.now() - started, message: 'not confirmed: nothing changed' });
      return ExitCode.usage;
    }
    await acquireLock(to, config, releaseId, 'rollback');
  } catch (e) {
    if (!bus.history.some((x) => x.type === 'release-started')) bus.emit({ type: 'release-started', kind: 'rollback', to: toName, header: [] });
    const code = e instanceof ReleaseflowError ? e.exitCode : ExitCode.internal;
    bus.emit({ type: 'release-finished', result: 'failed', exitCode: code, durationMs: Date.now() - started, message: renderError(e) });
    return code;
  }
  try {
    const names = last.containers.map((c) => c.name);
    const before = await inspectContainers<InspectLike>(to, names);
    const exec = await executePlan(plan, { hosts: ports.hosts, bus, signal: opts.signal });
    let result = 'released';
    let code: number = ExitCode.ok;
    if (!exec.ok) {
      // put back what was live before this rollback: the files it snapshotted, the release's images
      const undo = projects.flatMap(({ p, own }) => planComposeRestoreSteps(toName, asRelease(p, own), p.services.map((s) => ({ ...s, ref: byName.get(s.container)?.toRef ?? '', id: byName.get(s.container)?.toId ?? '' })), plan.steps, 'the rollback failed: put back what was live before it'));
      const rb = await executePlan({ ...plan, steps: undo }, { hosts: ports.hosts, bus });
      result = rb.ok ? 'rolled-back' : 'rollback-failed';
      code = rb.ok ? ExitCode.failed : ExitCode.rollbackIncomplete;
    }
    const after = await inspectContainers<InspectLike>(to, names);
    const sha = await hashFiles(to, projects.flatMap(({ own }) => own.map((f) => f.path)));
    const containers: HistoryContainer[] = last.containers.map((c) => ({
      name: c.name,
      fromRef: c.toRef,
      fromId: c.toId,
      toRef: c.fromRef,
      toId: c.fromId,
      prevName: inCompose.has(c.name) ? c.prevName : prevContainerName(c.name, releaseId),
      prevTag: c.prevTag,
      restartPolicy: before.get(c.name)?.HostConfig.RestartPolicy?.Name || 'no',
      prevContainerId: before.get(c.name)?.Id,
      containerId: after.get(c.name)?.Id,
    }));
    const entry: ComposeHistoryEntry = {
      releaseId,
      kind: 'rollback',
      at: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      operator: operatorName(),
      to: plan.to,
      result,
      exitCode: code,
      logFile: config.logFile,
      containers,
      compose: { projects: historyProjects(projects.map(({ p, own }) => ({ ...asRelease(p, own), services: p.services.map((s) => ({ ...s, image: '', imageId: '', prevRef: '', prevId: '', changes: true })) })), sha) },
    };
    const p = statePaths(to.config.stateDir, config.app);
    await to.run({ script: `umask 077 && cat >> ${shQuote(p.history)}` }, { stdin: `${JSON.stringify({ ...entry, undoes: plan.header[0] })}\n` });
    bus.emit({
      type: 'release-finished',
      result: result as 'released',
      exitCode: code,
      durationMs: Date.now() - started,
      message: exec.ok ? `rolled back: ${plan.containers.map((c) => `${c.name} ${c.fromRef} -> ${c.toRef}`).join(', ')}` : `rollback failed at step ${exec.failedIndex}/${plan.steps.length}: ${renderError(exec.error)}`,
    });
    return code;
  } finally {
    await releaseLock(to, config, releaseId).catch(() => bus.warn(`could not remove the lock on ${toName}; run: releaseflow lock release`));
  }
}
