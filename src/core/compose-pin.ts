// How a compose release pins its images (pure): compose's own override file where compose loads one by
// itself, else COMPOSE_FILE in the project's .env. Measured per compose version: docs/compose.md.
import { posix } from 'node:path';
import { composeFileValue, OVERRIDE_NAME } from './compose.ts';

/** The main file names compose finds by itself, v1 and v2 (v2 also finds compose.y(a)ml). */
const DEFAULT_MAIN = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
/** The override names compose v2 loads beside a default main file; v1 knows the docker-compose.* pair. */
export const DEFAULT_OVERRIDES = ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];
/** The first line of every override releaseflow writes: how a later release knows the file is its own. */
export const OVERRIDE_MARKER = '# Written by releaseflow';

/** What the target has that decides the pin. */
export interface PinFacts {
  /** config_files as the labels list them. */
  configFiles: readonly string[];
  workingDir: string;
  /** COMPOSE_FILE in the .env, when set there. */
  envComposeFile?: string;
  pathSeparator?: string;
  /** Override files that exist in the working dir, and whether releaseflow wrote them. */
  overrides: readonly { name: string; ours: boolean }[];
}

/**
 * `override`: compose loads the file by itself, nothing else changes (the .env stays as it is, so a
 * service reading `.env` as its env_file keeps its configuration). `env`: COMPOSE_FILE in the .env
 * names the project's files and releaseflow's; it is visible to such services (the pre-check refuses then).
 */
export type Pin = { kind: 'override'; overridePath: string } | { kind: 'env'; overridePath: string; composeFile: string };

const abs = (f: string, wd: string) => (posix.isAbsolute(f) ? f : posix.join(wd, f));

/** The pin for a project, or why none works (a file name COMPOSE_FILE cannot hold). */
export function choosePin(f: PinFacts): Pin | { error: string } {
  const wd = posix.normalize(f.workingDir);
  const files = f.configFiles.map((x) => abs(x, wd));
  const inWd = (x: string) => posix.dirname(x) === wd;
  const [main, ...rest] = files;
  const oursThere = f.overrides.find((o) => o.ours);
  const foreign = f.overrides.some((o) => !o.ours);
  const restIsOurs = rest.every((x) => inWd(x) && f.overrides.some((o) => o.ours && o.name === posix.basename(x)));
  if (main && inWd(main) && DEFAULT_MAIN.includes(posix.basename(main)) && restIsOurs && !foreign && f.envComposeFile === undefined && f.overrides.length <= 1) {
    const name = oursThere?.name ?? (posix.basename(main).startsWith('compose.') ? 'compose.override.yaml' : 'docker-compose.override.yml');
    return { kind: 'override', overridePath: posix.join(wd, name) };
  }
  const overridePath = posix.join(posix.dirname(main ?? posix.join(wd, 'x')), OVERRIDE_NAME);
  const composeFile = composeFileValue(f.configFiles, f.workingDir, overridePath, f.pathSeparator || ':');
  if (!composeFile) return { error: `a compose file name (${[...f.configFiles, overridePath].join(', ')}) has characters COMPOSE_FILE cannot hold` };
  return { kind: 'env', overridePath, composeFile };
}
