// Typed, validated subsets of `docker inspect` (container), `docker image inspect` and `docker info`.
import { ReleaseflowError } from './errors.ts';

/** `docker inspect` output that does not have the shape we rely on. */
export class InspectParseError extends ReleaseflowError {
  constructor(what: string, path: string, problem: string) {
    super(`malformed ${what}: ${path} ${problem}`, {
      fix: 'Check that the host runs a Docker Engine (20.10 or newer) and that the object exists; re-run with the raw JSON in the log.',
    });
  }
}

export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig | null;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  Shell?: string[] | null;
  [key: string]: unknown;
}

export interface PortBindingFacts {
  HostIp: string;
  HostPort: string;
}

/** One `HostConfig.Mounts` entry (the `--mount` request). */
export interface MountRequest {
  Type: string;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: {
    Propagation?: string;
    NonRecursive?: boolean;
    CreateMountpoint?: boolean;
    ReadOnlyNonRecursive?: boolean;
    ReadOnlyForceRecursive?: boolean;
  } | null;
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string> | null;
    DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null;
    Subpath?: string;
  } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
  [key: string]: unknown;
}

export interface HostConfigFacts {
  Binds?: string[] | null;
  NetworkMode?: string;
  PortBindings?: Record<string, PortBindingFacts[] | null> | null;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number } | null;
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  Mounts?: MountRequest[] | null;
  Tmpfs?: Record<string, string> | null;
  LogConfig?: { Type?: string; Config?: Record<string, string> | null } | null;
  Links?: string[] | null;
  PublishAllPorts?: boolean;
  [key: string]: unknown;
}

export interface EndpointFacts {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  DriverOpts?: Record<string, string> | null;
  MacAddress?: string;
  IPAddress?: string;
  [key: string]: unknown;
}

/** A mount as the daemon reports it at runtime (top-level `Mounts[]`): used only to find anonymous volume names. */
export interface MountPointFacts {
  Type: string;
  Name?: string;
  Source?: string;
  Destination: string;
  Driver?: string;
  Mode?: string;
  RW?: boolean;
}

/** The parts of `docker inspect <container>` releaseflow reads. `Name` has no leading slash. */
export interface ContainerFacts {
  Id: string;
  Name: string;
  Image: string;
  Config: ContainerConfig;
  HostConfig: HostConfigFacts;
  NetworkSettings: { Networks: Record<string, EndpointFacts> };
  Mounts: MountPointFacts[];
  State: { Status: string; Running: boolean; ExitCode?: number; Health?: { Status: string } | null };
}

/** The parts of `docker image inspect <image>` releaseflow reads. */
export interface ImageFacts {
  Id: string;
  RepoTags: string[];
  Config: {
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    User?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, object> | null;
    Volumes?: Record<string, object> | null;
    Healthcheck?: HealthConfig | null;
    StopSignal?: string;
  };
  RootFS: { Layers: string[] };
  Size: number;
  Os?: string;
  Architecture?: string;
}

/** Daemon defaults from `docker info`: used to tell a daemon default from an operator's value. */
export interface DaemonFacts {
  Name?: string;
  LoggingDriver?: string;
  DefaultRuntime?: string;
  CgroupVersion?: string;
  ServerVersion?: string;
}

// s string, n number, b boolean, ss string[], map string→string, set string→object, obj object, arr array
type Kind = 's' | 'n' | 'b' | 'ss' | 'map' | 'set' | 'obj' | 'arr';
type Json = Record<string, unknown>;

