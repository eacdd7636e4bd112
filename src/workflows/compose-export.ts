// export-compose: read docker-run containers on a host, render the equivalent compose file, optionally write it there.
import { posix } from 'node:path';
import type { SshHost } from '../adapters/ssh.ts';
import { buildComposeToolsScript, majorOf } from '../core/compose.ts';
import { type ExportContainer, renderComposeFile } from '../core/compose-export.ts';
import { ExitCode, ReleaseflowError } from '../core/errors.ts';
import { parseImageInspect, parseInspect } from '../core/inspect.ts';
import { detectMode } from '../core/mode.ts';
import { buildWriteFileScript, WRITE_EXISTS } from '../core/file-scripts.ts';
import { toRunSpec } from '../core/runspec.ts';
import { inspectContainers, inspectImages, readDaemonContext } from '../adapters/inspect.ts';

export interface ExportComposeOptions {
  app: string;
  secrets: readonly string[];
  reveal: boolean;
  /** Compose file format; default: what the host's compose reads (v2 unless it has only docker-compose 1.x). */
  format?: 'v1' | 'v2';
  /** A stack file for `docker stack deploy` (always the v2 rendering, turned into the 3.8 stack format). */
  stack?: boolean;
}

export interface ExportResult {
  text: string;
  warnings: string[];
  hasSecrets: boolean;
  format: 'v1' | 'v2';
}

/** Which file format the host's compose reads best. */
async function hostFormat(host: SshHost): Promise<'v1' | 'v2'> {
  const r = await host.run({ script: buildComposeToolsScript() });
  const plugin = /^plugin (\S+)/m.exec(r.stdout)?.[1];
  const standalone = /^standalone (\S+)/m.exec(r.stdout)?.[1];
  return !plugin && majorOf(standalone) === 1 ? 'v1' : 'v2';
}

/** Render the compose file for containers on a host (reads only). */
export async function exportCompose(host: SshHost, names: readonly string[], opts: ExportComposeOptions): Promise<ExportResult> {
  await host.connect();
  const [found, ctx, format] = await Promise.all([inspectContainers<{ Name: string; Image: string; Config: { Image: string; Labels?: Record<string, string> | null } }>(host, names), readDaemonContext(host), opts.stack ? Promise.resolve('v2' as const) : opts.format ? Promise.resolve(opts.format) : hostFormat(host)]);
  const missing = names.filter((n) => !found.get(n));
  if (missing.length > 0) throw new ReleaseflowError(`container ${missing.join(', ')} not found on ${host.name}`, { host: host.name, fix: `list containers with: ssh ${host.config.address} docker ps -a` }, ExitCode.usage);
  const images = await inspectImages(host, [...found.values()].map((c) => c!.Image));
  const warnings: string[] = [];
  const containers: ExportContainer[] = names.map((n) => {
    const c = found.get(n)!;
    if (detectMode(c.Config.Labels).mode === 'compose') warnings.push(`${n} already runs under docker compose; its labels (com.docker.compose.*) are left out of the export`);
    const { spec, warnings: w } = toRunSpec(parseInspect(c), parseImageInspect(images.get(c.Image) ?? { Id: c.Image }), { image: c.Config.Image, daemon: ctx.daemon, names: ctx.names });
    for (const k of Object.keys(spec.labels)) if (k.startsWith('com.docker.compose.')) delete spec.labels[k];
    warnings.push(...w.filter((x) => !x.includes('com.docker.compose')).map((x) => `${n}: ${x}`));
    return { name: n, image: c.Config.Image, spec };
  });
  const r = renderComposeFile(containers, { app: opts.app, format, secrets: opts.secrets, reveal: opts.reveal, stack: opts.stack });
  return { ...r, warnings: [...warnings, ...r.warnings], format };
}

/** Write the compose file on the host over SSH stdin; refuses to replace an existing file unless `force`. */
export async function writeComposeFile(host: SshHost, path: string, text: string, opts: { force: boolean; secret: boolean }): Promise<void> {
  if (!posix.isAbsolute(path)) throw new ReleaseflowError(`--write ${path}: the path on ${host.name} must be absolute`, { fix: 'pass an absolute path, or --write alone for /opt/<app>/docker-compose.yml' }, ExitCode.usage);
  const r = await host.run({ script: buildWriteFileScript(path, opts) }, { stdin: text });
  if (r.code === WRITE_EXISTS) throw new ReleaseflowError(`${path} already exists on ${host.name}; not overwritten`, { host: host.name, fix: 'pass --force to replace it (the old file is not kept), or --write another path' }, ExitCode.usage);
  if (r.code !== 0) throw new ReleaseflowError(`could not write ${path} on ${host.name} (exit ${r.code}): ${r.stderr.trim()}`, { host: host.name, fix: `check that the SSH user may write ${posix.dirname(path)}` });
}
