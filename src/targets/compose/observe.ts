// Observe compose projects on the target (read-only): compose CLIs, the project's files, its .env; decide compose or run mode.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { SshHost } from '../../adapters/ssh.ts';
import { buildComposeToolsScript, chooseComposeCli, type ComposeTools, majorOf } from '../../core/compose.ts';
import { choosePin, DEFAULT_OVERRIDES, OVERRIDE_MARKER } from '../../core/compose-pin.ts';
import type { ComposeObservation, ComposeProjectTarget } from './plan.ts';
import { buildFileStatusScript } from '../../core/file-scripts.ts';
import { type ComposeMode, composeFilePaths, detectMode } from '../../core/mode.ts';
import { shJoin, shQuote } from '../../core/quote.ts';
import { parseSections, section } from '../../core/sections.ts';

/** What one compose project looks like on the host. */
export interface ComposeProjectFacts {
  files: { path: string; status: 'readable' | 'unreadable' | 'missing' }[];
  envExists: boolean;
  /** COMPOSE_PATH_SEPARATOR from the .env, when set there. */
  pathSeparator?: string;
  /** COMPOSE_FILE from the .env, when set there. */
  envComposeFile?: string;
  fileVersion?: string;
  /** Compose's default override files in the working dir, and whether releaseflow wrote them. */
  overrides: { name: string; ours: boolean }[];
}

interface Project {
  mode: ComposeMode;
  labels: Record<string, string>;
  paths: string[];
  envPath: string;
  containers: { name: string; service: string }[];
}

const ENV_VARS = `^[ \t]*(export[ \t]+)?COMPOSE_(FILE|PATH_SEPARATOR)[ \t]*=`;

/** The env file of a project: v2's environment_file label when set, else `.env` in the working dir. */
export function projectEnvPath(mode: ComposeMode, labels: Record<string, string>): string {
  const fromLabel = labels['com.docker.compose.project.environment_file']?.split(',')[0]?.trim();
  return fromLabel || posix.join(mode.workingDir || '.', '.env');
}

/** The one-round-trip script: compose CLIs, then per project its files, .env COMPOSE_* lines and `version:`. */
export function buildComposeObserveScript(projects: readonly { paths: string[]; envPath: string; workingDir?: string; labelVersion?: string }[], sudo: boolean, marker: string): string {
  // docker-compose matters only for a project v2 did not create, or on a host without the plugin
  const v2Only = projects.every((p) => (majorOf(p.labelVersion) ?? 0) >= 2);
  const out = [section(marker, 'tools', buildComposeToolsScript(sudo, v2Only ? 'without-plugin' : 'always'))];
  projects.forEach((p, i) => {
    out.push(section(marker, `files${i}`, buildFileStatusScript(p.paths)));
    const env = shQuote(p.envPath);
    out.push(section(marker, `env${i}`, `if [ -f ${env} ]; then echo present; grep -E ${shQuote(ENV_VARS)} ${env} || true; else echo absent; fi`));
    const first = shQuote(p.paths[0] ?? '/dev/null');
    out.push(section(marker, `version${i}`, `[ -r ${first} ] && sed -n -E 's/^version:[ \t]*//p' ${first} | head -n 1`));
    const wd = p.workingDir || posix.dirname(p.paths[0] ?? '/nonexistent/x');
    const names = shJoin(DEFAULT_OVERRIDES.map((n) => posix.join(wd, n)));
    out.push(section(marker, `ovr${i}`, `for f in ${names}; do if [ -e "$f" ]; then printf '%s %s\\n' "$(head -n 1 "$f" | grep -c -F ${shQuote(OVERRIDE_MARKER)})" "$f"; fi; done`));
  });
  return out.join('\n');
}

const unquote = (v: string) => v.replace(/\s+#.*$/, '').trim().replace(/^(["'])(.*)\1$/, '$2');

/** Parse the script's output (pure). */
export function parseComposeObserveOutput(stdout: string, marker: string, projects: readonly { paths: string[] }[]): { tools: ComposeTools; projects: ComposeProjectFacts[] } {
  const s = parseSections(stdout, marker);
  const tools: ComposeTools = {};
  for (const line of (s.get('tools')?.text ?? '').split('\n')) {
    const [k, v] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1).trim()];
    if (v && (k === 'plugin' || k === 'standalone' || k === 'engine')) tools[k] = v.replace(/^v/, '');
  }
  const facts = projects.map((p, i) => {
    const lines = (s.get(`files${i}`)?.text ?? '').trim().split('\n');
    const files = p.paths.map((path, j) => ({ path, status: (['readable', 'unreadable'].includes(lines[j] ?? '') ? lines[j] : 'missing') as 'readable' | 'unreadable' | 'missing' }));
    const env = (s.get(`env${i}`)?.text ?? '').split('\n');
    const overrides = (s.get(`ovr${i}`)?.text ?? '')
      .split('\n')
      .map((l) => /^(\d+) (.+)$/.exec(l.trim()))
      .filter((m) => m !== null)
      .map((m) => ({ name: posix.basename(m[2]!), ours: m[1] !== '0' }));
    const f: ComposeProjectFacts = { files, envExists: env[0]?.trim() === 'present', overrides };
    for (const l of env.slice(1)) {
      const m = /^\s*(?:export\s+)?(COMPOSE_FILE|COMPOSE_PATH_SEPARATOR)\s*=(.*)$/.exec(l);
      if (m?.[1] === 'COMPOSE_FILE') f.envComposeFile = unquote(m[2] ?? '');
      if (m?.[1] === 'COMPOSE_PATH_SEPARATOR') f.pathSeparator = unquote(m[2] ?? '');
    }
    const version = unquote(s.get(`version${i}`)?.text.trim() ?? '');
    if (version) f.fileVersion = version;
    return f;
  });
  return { tools, projects: facts };
}

