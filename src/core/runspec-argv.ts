// RunSpec → `docker create/run` argv, a readable masked `docker run` command, and the --env-file text.
import { breaksEnvFile, envLoaderEntry, isEnvLoaderEntry, isLoadableEnvName, withEnvLoader } from './env-loader.ts';
import { InternalError, ReleaseflowError } from './errors.ts';
import type { MountRequest } from './inspect.ts';
import { shJoin, shQuote } from './quote.ts';
import { maskArgv } from './redact.ts';
import type { Flag, HealthSpec, NetworkEndpoint, PortSpec, RunSpec } from './runspec-types.ts';
import { csvRecord, envKey, dockerBytes, dockerDuration } from './runspec-util.ts';

/** A network joined after create with `docker network connect` (engine API < 1.44 takes one network per create). */
export interface ExtraNetwork {
  name: string;
  aliases: string[];
  ipv4?: string;
  ipv6?: string;
  links?: string[];
  linkLocalIps?: string[];
  driverOpts?: Record<string, string>;
}

/** The result of runSpecToArgv: argv, the networks to connect after create, and the env-file entries. */
export interface RunSpecArgv {
  argv: string[];
  extraNetworks: ExtraNetwork[];
  /** Entries of the env file (empty without `envFile`): docker's NAME=value lines, then the loader's values; write them with renderEnvFile, mode 0600. */
  env: string[];
  /** Env values with a line break left in argv (name and why; never the value). */
  warnings: string[];
}

export interface ArgvOptions {
  mode: 'create' | 'run';
  name: string;
  image: string;
  /** Path of an env file on the host: env entries go there instead of argv (except those it cannot hold). */
  envFile?: string;
  /** With envFile: values the file cannot hold (line breaks) go there too, for the env loader to export (`-e NAME`); the argv runs under it. */
  envLoader?: boolean;
  /** Engine API version (`docker version -f '{{.Server.APIVersion}}'`); below 1.44 (or unknown) one network per create. */
  apiVersion?: string;
  /** Path of a file on the docker CLI's machine holding spec.seccompProfile (the CLI reads profiles from files only). */
  seccompFile?: string;
  /** Env files already on the host (a bootstrap's create.envFile), passed after ours: `--env-file PATH` each. */
  extraEnvFiles?: readonly string[];
}

function apiAtLeast(v: string | undefined, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(v ?? '');
  return m ? Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor) : false;
}

/** Can this env entry go in a docker --env-file? (lines are split on \n, a trailing \r is dropped, names have no spaces or leading #) */
export function fitsEnvFile(entry: string): boolean {
  const name = envKey(entry);
  return entry.includes('=') && !entry.includes('\n') && !entry.endsWith('\r') && !/\s/.test(name) && !name.startsWith('#') && name !== '';
}

/** `-p` value: `[ip:][hostPort:]containerPort/proto`, IPv6 host IPs in brackets. */
export function publishValue(p: PortSpec): string {
  const ip = p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp;
  const port = p.containerPort.replace(/\/tcp$/, '');
  if (ip) return `${ip}:${p.hostPort}:${port}`;
  return p.hostPort ? `${p.hostPort}:${port}` : port;
}

/** `--mount` value as a CSV record. */
export function mountValue(m: MountRequest): string {
  const f = [`type=${m.Type}`];
  if (m.Source) f.push(`source=${m.Source}`);
  f.push(`target=${m.Target}`);
  if (m.ReadOnly) f.push('readonly');
  if (m.Consistency && m.Consistency !== 'default') f.push(`consistency=${m.Consistency}`);
  const b = m.BindOptions;
  if (b?.Propagation) f.push(`bind-propagation=${b.Propagation}`);
  if (b?.NonRecursive) f.push('bind-nonrecursive=true');
  if (b?.ReadOnlyNonRecursive) f.push('bind-recursive=writable');
  if (b?.ReadOnlyForceRecursive) f.push('bind-recursive=readonly');
  const v = m.VolumeOptions;
  if (v?.NoCopy) f.push('volume-nocopy');
  for (const [k, x] of Object.entries(v?.Labels ?? {})) f.push(`volume-label=${k}=${x}`);
  if (v?.DriverConfig?.Name) f.push(`volume-driver=${v.DriverConfig.Name}`);
  for (const [k, x] of Object.entries(v?.DriverConfig?.Options ?? {})) f.push(`volume-opt=${k}=${x}`);
  if (v?.Subpath) f.push(`volume-subpath=${v.Subpath}`);
  const t = m.TmpfsOptions;
  if (t?.SizeBytes) f.push(`tmpfs-size=${dockerBytes(t.SizeBytes)}`);
  if (t?.Mode) f.push(`tmpfs-mode=${t.Mode.toString(8)}`);
  return csvRecord(f);
}

