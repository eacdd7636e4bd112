// Mode detection: how a host runs a container, from its compose labels (none means `docker run`).
import { posix } from 'node:path';

/** A container started by docker compose, with what its labels say about the project. */
export interface ComposeMode {
  mode: 'compose';
  project: string;
  /** The project's compose files as the labels list them (compose v1 writes names relative to workingDir). */
  configFiles: string[];
  workingDir: string;
  service: string;
}

/** A container started by plain `docker run` (or anything else without compose labels). */
export interface RunMode {
  mode: 'run';
}

export type Mode = ComposeMode | RunMode;

const PREFIX = 'com.docker.compose.';

/** Detect the mode from a container's labels; empty or missing compose labels mean `docker run`. */
export function detectMode(labels: Record<string, string> | null | undefined): Mode {
  const project = labels?.[`${PREFIX}project`]?.trim();
  if (!labels || !project) return { mode: 'run' };
  const files = labels[`${PREFIX}project.config_files`] ?? '';
  return {
    mode: 'compose',
    project,
    configFiles: files
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== ''),
    workingDir: labels[`${PREFIX}project.working_dir`]?.trim() ?? '',
    service: labels[`${PREFIX}service`]?.trim() ?? '',
  };
}

/** The compose files as absolute paths: relative names resolve against the working dir. */
export function composeFilePaths(mode: ComposeMode): string[] {
  return mode.configFiles.map((f) => (posix.isAbsolute(f) || !mode.workingDir ? f : posix.join(mode.workingDir, f)));
}

/** One line for humans: "compose (project p, service s, files …)" or "run". */
export function describeMode(mode: Mode): string {
  if (mode.mode === 'run') return 'docker run (no compose labels)';
  const files = mode.configFiles.length ? mode.configFiles.join(', ') : 'no config_files label';
  return `docker compose (project ${mode.project}, service ${mode.service || '?'}, files ${files}, working_dir ${mode.workingDir || '?'})`;
}
