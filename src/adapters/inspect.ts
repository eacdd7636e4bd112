// Read-only docker inspection over SSH: containers and images by name, missing ones reported as absent.
import type { SshHost } from './ssh.ts';
import { parseJsonArray } from '../core/docker-json.ts';
import { CommandError } from '../core/errors.ts';
import { imageStoreOf } from '../core/host-facts.ts';

export { parseJsonArray } from '../core/docker-json.ts';
import { type DaemonFacts, parseDaemonInfo } from '../core/inspect.ts';


/** `docker inspect` of containers; a name not present maps to undefined. */
export async function inspectContainers<T extends { Name: string }>(host: SshHost, names: readonly string[]): Promise<Map<string, T | undefined>> {
  const out = new Map<string, T | undefined>(names.map((n) => [n, undefined]));
  if (names.length === 0) return out;
  const r = await host.run({ argv: ['docker', 'container', 'inspect', ...names] });
  if (r.code !== 0 && !/No such (object|container)/i.test(r.stderr)) {
    throw new CommandError(`docker inspect failed on ${host.name} (exit ${r.code})`, r.code, r.stdout, r.stderr, {
      host: host.name,
      command: r.command,
      output: r.stderr.trim(),
      fix: 'run releaseflow doctor: is docker running, and can the SSH user use it?',
    });
  }
  for (const c of parseJsonArray(r.stdout) as T[]) out.set(c.Name.replace(/^\//, ''), c);
  return out;
}

/** `docker image inspect` of images by ID or ref; absent ones map to undefined. */
export async function inspectImages<T>(host: SshHost, refs: readonly string[]): Promise<Map<string, T | undefined>> {
  const uniq = [...new Set(refs)];
  const out = new Map<string, T | undefined>(uniq.map((n) => [n, undefined]));
  if (uniq.length === 0) return out;
  const r = await host.run({ argv: ['docker', 'image', 'inspect', ...uniq] });
  const found = parseJsonArray(r.stdout) as (T & { Id: string; RepoTags?: string[] })[];
  for (const ref of uniq) out.set(ref, found.find((i) => i.Id === ref || (i.RepoTags ?? []).includes(ref)));
  return out;
}

/** What the rebuild needs to know about a target's daemon: its defaults, API version and container names. */
export interface DaemonContext {
  daemon: DaemonFacts;
  apiVersion?: string;
  /** Full container ID → name, to write `container:<name>` references. */
  names: Record<string, string>;
  /** Docker runs through `sudo -n` there: sudo clears the environment, so the env loader cannot hand values to docker. */
  sudo?: boolean;
}

/** Read the daemon context in one round trip. */
export async function readDaemonContext(host: SshHost): Promise<DaemonContext> {
  const script = [
    "docker info --format '{{json .}}' 2>/dev/null",
    'echo',
    "docker version --format 'api={{.Server.APIVersion}}' 2>/dev/null",
    "docker ps -a --no-trunc --format 'name={{.ID}} {{.Names}}' 2>/dev/null",
    'true',
  ].join('\n');
  const r = await host.run({ script });
  const infoLine = r.stdout.split('\n').find((l) => l.startsWith('{'));
  let daemon: DaemonFacts = {};
  try {
    daemon = infoLine ? parseDaemonInfo(JSON.parse(infoLine)) : {};
  } catch {
    /* an unreadable docker info only costs the daemon defaults; the rebuild assumes Docker's */
  }
  const names: Record<string, string> = {};
  for (const m of r.stdout.matchAll(/^name=([0-9a-f]{64}) (\S+)$/gm)) names[m[1]!] = m[2]!;
  const api = /^api=(\d+\.\d+)$/m.exec(r.stdout)?.[1];
  return { daemon, apiVersion: api, names, ...(host.config.sudo ? { sudo: true } : {}) };
}

/** The host's image store (core/host-facts.ts imageStoreOf); undefined when docker does not answer. */
export async function readImageStore(host: SshHost): Promise<'classic' | 'containerd' | undefined> {
  const r = await host.run({ script: "docker info --format '{{json .DriverStatus}}' 2>/dev/null" });
  if (r.code !== 0 || !r.stdout.trim()) return undefined;
  return imageStoreOf(r.stdout);
}
