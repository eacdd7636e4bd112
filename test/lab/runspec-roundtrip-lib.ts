// Round-trip machinery for runspec lab tests: create → inspect → toRunSpec → argv → recreate → compare.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDaemonInfo, parseImageInspect, parseInspect } from '../../src/core/inspect.ts';
import { networkConnectArgv, renderEnvFile, runSpecToArgv, toRunSpec } from '../../src/core/runspec.ts';
import type { ToRunSpecOptions } from '../../src/core/runspec.ts';
import { labInfo } from './lab.ts';

type J = Record<string, any>;
export const HOST = 'test';
export const BASE = 'ragflowauth-base:1';
export const TMP = mkdtempSync(join(tmpdir(), 'rt-runspec-'));

/** docker on the lab's test host through its admin socket; `cli` (or RT_CLI for all) picks another docker binary. */
export function dk(args: string[], o: { cli?: string; input?: string } = {}): string {
  const sock = labInfo()!.hosts[HOST]!.dockerSock;
  return execFileSync(o.cli ?? process.env.RT_CLI ?? 'docker', ['-H', sock, ...args], {
    encoding: 'utf8',
    input: o.input,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' },
  });
}

export function inspect(name: string): J {
  return JSON.parse(dk(['inspect', name]))[0];
}

/** Remove containers by exact name, with their anonymous volumes; missing ones are fine. */
export function rm(...names: string[]): void {
  for (const n of names) {
    try {
      dk(['rm', '-f', '-v', n]);
    } catch {}
  }
}

export interface Case {
  name: string;
  /** docker create options (before the image). */
  args: string[];
  image?: string;
  /** Arguments after the image; default `sleep 3600`; null = none (the image's CMD). */
  cmd?: string[] | null;
  start?: boolean;
  /** Run after the original is created (e.g. docker network connect). */
  after?: (name: string) => void;
  envFile?: boolean;
  anon?: 'reuse' | 'new';
  /** The docker CLI binary that creates both containers (default: `docker` in PATH). */
  cli?: string;
  /** Warnings that must appear (each regexp matches one warning). */
  warns?: RegExp[];
  /** Compare only the network endpoints (for a container whose NetworkMode no longer matches its networks). */
  compare?: 'networks-only';
}

/** Normalise a container inspect to its requested configuration (daemon-assigned runtime values removed). */
export function requested(x: J): J {
  const id12 = String(x.Id).slice(0, 12);
  const c = { ...x.Config };
  if (c.Hostname === id12) c.Hostname = '<id>';
  for (const k of ['AttachStdin', 'AttachStdout', 'AttachStderr', 'StdinOnce']) delete c[k];
  c.Env = [...(c.Env ?? [])].sort();
  const h = { ...x.HostConfig };
  delete h.ContainerIDFile;
  delete h.ConsoleSize;
  if (h.NetworkMode === 'default') h.NetworkMode = 'bridge';
  h.Binds = [...(h.Binds ?? [])].sort();
  h.SecurityOpt = [...(h.SecurityOpt ?? [])].sort(); // order has no meaning; the seccomp profile comes back last
  const nets: J = {};
  for (const [n, ep] of Object.entries<J>(x.NetworkSettings?.Networks ?? {})) {
    nets[n] = {
      IPAMConfig: ep.IPAMConfig,
      Links: ep.Links,
      Aliases: (ep.Aliases ?? []).filter((a: string) => a !== id12 && a !== x.Config.Hostname).sort(),
      DriverOpts: ep.DriverOpts,
    };
  }
  const mounts = (x.Mounts ?? [])
    .map((m: J) => ({ Type: m.Type, Name: m.Type === 'volume' ? m.Name : undefined, Source: m.Type === 'bind' ? m.Source : undefined, Destination: m.Destination, RW: m.RW }))
    .sort((a: J, b: J) => String(a.Destination).localeCompare(String(b.Destination)));
  return { Config: c, HostConfig: h, Networks: nets, Mounts: mounts };
}

const empty = (v: unknown) =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);

