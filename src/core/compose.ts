// Compose mode, pure parts: which compose CLI drives a project, and the files and scripts releaseflow uses on the host.
import { posix } from 'node:path';
import { stringify } from 'yaml';
import { shJoin, shQuote } from './quote.ts';

/** The pinned override file releaseflow writes beside the project's compose file. */
export const OVERRIDE_NAME = 'docker-compose.releaseflow.yml';

/** What compose CLIs a host has: `docker compose` (plugin, v2) and `docker-compose` (v1, or a v2 standalone). */
export interface ComposeTools {
  plugin?: string;
  standalone?: string;
  /** The docker engine's version (compose v1 cannot recreate containers on 25 and later). */
  engine?: string;
}

/** The compose CLI releaseflow drives for a project. */
export interface ComposeCli {
  flavor: 'v1' | 'v2';
  argv: string[];
  version: string;
}

/**
 * Print the host's compose CLIs: `plugin VERSION` (docker compose) and `standalone VERSION` (docker-compose),
 * empty when absent. `standalone: 'without-plugin'` asks docker-compose only when there is no plugin: the
 * choice cannot fall on it then (chooseComposeCli), and Debian's docker-compose 1.29 is Python, 0.34
 * CPU-seconds (and as much wall time) for its version alone.
 */
export function buildComposeToolsScript(sudo = false, standalone: 'always' | 'without-plugin' = 'always'): string {
  const pre = sudo ? 'sudo -n ' : '';
  const ask = `rf_cs=$(${pre}docker-compose version --short 2>/dev/null)`;
  return [
    `rf_cp=$(${pre}docker compose version --short 2>/dev/null); rf_cs=''`,
    standalone === 'always' ? ask : `[ -n "$rf_cp" ] || ${ask}`,
    `printf 'plugin %s\\nstandalone %s\\nengine %s\\n' "$rf_cp" "$rf_cs" "$(${pre}docker version --format '{{.Server.Version}}' 2>/dev/null)"`,
  ].join('\n');
}