/** `--network` advanced syntax (CSV): name=,alias=,ip=,ip6=,link-local-ip=,driver-opt=. */
export function networkValue(n: NetworkEndpoint): string {
  const f = [`name=${n.name}`, ...n.aliases.map((a) => `alias=${a}`)];
  if (n.ipv4) f.push(`ip=${n.ipv4}`);
  if (n.ipv6) f.push(`ip6=${n.ipv6}`);
  for (const l of n.linkLocalIps ?? []) f.push(`link-local-ip=${l}`);
  for (const [k, v] of Object.entries(n.driverOpts ?? {})) f.push(`driver-opt=${k}=${v}`);
  return csvRecord(f);
}

/** `docker network connect` argv for a network joined after create. */
export function networkConnectArgv(n: ExtraNetwork, container: string): string[] {
  return [
    'docker', 'network', 'connect',
    ...n.aliases.flatMap((a) => ['--alias', a]),
    ...(n.ipv4 ? ['--ip', n.ipv4] : []),
    ...(n.ipv6 ? ['--ip6', n.ipv6] : []),
    ...(n.linkLocalIps ?? []).flatMap((l) => ['--link-local-ip', l]),
    ...(n.links ?? []).flatMap((l) => ['--link', l]),
    ...Object.entries(n.driverOpts ?? {}).flatMap(([k, v]) => ['--driver-opt', `${k}=${v}`]),
    n.name, container,
  ];
}

function networkFlags(spec: RunSpec, opts: ArgvOptions): { flags: Flag[]; extra: ExtraNetwork[] } {
  if (spec.networkMode) return { flags: [['--network', spec.networkMode]], extra: [] };
  const [primary, ...rest] = spec.networks;
  const links: Flag[] = spec.links.map((l) => ['--link', l] as Flag);
  if (!primary) return { flags: links, extra: [] };
  if (apiAtLeast(opts.apiVersion, 1, 44) && rest.length > 0) {
    const flags: Flag[] = spec.networks.map((n) => ['--network', networkValue(n)] as Flag);
    return { flags: [...flags, ...links, ...(primary.links ?? []).map((l) => ['--link', l] as Flag)], extra: [] };
  }
  const flags: Flag[] = [];
  // classic flags for the primary network (every CLI since 1.10); driver options need the CSV form (CLI 20.10+)
  if (primary.driverOpts) flags.push(['--network', networkValue({ name: primary.name, aliases: [], driverOpts: primary.driverOpts })]);
  else if (primary.name !== 'bridge') flags.push(['--network', primary.name]);
  for (const a of primary.aliases) flags.push(['--network-alias', a]);
  if (primary.ipv4) flags.push(['--ip', primary.ipv4]);
  if (primary.ipv6) flags.push(['--ip6', primary.ipv6]);
  for (const l of primary.linkLocalIps ?? []) flags.push(['--link-local-ip', l]);
  for (const l of [...spec.links, ...(primary.links ?? [])]) flags.push(['--link', l]);
  return { flags, extra: rest.map((n) => ({ ...n })) };
}

function healthFlags(h: HealthSpec | undefined): Flag[] {
  if (!h) return [];
  if (h.disable) return [['--no-healthcheck']];
  const out: Flag[] = [];
  if (h.cmd !== undefined) out.push(['--health-cmd', h.cmd]);
  if (h.interval) out.push(['--health-interval', dockerDuration(h.interval)]);
  if (h.timeout) out.push(['--health-timeout', dockerDuration(h.timeout)]);
  if (h.startPeriod) out.push(['--health-start-period', dockerDuration(h.startPeriod)]);
  if (h.startInterval) out.push(['--health-start-interval', dockerDuration(h.startInterval)]);
  if (h.retries) out.push(['--health-retries', String(h.retries)]);
  return out;
}