const CONFIG: Record<string, Kind> = {
  Hostname: 's', Domainname: 's', User: 's', AttachStdin: 'b', AttachStdout: 'b', AttachStderr: 'b', ExposedPorts: 'set',
  Tty: 'b', OpenStdin: 'b', StdinOnce: 'b', Env: 'ss', Cmd: 'ss', Healthcheck: 'obj', ArgsEscaped: 'b', Image: 's',
  Volumes: 'set', WorkingDir: 's', Entrypoint: 'ss', NetworkDisabled: 'b', MacAddress: 's', OnBuild: 'ss', Labels: 'map',
  StopSignal: 's', StopTimeout: 'n', Shell: 'ss',
};
const HOST: Record<string, Kind> = {
  Binds: 'ss', NetworkMode: 's', PortBindings: 'obj', RestartPolicy: 'obj', AutoRemove: 'b', VolumeDriver: 's',
  VolumesFrom: 'ss', Mounts: 'arr', Tmpfs: 'map', LogConfig: 'obj', Links: 'ss', PublishAllPorts: 'b', CapAdd: 'ss',
  CapDrop: 'ss', Dns: 'ss', DnsOptions: 'ss', DnsSearch: 'ss', ExtraHosts: 'ss', GroupAdd: 'ss', SecurityOpt: 'ss',
  Sysctls: 'map', StorageOpt: 'map', Ulimits: 'arr', Devices: 'arr', DeviceRequests: 'arr', DeviceCgroupRules: 'ss',
  Privileged: 'b', ReadonlyRootfs: 'b', Init: 'b', ShmSize: 'n', Memory: 'n', MemorySwap: 'n', NanoCpus: 'n',
  PidsLimit: 'n', MaskedPaths: 'ss', ReadonlyPaths: 'ss', Annotations: 'map',
};
const HEALTH: Record<string, Kind> = { Test: 'ss', Interval: 'n', Timeout: 'n', StartPeriod: 'n', StartInterval: 'n', Retries: 'n' };
const ENDPOINT: Record<string, Kind> = { IPAMConfig: 'obj', Links: 'ss', Aliases: 'ss', DriverOpts: 'map', MacAddress: 's' };
const MOUNT_REQ: Record<string, Kind> = { Type: 's', Source: 's', Target: 's', ReadOnly: 'b', BindOptions: 'obj', VolumeOptions: 'obj', TmpfsOptions: 'obj' };

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function ok(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 's': return typeof v === 'string';
    case 'n': return typeof v === 'number' && Number.isFinite(v);
    case 'b': return typeof v === 'boolean';
    case 'ss': return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'map': return isObj(v) && Object.values(v).every((x) => typeof x === 'string');
    case 'set': return isObj(v) && Object.values(v).every((x) => isObj(x) || x === null);
    case 'obj': return isObj(v);
    case 'arr': return Array.isArray(v);
  }
}

/** Check every known field present (null is always allowed); unknown fields pass through untouched. */
function check(what: string, obj: unknown, fields: Record<string, Kind>, path: string, required: string[] = []): Json {
  if (!isObj(obj)) throw new InspectParseError(what, path, 'is not an object');
  for (const k of required) if (obj[k] === undefined || obj[k] === null) throw new InspectParseError(what, `${path}.${k}`, 'is missing');
  for (const [k, kind] of Object.entries(fields)) {
    const v = obj[k];
    if (v !== undefined && v !== null && !ok(kind, v)) throw new InspectParseError(what, `${path}.${k}`, `is not a valid ${kind}`);
  }
  return obj;
}

function one(json: unknown, what: string): unknown {
  if (Array.isArray(json)) {
    if (json.length !== 1) throw new InspectParseError(what, '$', `holds ${json.length} objects, expected exactly 1`);
    return json[0];
  }
  return json;
}

