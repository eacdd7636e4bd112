// The runspec: the operator-set configuration of a container, independent of any one image.
import type { MountRequest } from './inspect.ts';

/** One `-p` binding: container port (`80/tcp`, or a range `7000-7005/udp`), host IP and host port or range ('' = random). */
export interface PortSpec {
  containerPort: string;
  hostIp: string;
  hostPort: string;
}

/** One network the container is attached to, with its endpoint settings. */
export interface NetworkEndpoint {
  name: string;
  aliases: string[];
  ipv4?: string;
  ipv6?: string;
  linkLocalIps?: string[];
  /** `container:alias` links on a user-defined network. */
  links?: string[];
  driverOpts?: Record<string, string>;
}

/** Healthcheck fields set by the operator; unset fields come from the image at create time (field-wise merge). */
export interface HealthSpec {
  /** `--no-healthcheck`. */
  disable?: boolean;
  /** `--health-cmd` (always CMD-SHELL on the CLI). */
  cmd?: string;
  /** Durations in nanoseconds, as in inspect. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

/** A flag and its value (no value for booleans such as `--privileged`), unquoted. */
export type Flag = readonly [flag: string, value?: string];

/** The operator-set configuration of a container; what `docker run` needs besides the name and the image. */
export interface RunSpec {
  /** The image this spec was made for (from toRunSpec's opts.image), informational. */
  image?: string;
  /** `--entrypoint`; undefined = the image's; [] = `--entrypoint ''` (reset the image's). */
  entrypoint?: string[];
  /** Arguments after the image; undefined = the image's CMD. */
  cmd?: string[];
  /** `NAME=value` entries (or `NAME` alone: pass-through), in the container's order. */
  env: string[];
  labels: Record<string, string>;
  hostname?: string;
  domainname?: string;
  user?: string;
  workdir?: string;
  /** `--mac-address` (a MAC the operator asked for, never a generated one). */
  macAddress?: string;
  publish: PortSpec[];
  publishAll: boolean;
  /** `--expose` ports beyond the image's EXPOSE and the published ones. */
  expose: string[];
  /** `--network` mode when it is not an endpoint list: `host`, `none`, `container:<name or ID>`. */
  networkMode?: string;
  /** Networks to attach; the first is the primary one. `bridge` as the only network means the daemon default. */
  networks: NetworkEndpoint[];
  /** Legacy `--link name:alias` on the default bridge. */
  links: string[];
  /** `-v` entries verbatim (`/src:/dst:ro,z`, `name:/dst`, `/dst` anonymous). */
  binds: string[];
  /** `--mount` entries. */
  mounts: MountRequest[];
  /** `--tmpfs /dst[:opts]`. */
  tmpfs: Record<string, string>;
  volumesFrom: string[];
  restart?: string;
  healthcheck?: HealthSpec;
  stopSignal?: string;
  stopTimeout?: number;
  logDriver?: string;
  logOpts: Record<string, string>;
  /** --cidfile: docker refuses to create while the file exists, so a swap removes the retired container's file first. */
  cidfile?: string;
  /** An inline seccomp profile (JSON): the CLI only takes a file, so runSpecToArgv needs `seccompFile`. */
  seccompProfile?: string;
  /** Every other option, in a stable order, values unquoted. */
  flags: Flag[];
}

/** Optional daemon facts (from `docker info`) and policies for toRunSpec. */
export interface ToRunSpecOptions {
  /** The image the spec is for (informational; runSpecToArgv takes the image to run). */
  image?: string;
  /** Daemon defaults; without them the Docker defaults are assumed (json-file, runc, 64 MiB shm, private IPC). */
  daemon?: { Name?: string; LoggingDriver?: string; DefaultRuntime?: string; CgroupVersion?: string };
  /** Container ID → name, to write `container:<name>` for shared namespaces and networks. */
  names?: Record<string, string>;
  /**
   * Anonymous volumes (`-v /dst` and the image's VOLUMEs): `reuse` (default) mounts the same volume by its
   * name in the new container, so its data is kept, as compose does; `new` gives the new container fresh ones.
   */
  anonymousVolumes?: 'reuse' | 'new';
}
