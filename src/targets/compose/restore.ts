// `releaseflow rollback` of a compose release: its files back from the snapshots, each image under its old ref, `up`, health.
import { inspectImages } from '../../adapters/inspect.ts';
import { buildSnapshotFilesScript, type ManagedFile } from '../../core/compose.ts';
import { ExitCode, ReleaseflowError } from '../../core/errors.ts';
import { buildPrivateDirScript } from '../../core/file-scripts.ts';
import type { HistoryContainer } from '../../core/rollback-plan.ts';
import type { Step } from '../../core/step.ts';
import type { RestoreInput, RestorePart } from '../target.ts';
import { type ComposeHistoryProject, type ComposeRecord, hashFiles, historyProjects } from './history.ts';
import { type ComposeProjectRelease, manualRestoreCommands, planComposeRestoreSteps } from './plan.ts';

/** A project of history as a restorable release: its files come back from `files`' snapshots. */
function asRelease(p: ComposeHistoryProject, files: ManagedFile[]): ComposeProjectRelease {
  return { ...p, files, services: [] };
}

/** The files a rollback snapshots before it restores: the same paths, into this rollback's own release folder. */
function ownSnapshots(p: ComposeHistoryProject, release: string, i: number): ManagedFile[] {
  return p.files.map((f, j) => ({ path: f.path, snapshot: `${release}/compose/${i + 1}-${j === 0 ? 'dotenv' : 'override.yml'}` }));
}

/** The compose projects of a recorded release (none when it did not go through compose). */
export function recordedProjects(entry: { [field: string]: unknown }): ComposeHistoryProject[] {
  return (entry as ComposeRecord).compose?.projects ?? [];
}

/** Refuse before anything changes: a file changed since the release, or a previous image gone. */
async function check(input: RestoreInput, projects: ComposeHistoryProject[]): Promise<void> {
  const name = input.host.name;
  const now = await hashFiles(input.host, projects.flatMap((p) => p.files.map((f) => f.path)));
  const changed = projects.flatMap((p) => p.files).filter((f) => now.get(f.path) !== f.sha256);
  if (changed.length > 0) {
    throw new ReleaseflowError(`${changed.map((f) => f.path).join(' and ')} changed on ${name} since release ${input.entry.releaseId}; rolling back would overwrite that change`, {
      host: name,
      fix: `compare with the snapshot (${changed.map((f) => f.snapshot).join(', ')}) and restore by hand, or run releaseflow promote again`,
    }, ExitCode.usage);
  }
  const ids = input.containers.map((c) => c.fromId);
  const images = await inspectImages(input.host, ids);
  const missing = ids.filter((id) => !images.get(id));
  if (missing.length > 0) throw new ReleaseflowError(`the previous image(s) ${missing.join(', ')} of release ${input.entry.releaseId} are gone from ${name}`, { host: name, fix: 'load them again (docker load), or release another version with releaseflow promote' });
}

/** Plan the restore of every compose project of the recorded release. */
export async function restoreCompose(input: RestoreInput): Promise<RestorePart> {
  const projects = recordedProjects(input.entry);
  await check(input, projects);
  const name = input.host.name;
  const byName = new Map<string, HistoryContainer>(input.containers.map((c) => [c.name, c]));
  const own = projects.map((p, i) => ({ p, own: ownSnapshots(p, input.release, i) }));
  const health = [...input.health].map(([container, h]): Step => ({ kind: 'health', act: 'health', name: `health ${container}`, host: name, container, cause: 'the restored container must be healthy again', url: h.url, dockerHealth: false, timeoutMs: h.timeoutMs, intervalMs: input.intervalMs }));
  const back = (p: ComposeHistoryProject, side: 'from' | 'to') => p.services.map((s) => ({ ...s, ref: (side === 'from' ? byName.get(s.container)?.fromRef : byName.get(s.container)?.toRef) ?? '', id: (side === 'from' ? byName.get(s.container)?.fromId : byName.get(s.container)?.toId) ?? '' }));
  return {
    header: projects.flatMap((p) => [`compose_path: ${p.composePath} (project ${p.project}, working_dir ${p.workingDir})`, `env_path: ${p.envPath}`]),
    prepare: [{ script: buildPrivateDirScript(`${input.release}/compose`) }, ...own.map((x) => ({ script: buildSnapshotFilesScript(x.own) }))],
    steps: projects.flatMap((p) => planComposeRestoreSteps(name, asRelease(p, p.files), back(p, 'from'), health, `bring back the files and images release ${input.entry.releaseId} replaced`)),
    // put back what was live before this rollback: the files it snapshotted, the release's images
    undo: () => {
      const steps = own.flatMap(({ p, own: files }) => planComposeRestoreSteps(name, asRelease(p, files), back(p, 'to'), health, 'the rollback failed: put back what was live before it'));
      return { targets: [], scripts: [], steps, manual: own.map(({ p, own: files }) => manualRestoreCommands(asRelease(p, files), back(p, 'to'))) };
    },
    record: async (host) => {
      const sha = await hashFiles(host, own.flatMap((x) => x.own.map((f) => f.path)));
      return { compose: { projects: historyProjects(own.map(({ p, own: files }) => ({ ...asRelease(p, files), services: p.services.map((s) => ({ ...s, image: '', imageId: '', prevRef: '', prevId: '', changes: true })) })), sha) } };
    },
    prevNameOf: (c) => c.prevName,
  };
}
