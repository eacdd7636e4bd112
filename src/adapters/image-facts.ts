// Facts for an image transfer, one SSH round trip per host: docker version and image store,
// data-root, free disk, compressors, and the images with their layer lists.
import { randomBytes } from 'node:crypto';
import { CommandError } from '../core/errors.ts';
import { imageStoreOf } from '../core/host-facts.ts';
import { type LayeredImage, parseImageLines } from '../core/layers.ts';
import { tail } from '../core/noise.ts';
import { shJoin, shQuote } from '../core/quote.ts';
import type { SshHost } from './ssh.ts';

/** One filesystem as `df -P` reports it. */
export interface DiskFacts {
  path: string;
  mount?: string;
  free?: number;
}

/** What one host tells us for a transfer. */
export interface ImageHostFacts {
  host: string;
  dockerVersion?: string;
  store: 'classic' | 'containerd';
  /** docker's storage driver (overlay2, vfs, …; on the containerd store the snapshotter's name). */
  driver?: string;
  dataRoot?: DiskFacts;
  /** Where our temporary directory goes: docker's data-root tmp when writable, else $TMPDIR or /tmp. */
  tmpBase?: DiskFacts;
  tools: string[];
  /** Source: the one image asked for (if present). Target: every image it has. */
  images: LayeredImage[];
}

/** The prelude that makes `d` run docker, through `sudo -n` when the host is configured so. */
export function dockerFn(sudo: boolean): string {
  return sudo ? 'd() { sudo -n docker "$@"; }' : 'd() { docker "$@"; }';
}

/** The go template of an image's identity line: `<marker> got <id> <size> <created> <os/arch> <diffIDs…>`. */
export function identityFormat(marker: string, key: string): string {
  return `${marker} ${key} {{.Id}} {{.Size}} {{.Created}} {{.Os}}/{{.Architecture}}{{with index . "Variant"}}/{{.}}{{end}} {{range .RootFS.Layers}}{{.}} {{end}}`;
}

/** The go template of an image's configuration line: `<marker> cfg <id> <Config JSON>`. */
export function configFormat(marker: string): string {
  return `${marker} cfg {{.Id}} {{json .Config}}`;
}

/** The facts script; `imageId` set: inspect only that image (source), else every image (target). */
export function buildFactsScript(marker: string, sudo: boolean, imageId?: string): string {
  const m = shQuote(marker);
  const fmt = identityFormat(marker, 'image');
  const cfg = configFormat(marker);
  const info = `${marker} version {{.ServerVersion}}{{"\\n"}}${marker} root {{.DockerRootDir}}{{"\\n"}}${marker} driver {{json .DriverStatus}}{{"\\n"}}${marker} drivername {{.Driver}}`;
  const images = imageId
    ? `d ${shJoin(['image', 'inspect', '-f', fmt, imageId])} 2>/dev/null; d ${shJoin(['image', 'inspect', '-f', cfg, imageId])} 2>/dev/null`
    : // $ids is split on purpose: image IDs (sha256:hex) contain no shell-special characters
      `ids=$(d image ls -aq --no-trunc 2>/dev/null | sort -u); [ -z "$ids" ] || { d ${shJoin(['image', 'inspect', '-f', fmt])} $ids 2>/dev/null; d ${shJoin(['image', 'inspect', '-f', cfg])} $ids 2>/dev/null; }`;
  return [
    dockerFn(sudo),
    `d ${shJoin(['info', '--format', info])} 2>/dev/null`,
    `root=$(d ${shJoin(['info', '--format', '{{.DockerRootDir}}'])} 2>/dev/null)`,
    `tb="$root/tmp"; if [ -z "$root" ] || [ ! -d "$tb" ] || [ ! -w "$tb" ]; then tb=\${TMPDIR:-/tmp}; fi`,
    `printf '%s tmp %s\\n' ${m} "$tb"`,
    `dfl() { df -Pk "$2" 2>/dev/null | tail -n 1 | while IFS= read -r l; do printf '%s %s %s\\n' ${m} "$1" "$l"; done; }`,
    `if [ -n "$root" ]; then dfl dfroot "$root"; fi; dfl dftmp "$tb"`,
    `for t in zstd pigz gzip tar-split; do command -v "$t" >/dev/null 2>&1 && printf '%s tool %s\\n' ${m} "$t"; done`,
    images,
    'true',
  ].join('\n');
}