/** Parse `docker inspect <container>` output (the array or its one element) into ContainerFacts. */
export function parseInspect(json: unknown): ContainerFacts {
  const what = 'docker inspect (container)';
  const o = check(what, one(json, what), { Id: 's', Name: 's', Image: 's', Mounts: 'arr' }, '$', ['Id', 'Name', 'Config', 'HostConfig']);
  const config = check(what, o.Config, CONFIG, '$.Config');
  if (isObj(config.Healthcheck)) check(what, config.Healthcheck, HEALTH, '$.Config.Healthcheck');
  const host = check(what, o.HostConfig, HOST, '$.HostConfig');
  for (const [port, list] of Object.entries((host.PortBindings as Json | null) ?? {})) {
    if (list === null) continue;
    if (!Array.isArray(list)) throw new InspectParseError(what, `$.HostConfig.PortBindings["${port}"]`, 'is not an array');
    for (const [i, b] of list.entries()) check(what, b, { HostIp: 's', HostPort: 's' }, `$.HostConfig.PortBindings["${port}"][${i}]`);
  }
  for (const [i, m] of ((host.Mounts as unknown[] | null) ?? []).entries()) check(what, m, MOUNT_REQ, `$.HostConfig.Mounts[${i}]`, ['Type', 'Target']);
  const ns = o.NetworkSettings === undefined || o.NetworkSettings === null ? {} : check(what, o.NetworkSettings, {}, '$.NetworkSettings');
  const nets = ns.Networks === undefined || ns.Networks === null ? {} : check(what, ns.Networks, {}, '$.NetworkSettings.Networks');
  for (const [n, ep] of Object.entries(nets)) check(what, ep, ENDPOINT, `$.NetworkSettings.Networks["${n}"]`);
  const mounts = ((o.Mounts as unknown[] | null) ?? []).map((m, i) =>
    check(what, m, { Type: 's', Name: 's', Source: 's', Destination: 's' }, `$.Mounts[${i}]`, ['Type', 'Destination']),
  );
  const state = o.State === undefined || o.State === null ? { Status: 'unknown', Running: false } : check(what, o.State, { Status: 's', Running: 'b' }, '$.State');
  return {
    Id: o.Id as string,
    Name: (o.Name as string).replace(/^\//, ''),
    Image: (o.Image as string | undefined) ?? '',
    Config: config as ContainerConfig,
    HostConfig: host as HostConfigFacts,
    NetworkSettings: { Networks: nets as Record<string, EndpointFacts> },
    Mounts: mounts as unknown as MountPointFacts[],
    State: state as ContainerFacts['State'],
  };
}

/** Parse `docker image inspect <image>` output (the array or its one element) into ImageFacts. */
export function parseImageInspect(json: unknown): ImageFacts {
  const what = 'docker image inspect';
  const o = check(what, one(json, what), { Id: 's', RepoTags: 'ss', Size: 'n', Os: 's', Architecture: 's' }, '$', ['Id']);
  // Config is null for an image built FROM scratch with no instructions
  const config = o.Config === null || o.Config === undefined ? {} : check(what, o.Config, CONFIG, '$.Config');
  if (isObj(config.Healthcheck)) check(what, config.Healthcheck, HEALTH, '$.Config.Healthcheck');
  const rootfs = o.RootFS === undefined || o.RootFS === null ? {} : check(what, o.RootFS, { Layers: 'ss' }, '$.RootFS');
  const pick = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'Labels', 'ExposedPorts', 'Volumes', 'Healthcheck', 'StopSignal'];
  const out: ImageFacts = {
    Id: o.Id as string,
    RepoTags: (o.RepoTags as string[] | null) ?? [],
    Config: Object.fromEntries(pick.filter((k) => config[k] !== undefined).map((k) => [k, config[k]])),
    RootFS: { Layers: (rootfs.Layers as string[] | null) ?? [] },
    Size: (o.Size as number | undefined) ?? 0,
  };
  if (typeof o.Os === 'string') out.Os = o.Os;
  if (typeof o.Architecture === 'string') out.Architecture = o.Architecture;
  return out;
}

/** Parse `docker info --format '{{json .}}'` into the daemon defaults runspec needs. */
export function parseDaemonInfo(json: unknown): DaemonFacts {
  const o = check('docker info', json, { Name: 's', LoggingDriver: 's', DefaultRuntime: 's', CgroupVersion: 's', ServerVersion: 's' }, '$');
  const out: DaemonFacts = {};
  for (const k of ['Name', 'LoggingDriver', 'DefaultRuntime', 'CgroupVersion', 'ServerVersion'] as const) {
    if (typeof o[k] === 'string') out[k] = o[k] as string;
  }
  return out;
}