const flagArgs = (f: Flag): string[] => (f[1] === undefined ? [f[0]] : [f[0], f[1]]);

interface Built {
  head: string[];
  groups: Flag[];
  tail: string[];
  extra: ExtraNetwork[];
  env: string[];
  loaded: string[];
  warnings: string[];
}

/** Which entries go to the env loader (the rest of those with a line break stay in argv, with a warning why). */
function loaderSplit(env: readonly string[], opts: ArgvOptions): { loads: (e: string) => boolean; warnings: string[] } {
  const count = new Map<string, number>();
  for (const e of env) count.set(envKey(e), (count.get(envKey(e)) ?? 0) + 1);
  const on = opts.envFile !== undefined && opts.envLoader === true;
  const loads = (e: string) => on && breaksEnvFile(e) && isLoadableEnvName(envKey(e)) && count.get(envKey(e)) === 1;
  const warnings: string[] = [];
  for (const e of env) {
    if (!on || !breaksEnvFile(e) || loads(e)) continue;
    const why = count.get(envKey(e)) !== 1 ? 'the name is set more than once' : 'its name is not a plain shell name, or one the docker CLI reads itself (PATH, HOME, DOCKER_*, LD_*)';
    warnings.push(`env ${envKey(e)}: its value has a line break and goes to docker create as an argument (visible in ps on the host while docker create runs): ${why}`);
  }
  return { loads, warnings };
}

function build(spec: RunSpec, opts: ArgvOptions): Built {
  const g: Flag[] = [['--name', opts.name]];
  // a key with any entry the file cannot hold stays wholly in argv, so the last-wins order of its entries holds
  const argvKeys = new Set(spec.env.filter((e) => !fitsEnvFile(e)).map(envKey));
  const inFile = (e: string) => opts.envFile !== undefined && fitsEnvFile(e) && !argvKeys.has(envKey(e));
  const fileEnv = spec.env.filter(inFile);
  const { loads, warnings } = loaderSplit(spec.env, opts);
  const loaded = spec.env.filter(loads);
  const put = (cond: unknown, f: Flag) => cond && g.push(f);
  put(spec.cidfile, ['--cidfile', spec.cidfile ?? '']);
  put(spec.hostname, ['--hostname', spec.hostname ?? '']);
  put(spec.domainname, ['--domainname', spec.domainname ?? '']);
  put(spec.user, ['--user', spec.user ?? '']);
  put(spec.workdir, ['--workdir', spec.workdir ?? '']);
  const [ep, ...epRest] = spec.entrypoint ?? [];
  put(spec.entrypoint, ['--entrypoint', ep ?? '']);
  if (fileEnv.length > 0 && opts.envFile) g.push(['--env-file', opts.envFile]);
  for (const f of opts.extraEnvFiles ?? []) g.push(['--env-file', f]);
  // a loaded value reaches docker through its environment: -e NAME alone, the value never in argv
  for (const e of spec.env) if (!inFile(e)) g.push(['-e', loads(e) ? envKey(e) : e]);
  for (const k of Object.keys(spec.labels).sort()) g.push(['--label', `${k}=${spec.labels[k]}`]);
  for (const p of spec.publish) g.push(['--publish', publishValue(p)]);
  put(spec.publishAll, ['--publish-all']);
  for (const p of spec.expose) g.push(['--expose', p.replace(/\/tcp$/, '')]);
  const net = networkFlags(spec, opts);
  g.push(...net.flags);
  put(spec.macAddress, ['--mac-address', spec.macAddress ?? '']);
  for (const b of spec.binds) g.push(['--volume', b]);
  for (const m of spec.mounts) g.push(['--mount', mountValue(m)]);
  for (const [dst, o] of Object.entries(spec.tmpfs)) g.push(['--tmpfs', o ? `${dst}:${o}` : dst]);
  for (const v of spec.volumesFrom) g.push(['--volumes-from', v]);
  g.push(...spec.flags);
  put(spec.logDriver, ['--log-driver', spec.logDriver ?? '']);
  for (const [k, v] of Object.entries(spec.logOpts)) g.push(['--log-opt', `${k}=${v}`]);
  g.push(...healthFlags(spec.healthcheck));
  put(spec.stopSignal, ['--stop-signal', spec.stopSignal ?? '']);
  put(spec.stopTimeout !== undefined, ['--stop-timeout', String(spec.stopTimeout)]);
  if (spec.seccompProfile !== undefined) {
    if (!opts.seccompFile) {
      throw new ReleaseflowError('the container has an inline seccomp profile, and the docker CLI reads profiles only from files', {
        fix: 'write spec.seccompProfile to a file on the host and pass its path as seccompFile',
      });
    }
    g.push(['--security-opt', `seccomp=${opts.seccompFile}`]);
  }
  const head = opts.mode === 'run' ? ['docker', 'run', '--detach'] : ['docker', 'create'];
  const tail = [opts.image, ...epRest, ...(spec.cmd ?? [])];
  if (epRest.length > 0 && spec.cmd === undefined) throw new InternalError('a multi-element entrypoint needs explicit arguments');
  return { head, groups: g, tail, extra: net.extra, env: fileEnv, loaded, warnings };
}