function parseDf(line: string | undefined, path: string | undefined): DiskFacts | undefined {
  if (!path) return undefined;
  const f = (line ?? '').trim().split(/\s+/);
  const avail = f[3];
  return { path, mount: f.length >= 6 ? f.slice(5).join(' ') : undefined, free: avail && /^\d+$/.test(avail) ? Number(avail) * 1024 : undefined };
}

/** Turn the facts script's output into facts (pure). */
export function parseFacts(host: string, stdout: string, marker: string): ImageHostFacts {
  const values = new Map<string, string[]>();
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.startsWith(`${marker} `)) continue;
    const rest = line.slice(marker.length + 1);
    const sp = rest.indexOf(' ');
    const key = sp < 0 ? rest : rest.slice(0, sp);
    values.set(key, [...(values.get(key) ?? []), sp < 0 ? '' : rest.slice(sp + 1)]);
  }
  const one = (k: string) => values.get(k)?.[0]?.trim() || undefined;
  const root = one('root');
  const tmp = one('tmp');
  return {
    host,
    dockerVersion: one('version'),
    store: imageStoreOf(one('driver') ?? ''),
    driver: one('drivername'),
    dataRoot: parseDf(one('dfroot'), root),
    tmpBase: parseDf(one('dftmp'), tmp),
    tools: values.get('tool') ?? [],
    images: parseImageLines((values.get('image') ?? []).join('\n'), (values.get('cfg') ?? []).join('\n')),
  };
}

/** Read a host's transfer facts (read-only). With `imageId`, only that image is inspected. */
export async function readImageFacts(host: SshHost, opts: { imageId?: string; signal?: AbortSignal } = {}): Promise<ImageHostFacts> {
  const marker = `@@rfx-${randomBytes(6).toString('hex')}`;
  const r = await host.run({ script: buildFactsScript(marker, host.config.sudo, opts.imageId) }, { signal: opts.signal });
  const facts = parseFacts(host.name, r.stdout, marker);
  if (!facts.dockerVersion) {
    throw new CommandError(`docker is not usable on ${host.name}: docker info gave no server version`, r.code, r.stdout, r.stderr, {
      host: host.name,
      command: 'docker info',
      output: tail(r.stderr || r.stdout, 10),
      fix: `run releaseflow doctor: is dockerd running on ${host.name}, and may the SSH user use it?`,
    });
  }
  return facts;
}

/** Where PROD's `docker load` writes, read right before it starts: the data-root, and its `tmp` where the daemon stages the archive. */
export interface LoadDisks {
  root?: DiskFacts;
  staging?: DiskFacts;
}

/** The script that reads free space of the data-root and of its tmp (read-only; a path df cannot read is left out). */
export function buildLoadDisksScript(marker: string, dataRoot: string): string {
  const m = shQuote(marker);
  const dfl = (key: string, path: string) => `df -Pk ${shQuote(path)} 2>/dev/null | tail -n 1 | while IFS= read -r l; do printf '%s %s %s\\n' ${m} ${key} "$l"; done`;
  return [dfl('dfroot', dataRoot), dfl('dfstage', `${dataRoot.replace(/\/+$/, '')}/tmp`), 'true'].join('\n');
}

/** Parse buildLoadDisksScript's output (pure). */
export function parseLoadDisks(stdout: string, marker: string, dataRoot: string): LoadDisks {
  const line = (key: string) => stdout.split('\n').find((l) => l.startsWith(`${marker} ${key} `))?.slice(marker.length + key.length + 2);
  const root = line('dfroot');
  const stage = line('dfstage');
  return { root: root === undefined ? undefined : parseDf(root, dataRoot), staging: stage === undefined ? undefined : parseDf(stage, `${dataRoot.replace(/\/+$/, '')}/tmp`) };
}

/** Read PROD's free space where docker load writes, now (one round trip). */
export async function readLoadDisks(host: SshHost, dataRoot: string, signal?: AbortSignal): Promise<LoadDisks> {
  const marker = `@@rfx-${randomBytes(6).toString('hex')}`;
  const r = await host.run({ script: buildLoadDisksScript(marker, dataRoot) }, { signal, timeoutMs: Math.min(30_000, host.settings.commandTimeoutMs) });
  return parseLoadDisks(r.stdout, marker, dataRoot);
}
