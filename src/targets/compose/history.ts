// What history keeps of a compose release: each project's files (their snapshots and hashes) and services.
import type { SshHost } from '../../adapters/ssh.ts';
import { buildHashFilesScript } from '../../core/file-scripts.ts';
import type { ComposeProjectRelease } from './plan.ts';

/** A compose project as history keeps it: enough to restore its files and images later. */
export interface ComposeHistoryProject extends Omit<ComposeProjectRelease, 'files' | 'services'> {
  /** Each file releaseflow changed, its snapshot (content before), and its sha256 after (null: absent). */
  files: { path: string; snapshot: string; sha256: string | null }[];
  services: { container: string; service: string }[];
}

/** The compose field of a history entry. */
export interface ComposeRecord {
  [field: string]: unknown;
  compose?: { projects: ComposeHistoryProject[] };
}

/** sha256 of files on the host (null for a missing file), in one round trip. */
export async function hashFiles(host: SshHost, paths: readonly string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>(paths.map((p) => [p, null]));
  if (paths.length === 0) return out;
  const r = await host.run({ script: buildHashFilesScript(paths) });
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

/** The projects' files and their hashes now, as history records them. */
export async function recordProjects(host: SshHost, projects: readonly ComposeProjectRelease[]): Promise<ComposeRecord> {
  const sha = await hashFiles(host, projects.flatMap((p) => p.files.map((f) => f.path))).catch(() => new Map<string, string | null>());
  return { compose: { projects: historyProjects(projects, sha) } };
}