/** Group compose-labelled containers into projects (by project name and working dir). */
function groupProjects(targets: Map<string, { Config: { Labels?: Record<string, string> | null } } | undefined>): Project[] {
  const out: Project[] = [];
  for (const [name, t] of targets) {
    const labels = t?.Config.Labels ?? {};
    const mode = detectMode(labels);
    if (mode.mode !== 'compose') continue;
    let p = out.find((x) => x.mode.project === mode.project && x.mode.workingDir === mode.workingDir);
    if (!p) {
      p = { mode, labels, paths: composeFilePaths(mode), envPath: projectEnvPath(mode, labels), containers: [] };
      out.push(p);
    }
    p.containers.push({ name, service: mode.service });
  }
  return out;
}

/**
 * For every container the target runs by compose: can compose mode release it? It can when the
 * labels name a service, a working dir and compose files the SSH user can read, and the host has a
 * compose CLI. Otherwise the container is released in run mode, with a warning in the log.
 */
export async function observeComposeTargets(host: SshHost, targets: Map<string, { Config: { Labels?: Record<string, string> | null } } | undefined>): Promise<ComposeObservation> {
  const obs: ComposeObservation = { targets: new Map(), warnings: [], header: [] };
  const projects = groupProjects(targets);
  if (projects.length === 0) return obs;
  const marker = `@@rf-${randomBytes(6).toString('hex')}`;
  const r = await host.run({ script: buildComposeObserveScript(projects.map((p) => ({ ...p, workingDir: p.mode.workingDir, labelVersion: p.labels['com.docker.compose.version'] })), host.config.sudo, marker) });
  const facts = parseComposeObserveOutput(r.stdout, marker, projects);
  for (const [i, p] of projects.entries()) {
    const f = facts.projects[i]!;
    const names = p.containers.map((c) => c.name).join(', ');
    const composePath = p.paths[0] ?? '';
    const bad = f.files.filter((x) => x.status !== 'readable');
    const state = bad.length ? `; ${bad.map((x) => `${x.path} is ${x.status}`).join(', ')} on ${host.name}` : '';
    obs.header.push(`compose_path: ${p.paths.join(', ') || '(no config_files label)'} (project ${p.mode.project}, working_dir ${p.mode.workingDir || '?'}${state})`, `env_path: ${p.envPath}${f.envExists ? '' : ' (not there yet)'}`);
    const fallback = (why: string) => obs.warnings.push(`${names} on ${host.name}: ${why}; releasing ${p.containers.length > 1 ? 'them' : 'it'} in run mode (docker run) instead`);
    if (p.paths.length === 0 || !p.mode.workingDir) {
      fallback(`the compose labels of project ${p.mode.project} name no config_files or no working_dir`);
      continue;
    }
    if (bad.length > 0) {
      fallback(`the compose labels name ${bad.map((x) => `${x.path}, which is ${x.status}`).join(' and ')} on ${host.name}`);
      continue;
    }
    const unnamed = p.containers.filter((c) => !c.service);
    if (unnamed.length > 0) {
      fallback(`no com.docker.compose.service label on ${unnamed.map((c) => c.name).join(', ')}`);
      continue;
    }
    const choice = chooseComposeCli(facts.tools, p.labels['com.docker.compose.version'], host.config.sudo);
    if (!choice.cli) {
      fallback(choice.refused ?? 'neither docker compose (v2) nor docker-compose (v1) works on the host');
      continue;
    }
    if (choice.warning) obs.warnings.push(`${names} on ${host.name}: ${choice.warning}`);
    const pin = choosePin({ configFiles: p.mode.configFiles, workingDir: p.mode.workingDir, envComposeFile: f.envComposeFile, pathSeparator: f.pathSeparator, overrides: f.overrides });
    if ('error' in pin) {
      fallback(pin.error);
      continue;
    }
    if (pin.kind === 'env' && f.envComposeFile !== undefined && f.envComposeFile !== pin.composeFile) {
      obs.header.push(`COMPOSE_FILE in ${p.envPath} becomes ${pin.composeFile} (was ${f.envComposeFile})`);
    }
    obs.header.push(`pin: ${pin.overridePath}${pin.kind === 'override' ? " (compose's own override file; the .env is not changed)" : ` (listed in COMPOSE_FILE of ${p.envPath})`}`);
    const project: ComposeProjectTarget = {
      project: p.mode.project,
      workingDir: p.mode.workingDir,
      configFiles: p.mode.configFiles,
      composePath,
      envPath: p.envPath,
      overridePath: pin.overridePath,
      cli: choice.cli,
      fileVersion: f.fileVersion,
      pin: pin.kind,
      ...(pin.kind === 'env' ? { composeFile: pin.composeFile } : {}),
    };
    for (const c of p.containers) obs.targets.set(c.name, { service: c.service, project });
  }
  return obs;
}
