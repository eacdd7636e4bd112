// Bootstrap (pure): the runspec of a container the target lacks, built from the SOURCE's inspect with the
// target's overrides (config `create:`), and the networks and named volumes it needs that the target lacks.
// The source's secret env values are never copied: each comes from the override or the target's env file.
import type { CreateOverrides } from './config-create.ts';
import { ExitCode, ReleaseflowError } from './errors.ts';
import { parseImageInspect, parseInspect } from './inspect.ts';
import type { Creation, ImageLike, InspectLike } from './plan.ts';
import { shJoin, shQuote } from './quote.ts';
import { isSecretName } from './redact.ts';
import { toRunSpec } from './runspec.ts';
import type { PortSpec, RunSpec } from './runspec-types.ts';
import { envKey } from './runspec-util.ts';

/** The label on every network and volume a bootstrap creates: its release id (an undo removes only networks carrying it). */
export const CREATED_BY = 'io.releaseflow.created-by';

const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none', 'default']);

/** The parts of `docker network inspect` a bootstrap copies to the target. */
export interface NetworkLike {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] | null } | null;
}

/** What the bootstrap of a container is planned from (reads of both hosts). */
export interface BootstrapFacts {
  /** Network and volume names the target has. */
  targetNetworks: readonly string[];
  targetVolumes: readonly string[];
  /** The source's networks the container is on, by name. */
  sourceNetworks: ReadonlyMap<string, NetworkLike | undefined>;
  /** The env names the target's env file (create.envFile) sets; undefined without one. Never its values. */
  envFileNames?: readonly string[];
}

export interface BootstrapSpec {
  spec: RunSpec;
  /** Networks (by the target's names) and named volumes to create before the container. */
  networks: Creation[];
  volumes: Creation[];
  /** Secret env names the source sets, and where the target's value comes from. */
  secrets: { name: string; from: 'create.env' | 'create.envFile' }[];
  warnings: string[];
}

/** `docker run -p` text → a PortSpec (`8001:8001`, `127.0.0.1:80:8080/tcp`, `[::1]:80:80`, `9000`). */
export function parsePublish(value: string): PortSpec {
  const m = /^(?:(\[[^\]]+\]|\d+\.\d+\.\d+\.\d+):)?(?:([0-9-]*):)?([0-9-]+(?:\/[a-z]+)?)$/.exec(value);
  if (!m) throw new ReleaseflowError(`create.ports: ${JSON.stringify(value)} is not a docker -p value`, { fix: 'write it as docker run -p takes it, e.g. 8001:8001' }, ExitCode.usage);
  const containerPort = m[3]!.includes('/') ? m[3]! : `${m[3]}/tcp`;
  return { containerPort, hostIp: (m[1] ?? '').replace(/^\[|\]$/g, ''), hostPort: m[2] ?? '' };
}

/** The source of a `-v` entry (`src:dst[:opts]`), or undefined for an anonymous `/dst`. */
function bindSource(bind: string): string | undefined {
  const i = bind.indexOf(':');
  return i > 0 ? bind.slice(0, i) : undefined;
}

/** The spec's env for the target: the source's non-secret entries, then create.env; names the target's env file sets are left to it. */
function targetEnv(container: string, env: readonly string[], o: CreateOverrides, fileNames: readonly string[], secretNames: readonly string[], host: string) {
  const overridden = new Set([...Object.keys(o.env), ...fileNames]);
  const secret = (n: string) => isSecretName(n, secretNames);
  const missing = [...new Set(env.map(envKey).filter((n) => secret(n) && !overridden.has(n)))];
  if (missing.length) {
    throw new ReleaseflowError(`cannot create ${container} on ${host}: secret env ${missing.join(', ')} of the source is never copied, and no value for ${host} is configured`, {
      host,
      fix: `give ${host}'s value under containers: - name: ${container} create: env: { ${missing[0]}: … }, or in an env file on ${host} named by create: envFile: /path (one NAME=value a line, mode 0600)`,
    }, ExitCode.usage);
  }
  const kept = env.filter((e) => !overridden.has(envKey(e)) && !secret(envKey(e)));
  const secrets = env.map(envKey).filter(secret).map((name) => ({ name, from: name in o.env && !fileNames.includes(name) ? ('create.env' as const) : ('create.envFile' as const) }));
  const added = Object.entries(o.env).filter(([n]) => !fileNames.includes(n)).map(([n, v]) => `${n}=${v}`);
  return { env: [...kept, ...added], secrets: [...new Map(secrets.map((s) => [s.name, s])).values()] };
}

