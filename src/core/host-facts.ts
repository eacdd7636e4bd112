// What observing a host yields (types), and the parser of the observation script's output (pure).
import { parseJsonArray } from './docker-json.ts';
import { detectMode, type Mode } from './mode.ts';
import { tail } from './noise.ts';
import { parseSections } from './sections.ts';

export type { DockerJson } from './docker-json.ts';
import type { DockerJson } from './docker-json.ts';

/** How docker is reached on the host: as the SSH user, through `sudo -n`, or not at all. */
export type DockerAccess = 'direct' | 'sudo' | 'unavailable';

/** Docker's own health status of a container; `none` when its image defines no HEALTHCHECK. */
export type HealthStatus = 'healthy' | 'unhealthy' | 'starting' | 'none';

/** An image as `docker image inspect` describes it. */
export interface ImageObservation {
  id: string;
  repoTags: string[];
  /** Bytes, uncompressed (what `docker load` needs on disk, roughly). */
  size: number;
  created: string;
  inspect: DockerJson;
}

/** One configured container on one host; `present: false` when the host has no such container. */
export interface ContainerObservation {
  name: string;
  present: boolean;
  /** How it was started; absent when the container is missing. */
  mode?: Mode;
  id?: string;
  /** running, exited, created, paused, restarting, dead. */
  state?: string;
  running: boolean;
  health?: HealthStatus;
  /** The image reference the container was created from (Config.Image), e.g. app-backend:v2. */
  imageRef?: string;
  /** The full image ID (sha256:…). */
  imageId?: string;
  created?: string;
  networks: string[];
  /** Compose mode only: each compose file from the labels, and whether the SSH user can read it. */
  composeFiles?: { path: string; status: 'readable' | 'unreadable' | 'missing' }[];
  image?: ImageObservation;
  inspect?: DockerJson;
}

/** Everything observed on one host. Nothing here is decided; failures to observe are facts too. */
export interface HostFacts {
  host: string;
  address: string;
  reachable: boolean;
  /** Why the host, or docker on it, could not be (fully) observed, and what to do. */
  problem?: { message: string; fix?: string; output?: string };
  connectMs?: number;
  docker: { access: DockerAccess; needsSudo: boolean; version?: string; apiVersion?: string; error?: string; store?: 'classic' | 'containerd'; driver?: string; tarSplit?: boolean };
  containers: ContainerObservation[];
  images: ImageObservation[];
  dataRoot?: string;
  /** Free bytes on the filesystem holding docker's data-root. */
  freeBytes?: number;
  networks: string[];
  /** Every container on the host (`docker ps -a`), for messages such as "docker ps -a shows: …". */
  allContainers: { name: string; image: string; status: string }[];
  /** Config names a release target stands for on the host instead of a container (a swarm service). */
  views?: TargetView[];
}

/** How a target shows what a config name stands for on the host when it is no container (status, doctor, --json). */
export interface TargetView {
  /** The config's container name. */
  container: string;
  /** The target's word for it (`swarm`). */
  mode: string;
  /** What it is on the host, e.g. `service ragflowauth_backend`. */
  what: string;
  /** Its state in a few words, e.g. `3/3 running`. */
  state: string;
  /** The image its spec names, and the image ID that is. */
  imageRef?: string;
  imageId?: string;
  /** Lines that explain it (stack, nodes, the update's state). */
  notes: string[];
  /** What is wrong with it for a release, each with its fix. */
  problems: { message: string; fix?: string }[];
  /** Machine-readable details for --json. */
  details: Record<string, unknown>;
}


/** The image store a daemon's DriverStatus (or driver line) names: `containerd` with the containerd snapshotter (image IDs are manifest digests there), else `classic`. */
export function imageStoreOf(driverStatus: string): 'classic' | 'containerd' {
  return /io\.containerd\.snapshotter/.test(driverStatus) ? 'containerd' : 'classic';
}

/** Short image or container ID, as `docker images` shows it; `-` when unknown. */
export function shortId(id: string | undefined): string {
  return id ? id.replace(/^sha256:/, '').slice(0, 12) : '-';
}