/** Field-by-field differences (paths), empty containers and null treated alike. */
export function diff(a: unknown, b: unknown, path = ''): string[] {
  if (empty(a) && empty(b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${path}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`];
    return a.flatMap((x, i) => diff(x, b[i], `${path}[${i}]`));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diff((a as J)[k], (b as J)[k], `${path}.${k}`));
  }
  return a === b ? [] : [`${path}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`];
}

/** Names of every container on the host, by full ID (for container:<ID> references). */
export function names(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of dk(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}}']).trim().split('\n')) {
    const [id, name] = line.split(' ');
    if (id && name) out[id] = name;
  }
  return out;
}

export function daemon(): ToRunSpecOptions['daemon'] {
  return parseDaemonInfo(JSON.parse(dk(['info', '--format', '{{json .}}'])));
}

/** Build the spec of an existing container and recreate it under the same name; returns everything for checks. */
export function recreate(name: string, image: string, o: { envFile?: boolean; anon?: 'reuse' | 'new'; cli?: string; start: boolean }) {
  const before = inspect(name);
  const facts = parseInspect([before]);
  const oldImage = parseImageInspect(JSON.parse(dk(['image', 'inspect', facts.Image])));
  const { spec, warnings } = toRunSpec(facts, oldImage, { image, daemon: daemon(), names: names(), anonymousVolumes: o.anon });
  const envFile = o.envFile ? join(TMP, `${name}.env`) : undefined;
  const seccompFile = spec.seccompProfile !== undefined ? join(TMP, `${name}.seccomp.json`) : undefined;
  if (seccompFile) writeFileSync(seccompFile, spec.seccompProfile!);
  const out = runSpecToArgv(spec, { mode: 'create', name, image, envFile, apiVersion: '1.41', seccompFile });
  if (envFile) writeFileSync(envFile, renderEnvFile(out.env), { mode: 0o600 });
  dk(['rename', name, `${name}-old`]);
  // as the release's swap does: the retired container's --cidfile goes before the create writes it again
  if (spec.cidfile) rmSync(spec.cidfile, { force: true });
  if (before.State.Running) dk(['kill', `${name}-old`]);
  dk(out.argv.slice(1), { cli: o.cli });
  for (const n of out.extraNetworks) dk(networkConnectArgv(n, name).slice(1), { cli: o.cli });
  if (o.start) dk(['start', name]);
  return { before, after: inspect(name), spec, warnings, argv: out.argv, oldImage };
}

/** The original's requested config as the recreated container should show it, under the anonymous-volume policy. */
export function expected(before: J, imageVolumes: Record<string, unknown>, anon: 'reuse' | 'new'): J {
  const want = requested(before);
  if (anon === 'new') return want;
  const covered = new Set([...(before.HostConfig.Binds ?? []).map((b: string) => b.split(':')[1] ?? b), ...(before.HostConfig.Mounts ?? []).map((m: J) => m.Target), ...Object.keys(before.HostConfig.Tmpfs ?? {})]);
  const vols = { ...(want.Config.Volumes ?? {}) };
  for (const dst of Object.keys(before.Config.Volumes ?? {})) {
    if (covered.has(dst)) continue;
    const m = (before.Mounts ?? []).find((x: J) => x.Type === 'volume' && x.Destination === dst);
    if (!m) continue;
    want.HostConfig.Binds.push(`${m.Name}:${dst}`);
    if (!(dst in imageVolumes)) delete vols[dst];
  }
  want.HostConfig.Binds.sort();
  want.Config.Volumes = vols;
  // anonymous --mount type=volume entries get the volume's name as source
  want.HostConfig.Mounts = (before.HostConfig.Mounts ?? []).map((m: J) => {
    if (m.Type !== 'volume' || m.Source) return m;
    const v = (before.Mounts ?? []).find((x: J) => x.Type === 'volume' && x.Destination === m.Target);
    return v ? { ...m, Source: v.Name } : m;
  });
  return want;
}

/** Build an image from a Dockerfile on stdin (classic builder), unless the tag exists. */
export function ensureImage(tag: string, dockerfile: string): void {
  try {
    dk(['image', 'inspect', tag]);
  } catch {
    dk(['build', '-q', '-t', tag, '-'], { input: dockerfile });
  }
}