/** Idempotent create scripts, each labelled with the release id so that an undo removes only what this release made. */
function networkCreation(name: string, source: NetworkLike | undefined, releaseId: string, needsSubnet: boolean, w: string[]): Creation {
  const argv = ['docker', 'network', 'create', '--label', `${CREATED_BY}=${releaseId}`];
  if (source?.Driver && source.Driver !== 'bridge') argv.push('--driver', source.Driver);
  if (source?.Internal) argv.push('--internal');
  if (source?.Attachable) argv.push('--attachable');
  if (source?.EnableIPv6) argv.push('--ipv6');
  // the source's subnet only when the container asks for a static address in it (else the target's daemon picks one)
  for (const c of needsSubnet ? (source?.IPAM?.Config ?? []) : []) {
    if (c.Subnet) argv.push('--subnet', c.Subnet);
    if (c.Gateway) argv.push('--gateway', c.Gateway);
    if (c.IPRange) argv.push('--ip-range', c.IPRange);
  }
  argv.push(name);
  if (!source) w.push(`network ${name}: the source's network was not found; created with the target's defaults (bridge)`);
  return { name, script: `docker network inspect ${shQuote(name)} >/dev/null 2>&1 || ${shJoin(argv)} >/dev/null` };
}

function volumeCreation(name: string, releaseId: string): Creation {
  return { name, script: `docker volume inspect ${shQuote(name)} >/dev/null 2>&1 || ${shJoin(['docker', 'volume', 'create', '--label', `${CREATED_BY}=${releaseId}`, name])} >/dev/null` };
}

/** Apply create.binds (source path or volume name → the target's) to -v entries and --mount sources. */
function mapBinds(spec: RunSpec, binds: Record<string, string>): void {
  const map = (s: string) => binds[s] ?? s;
  spec.binds = spec.binds.map((b) => {
    const src = bindSource(b);
    return src === undefined ? b : `${map(src)}${b.slice(src.length)}`;
  });
  spec.mounts = spec.mounts.map((m) => (m.Source ? { ...m, Source: map(m.Source) } : m));
}

/** Named volumes the spec mounts (`name:/dst`, `--mount type=volume,source=name`). */
function namedVolumes(spec: RunSpec): string[] {
  const fromBinds = spec.binds.map(bindSource).filter((s): s is string => s !== undefined && !s.startsWith('/'));
  const fromMounts = spec.mounts.filter((m) => m.Type === 'volume' && m.Source).map((m) => m.Source!);
  return [...new Set([...fromBinds, ...fromMounts])];
}

/**
 * The bootstrap of one container: the source's runspec (the source image's defaults taken out, anonymous
 * volumes fresh) with the overrides applied, and what the target must get first. Throws (exit 2) when a
 * secret of the source has no value for the target.
 */
export function planBootstrapSpec(
  c: { name: string; source: InspectLike; sourceImage: ImageLike },
  o: CreateOverrides,
  facts: BootstrapFacts,
  opts: { image: string; releaseId: string; host: string; secrets: readonly string[] },
): BootstrapSpec {
  const { spec, warnings } = toRunSpec(parseInspect(c.source), parseImageInspect(c.sourceImage), { image: opts.image, anonymousVolumes: 'new' });
  const env = targetEnv(c.name, spec.env, o, facts.envFileNames ?? [], opts.secrets, opts.host);
  spec.env = env.env;
  if (o.ports) spec.publish = o.ports.map(parsePublish);
  const sources = new Set([...spec.binds.map(bindSource), ...spec.mounts.map((m) => m.Source)]);
  for (const k of Object.keys(o.binds)) if (!sources.has(k)) warnings.push(`create.binds: ${k} is not a mount source of ${c.name} on the source; ignored`);
  for (const k of Object.keys(o.networks)) if (!spec.networks.some((n) => n.name === k)) warnings.push(`create.networks: ${c.name} is not on network ${k} on the source; ignored`);
  mapBinds(spec, o.binds);
  const originalOf = new Map<string, string>();
  spec.networks = spec.networks.map((n) => {
    const name = o.networks[n.name] ?? n.name;
    originalOf.set(name, n.name);
    return { ...n, name };
  });
  const networks = spec.networks
    .filter((n) => !BUILTIN_NETWORKS.has(n.name) && !facts.targetNetworks.includes(n.name))
    .map((n) => networkCreation(n.name, facts.sourceNetworks.get(originalOf.get(n.name)!), opts.releaseId, Boolean(n.ipv4 || n.ipv6), warnings));
  const volumes = namedVolumes(spec).filter((v) => !facts.targetVolumes.includes(v)).map((v) => volumeCreation(v, opts.releaseId));
  return { spec, networks, volumes, secrets: env.secrets, warnings };
}

/** The undo of a created container: remove it, then each network the release created once no container is on it. Volumes stay. */
export function buildRemoveCreatedScript(name: string, networks: readonly string[], releaseId: string): string {
  const q = shQuote;
  const lines = ['set -e', `if docker container inspect ${q(name)} >/dev/null 2>&1; then ${shJoin(['docker', 'rm', '-f', name])} >/dev/null; fi`];
  for (const n of networks) {
    const probe = `$(docker network inspect -f ${q(`{{index .Labels "${CREATED_BY}"}} {{len .Containers}}`)} ${q(n)} 2>/dev/null || true)`;
    lines.push(`if [ "${probe}" = ${q(`${releaseId} 0`)} ]; then ${shJoin(['docker', 'network', 'rm', n])} >/dev/null; fi`);
  }
  lines.push(`echo ${q(`${name} removed (release ${releaseId} created it); its volumes kept`)}`);
  return lines.join('\n');
}