function jsonLines(text: string): DockerJson[] {
  return text.split('\n').flatMap((l) => {
    try {
      const v: unknown = JSON.parse(l);
      return v && typeof v === 'object' ? [v as DockerJson] : [];
    } catch {
      return [];
    }
  });
}

function toImage(i: DockerJson): ImageObservation {
  return { id: String(i.Id ?? ''), repoTags: Array.isArray(i.RepoTags) ? i.RepoTags : [], size: Number(i.Size ?? 0), created: String(i.Created ?? ''), inspect: i };
}

export function toContainer(name: string, c: DockerJson | undefined, images: ImageObservation[]): ContainerObservation {
  if (!c) return { name, present: false, running: false, networks: [] };
  const state = c.State ?? {};
  return {
    name,
    present: true,
    mode: detectMode(c.Config?.Labels ?? null),
    id: c.Id,
    state: state.Status,
    running: state.Running === true,
    health: (state.Health?.Status as HealthStatus | undefined) ?? 'none',
    imageRef: c.Config?.Image,
    imageId: c.Image,
    created: c.Created,
    networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
    image: images.find((i) => i.id === c.Image),
    inspect: c,
  };
}

/** Turn the script's output into facts (pure). */
export function parseObserveOutput(stdout: string, marker: string, containers: readonly string[]): Omit<HostFacts, 'host' | 'address' | 'reachable' | 'connectMs'> {
  const s = parseSections(stdout, marker);
  const access = s.get('access');
  if (!access) {
    return {
      problem: { message: 'the host answered, but not with the observation script’s output', fix: 'check that the SSH user’s shell is a POSIX shell (sh, bash, dash)', output: tail(stdout, 10) },
      docker: { access: 'unavailable', needsSudo: false },
      containers: containers.map((n) => toContainer(n, undefined, [])),
      images: [],
      networks: [],
      allContainers: [],
    };
  }
  const [head = '', ...rest] = access.text.split('\n');
  const [acc, plain] = head.split(' ');
  const docker: HostFacts['docker'] = { access: acc as DockerAccess, needsSudo: acc === 'sudo' && plain === 'no' };
  if (docker.access === 'unavailable') docker.error = rest.join('\n').trim();
  const version = s.get('version');
  const [v, api] = version?.rc === 0 ? (version.text.trim().split('\n').at(-1)?.split(' ') ?? []) : [];
  if (v) Object.assign(docker, { version: v, apiVersion: api });
  const store = s.get('store');
  if (store?.rc === 0 && store.text.trim()) {
    docker.store = imageStoreOf(store.text);
    docker.driver = store.text.trim().split(/\s/)[0];
  }
  const tarSplit = s.get('tarsplit');
  if (tarSplit) docker.tarSplit = tarSplit.rc === 0 && tarSplit.text.trim() !== '';
  const images = (parseJsonArray(s.get('images')?.text ?? '') as DockerJson[]).map(toImage);
  const inspected = parseJsonArray(s.get('containers')?.text ?? '') as DockerJson[];
  const df = s.get('df');
  const dfRow = df?.rc === 0 ? df.text.trim().split('\n').at(-1)?.trim().split(/\s+/) : undefined;
  const dataRoot = s.get('dataroot');
  const networks = s.get('networks');
  return {
    docker,
    containers: containers.map((n) => toContainer(n, inspected.find((c) => c?.Name === `/${n}`), images)),
    images,
    dataRoot: dataRoot?.text.trim() || undefined,
    freeBytes: dfRow && /^\d+$/.test(dfRow[3] ?? '') ? Number(dfRow[3]) * 1024 : undefined,
    networks: networks?.rc === 0 ? networks.text.split('\n').map((l) => l.trim()).filter(Boolean) : [],
    allContainers: jsonLines(s.get('ps')?.text ?? '').map((p) => ({ name: String(p.Names ?? ''), image: String(p.Image ?? ''), status: String(p.Status ?? '') })),
  };
}