/** Major version of a compose version string (`2.26.1-4` → 2, `v2.29.0` → 2, `1.29.2` → 1); undefined when unknown. */
export function majorOf(version: string | undefined): number | undefined {
  const m = /^v?(\d+)\./.exec(version?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

/** One line for humans: `docker compose 2.26.1 (v2)`. */
export function describeCli(cli: ComposeCli): string {
  return `${cli.argv.join(' ')} ${cli.version} (${cli.flavor})`;
}

/**
 * Pick the CLI for a project: the same major version that created its containers (the
 * `com.docker.compose.version` label), because v1 and v2 hash a service's configuration
 * differently and the other one would recreate every container on its first `up`.
 */
export function chooseComposeCli(tools: ComposeTools, labelVersion: string | undefined, sudo = false): { cli?: ComposeCli; warning?: string; refused?: string } {
  const pre = sudo ? ['sudo', '-n'] : [];
  const found: ComposeCli[] = [];
  if (tools.plugin) found.push({ flavor: 'v2', argv: [...pre, 'docker', 'compose'], version: tools.plugin });
  if (tools.standalone) found.push({ flavor: (majorOf(tools.standalone) ?? 1) >= 2 ? 'v2' : 'v1', argv: [...pre, 'docker-compose'], version: tools.standalone });
  if (found.length === 0) return {};
  const want = majorOf(labelVersion);
  const same = found.find((c) => (c.flavor === 'v2' ? 2 : 1) === want);
  const pick = same ?? found[0]!;
  // docker-compose 1.29 reads the image's ContainerConfig, which Docker 25+ no longer returns: its recreate
  // (and so a release's rollback) fails with KeyError 'ContainerConfig' (docker/compose#11742; measured on 26.1 and 28.5)
  if (pick.flavor === 'v1' && (majorOf(tools.engine) ?? 0) >= 25) {
    return { refused: `${describeCli(pick)} cannot recreate containers on Docker ${tools.engine} (it fails with KeyError 'ContainerConfig', docker/compose#11742, and so would a rollback through it); recreate the project once with compose v2 (docker compose up -d --force-recreate) so that releases use v2` };
  }
  if (same || want === undefined) return { cli: pick };
  const cli = found[0]!;
  return {
    cli,
    warning: `the containers were created by compose ${labelVersion}, the host has only ${describeCli(cli)}; it hashes configurations differently, so its first up recreates the project's other services too when an operator runs it`,
  };
}

/** The name a compose file goes by in COMPOSE_FILE: relative to the working dir when it sits there. */
export function composeFileEntry(file: string, workingDir: string): string {
  if (!posix.isAbsolute(file) || !workingDir) return file;
  return posix.dirname(file) === posix.normalize(workingDir) ? posix.basename(file) : file;
}

const SAFE_PATH = /^[A-Za-z0-9_@%+=,./-]+$/;

/** COMPOSE_FILE for the project: the files its containers were created with, then the override; undefined when a name cannot go there. */
export function composeFileValue(labelFiles: readonly string[], workingDir: string, overridePath: string, separator = ':'): string | undefined {
  const entries: string[] = [];
  for (const f of [...labelFiles, overridePath]) {
    const e = composeFileEntry(f, workingDir);
    if (!SAFE_PATH.test(e) || e.includes(separator)) return undefined;
    const abs = posix.isAbsolute(e) ? e : posix.join(workingDir, e);
    if (!entries.some((x) => (posix.isAbsolute(x) ? x : posix.join(workingDir, x)) === abs)) entries.push(e);
  }
  return entries.join(separator);
}

/** The override file: `image:` of each released service, with the main file's `version:` (compose v1 requires it to match). */
export function renderOverride(services: readonly { service: string; image: string }[], opts: { version?: string; releaseId: string; from: string }): string {
  const doc: Record<string, unknown> = {};
  if (opts.version) doc.version = opts.version;
  doc.services = Object.fromEntries(services.map((s) => [s.service, { image: s.image.replace(/\$/g, '$$$$') }]));
  return [
    `# Written by releaseflow, release ${opts.releaseId} (images from ${opts.from}). It pins the image of each`,
    '# released service; compose loads it (as the project\'s override file, or through COMPOSE_FILE in .env), so a',
    '# plain `docker compose up -d` keeps running these images. The next release rewrites it; `releaseflow rollback` restores the previous one.',
    stringify(doc, { lineWidth: 0, version: '1.1' }).trimEnd(),
    '',
  ].join('\n');
}

/** The marker line releaseflow puts above COMPOSE_FILE in the project's .env. */
export const ENV_MARKER = '# releaseflow: COMPOSE_FILE pins the released images (docker-compose.releaseflow.yml); see docs/compose.md';

/**
 * Script that sets COMPOSE_FILE in the project's .env, keeping every other line (secrets stay on the
 * host: the file is never read into releaseflow) and the file's mode; creates the .env when missing.
 */
export function buildEnvEditScript(envPath: string, composeFile: string): string {
  const f = shQuote(envPath);
  const t = shQuote(`${envPath}.releaseflow-tmp`);
  // literal tabs inside the bracket expressions: grep -E has no \t
  const drop = shQuote(`^[ \t]*(export[ \t]+)?COMPOSE_FILE[ \t]*=|^# releaseflow: `);
  return [
    'set -e',
    `if [ -f ${f} ]; then cp -p ${f} ${t}; { grep -v -E ${drop} ${f} || [ $? -eq 1 ]; } > ${t}; else umask 022; : > ${t}; fi`,
    `printf '%s\\n' ${shQuote(ENV_MARKER)} ${shQuote(`COMPOSE_FILE=${composeFile}`)} >> ${t}`,
    `mv ${t} ${f}`,
  ].join('\n');
}

/** A file releaseflow changes on the host, and where its previous content is kept in the release folder. */
export interface ManagedFile {
  path: string;
  snapshot: string;
}

/** Script that copies each managed file into the release folder, or notes that it did not exist. */
export function buildSnapshotFilesScript(files: readonly ManagedFile[]): string {
  return [
    'set -e',
    ...files.map((m) => `if [ -e ${shQuote(m.path)} ]; then cp -p ${shQuote(m.path)} ${shQuote(m.snapshot)}; else : > ${shQuote(`${m.snapshot}.absent`)}; fi`),
  ].join('\n');
}

/** Script that puts each managed file back as the snapshot has it (removed when it did not exist); no snapshot: left alone. */
export function buildRestoreFilesScript(files: readonly ManagedFile[]): string {
  return [
    'set -e',
    ...files.map((m) => {
      const [p, s] = [shQuote(m.path), shQuote(m.snapshot)];
      return `if [ -f ${s} ]; then cp -p ${s} ${p}.releaseflow-tmp && mv ${p}.releaseflow-tmp ${p} && echo ${shQuote(`restored ${m.path}`)}; elif [ -f ${shQuote(`${m.snapshot}.absent`)} ]; then rm -f ${p} && echo ${shQuote(`removed ${m.path} (it did not exist before)`)}; else echo ${shQuote(`no snapshot of ${m.path}: left as it is`)}; fi`;
    }),
  ].join('\n');
}

/** What a compose command needs to run as the operator's plain `docker compose` would: the working dir and no COMPOSE_* from our session. */
export function inProject(workingDir: string): string {
  return `cd ${shQuote(workingDir)} && unset COMPOSE_FILE COMPOSE_PATH_SEPARATOR COMPOSE_PROJECT_NAME`;
}

/**
 * How `up` recreates only the released services. v1: `--no-deps`. v2: without it, because from 2.26 until
 * docker/compose#12072 `--no-deps` drops depends_on before hashing, so a later plain `up -d` recreates
 * the service again (measured: docs/compose.md). Dependencies whose configuration is unchanged are left
 * alone (the pre-check makes sure of that); a stopped one is started, as compose's own `up SERVICE` does.
 */
export function recreateFlags(cli: ComposeCli): string[] {
  return cli.flavor === 'v1' ? ['--no-deps', '--no-build'] : ['--no-build'];
}

/**
 * `up -d [--no-deps] --no-build SERVICES` in the project's working dir: only these services are recreated.
 * `files`: for a restore under the COMPOSE_FILE pin. The restored .env may set no COMPOSE_FILE (the
 * operator used `-f`); then the files the containers were created with are passed as `-f`.
 */
export function buildComposeUpScript(cli: ComposeCli, workingDir: string, project: string, services: readonly string[], files?: { envPath: string; chain: readonly string[] }): string {
  const up = shJoin([...cli.argv, '-p', project]);
  const rest = shJoin(['up', '-d', ...recreateFlags(cli), ...services]);
  if (!files?.chain.length) return `${inProject(workingDir)} && ${up} ${rest}`;
  const set = `set -- ${shJoin(files.chain.flatMap((f) => ['-f', f]))}`;
  const has = `grep -q -E ${shQuote(ENV_COMPOSE_FILE)} ${shQuote(files.envPath)} 2>/dev/null`;
  return `${inProject(workingDir)} && set -- && { ${has} || ${set}; } && ${up} "$@" ${rest}`;
}

/** A COMPOSE_FILE line in a .env (literal tabs in the brackets: grep -E has no \t). */
const ENV_COMPOSE_FILE = '^[ \t]*(export[ \t]+)?COMPOSE_FILE[ \t]*=';

/** Checks that each container runs the expected image ID and still belongs to the compose project. */
export function buildVerifyScript(project: string, containers: readonly { container: string; imageId: string }[]): string {
  const lines: string[] = [];
  for (const c of containers) {
    const img = shJoin(['docker', 'inspect', '-f', '{{.Image}}', c.container]);
    const proj = shJoin(['docker', 'inspect', '-f', '{{index .Config.Labels "com.docker.compose.project"}}', c.container]);
    lines.push(`test "$(${img})" = ${shQuote(c.imageId)} || { echo ${shQuote(`${c.container} does not run image ${c.imageId}`)} >&2; exit 1; }`);
    lines.push(`test "$(${proj})" = ${shQuote(project)} || { echo ${shQuote(`${c.container} is not in compose project ${project}`)} >&2; exit 1; }`);
  }
  return lines.join('\n');
}
