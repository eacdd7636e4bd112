// What a release is planned from: the observed facts of each container on both hosts (src/targets plans it).
import type { DirectRoute } from './direct.ts';

/** The parts of `docker inspect` (container) the planner reads. */
export interface InspectLike {
  Id: string;
  Name: string;
  Image: string;
  Config: { Image: string; Labels?: Record<string, string> | null; Env?: string[] | null };
  HostConfig: { RestartPolicy?: { Name?: string; MaximumRetryCount?: number } };
  State?: { Status?: string; Running?: boolean };
}

/** The parts of `docker image inspect` the planner reads. */
export interface ImageLike {
  Id: string;
  RepoTags?: string[] | null;
  Size?: number;
  Config?: { Healthcheck?: { Test?: string[] } | null } | null;
}

/** What rebuilding a container yields: create argv, env for the env file, extra network connects. */
export interface Rebuild {
  argv: string[];
  /** Run right before the create (the retired container's --cidfile removed). */
  before?: string[][];
  env: string[];
  /** Files written on the target (0600, over stdin) before the create: an inline seccomp profile. */
  files?: { path: string; content: string; what: string }[];
  networkConnects: string[][];
  runCommand: string;
  warnings: string[];
}

export interface ContainerInput {
  name: string;
  healthUrl?: string;
  healthTimeoutMs: number;
  source?: InspectLike;
  sourceImage?: ImageLike;
  target?: InspectLike;
  targetImage?: ImageLike;
  /** The release target that releases it (src/targets: run, compose, …). */
  targetMode: string;
  /** PROD already has TEST's image ID. */
  targetHasSourceImage: boolean;
  /** The target lacks the container and the release creates it (promote --create or create: in the config). */
  create?: BootstrapInput;
}

/** A network or volume the target lacks, with the script that creates it (idempotent). */
export interface Creation {
  name: string;
  script: string;
}

/** How a container the target lacks is created (workflows/bootstrap.ts builds it from both hosts' facts). */
export interface BootstrapInput {
  /** docker create argv and env for the env file at `envFile`, from the source's inspect with the target's overrides. */
  rebuild: (envFile: string) => Rebuild;
  networks: Creation[];
  volumes: Creation[];
  /** Plan lines: where each secret's value comes from, the target's env file. */
  notes: string[];
}

export interface PromotionInput {
  app: string;
  releaseId: string;
  stateDir: string;
  from: { name: string; address: string };
  to: { name: string; address: string };
  containers: ContainerInput[];
  intervalMs: number;
  /** --direct: the target pulls images from the source over this route. */
  direct?: DirectRoute;
  /** The migrate hook: a one-off container of the new image before any swap (config hooks.migrate). */
  migrate?: { container: string; command: string; build: (c: ContainerInput, image: string, envFile: string) => Rebuild };
  /** Rebuild a container from the target's own inspect with a new image (pure; see runspec). */
  rebuild: (c: ContainerInput, image: string, envFile: string) => Rebuild;
}