/** The `docker create` (or `docker run --detach`) argv for a spec: plain argv, no shell quoting. */
export function runSpecToArgv(spec: RunSpec, opts: ArgvOptions): RunSpecArgv {
  const b = build(spec, opts);
  const argv = [...b.head, ...b.groups.flatMap(flagArgs), ...b.tail];
  if (b.loaded.length === 0 || !opts.envFile) return { argv, extraNetworks: b.extra, env: b.env, warnings: b.warnings };
  const env = [...b.env, ...b.loaded.map((e) => envLoaderEntry(envKey(e), e.slice(envKey(e).length + 1)))];
  return { argv: withEnvLoader(argv, opts.envFile, b.loaded.length), extraNetworks: b.extra, env, warnings: b.warnings };
}

/** Removes a --cidfile before the container that writes it is created (docker refuses an existing file). */
export function cidfileRemoval(path: string): string[] {
  return ['rm', '-f', '--', path];
}

/** A readable `docker run -d \` command, one option per line, every argument shQuote'd; secret env values and URL credentials masked unless reveal. */
export function renderRunCommand(
  spec: RunSpec,
  opts: { name: string; image: string; secrets: readonly string[]; reveal: boolean; apiVersion?: string; seccompFile?: string; extraEnvFiles?: readonly string[] },
): string {
  const seccompFile = spec.seccompProfile !== undefined ? (opts.seccompFile ?? '/path/to/seccomp-profile.json') : undefined;
  const b = build(spec, { mode: 'run', name: opts.name, image: opts.image, apiVersion: opts.apiVersion, seccompFile, extraEnvFiles: opts.extraEnvFiles });
  const shown = (args: string[]) => (opts.reveal ? args : maskArgv(args, opts.secrets)).map(shQuote).join(' ');
  const lines = ['docker run -d', ...b.groups.map((f) => shown(flagArgs(f))), shown(b.tail)];
  // docker refuses --cidfile while the file exists: the retired container's file goes first
  const out = `${spec.cidfile ? `${shJoin(cidfileRemoval(spec.cidfile))}\n` : ''}${lines.join(' \\\n  ')}`;
  const connects = b.extra.map((n) => networkConnectArgv(n, opts.name).map(shQuote).join(' '));
  return [out, ...connects].join('\n');
}

/**
 * docker `--env-file` text: `NAME=value` per line; docker takes the value literally (no quotes, no escapes).
 * A value with a newline (or a trailing CR) cannot be a line of its own: runSpecToArgv makes it env-loader
 * comment lines (envLoader) or passes it as `-e` instead.
 */
export function renderEnvFile(env: readonly string[]): string {
  for (const e of env) {
    if (!fitsEnvFile(e) && !isEnvLoaderEntry(e)) throw new InternalError(`env entry ${JSON.stringify(envKey(e))} cannot be written to an env file (newline, trailing CR, or bad name)`);
  }
  return env.map((e) => `${e}\n`).join('');
}
