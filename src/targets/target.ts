// The seam: what a release target (how the target host runs containers: docker run, compose, …) gives
// the workflows. A target is one folder under src/targets/; the list is src/targets/index.ts.
import type { SshHost } from '../adapters/ssh.ts';
import type { ContainerInput, InspectLike, PromotionInput } from '../core/plan.ts';
import type { HistoryContainer, UndoLock, UndoTarget } from '../core/rollback-plan.ts';
import type { TargetView } from '../core/host-facts.ts';
import type { Plan, PlannedContainer, PlanPart, Step, StepCommand } from '../core/step.ts';

export type { TargetView } from '../core/host-facts.ts';

/** What observing the target host found for one target (reads only). */
export interface Observed<F> {
  facts: F;
  /** Lines for the plan's header (files, paths, choices made). */
  header: string[];
  warnings: string[];
  /** How the host runs the containers this target claims, for the `mode on <host>:` line (e.g. `via docker compose 2.26`). */
  via?: string;
  /** Config names this target stands for on the host instead of a container of that name (a swarm service); they replace what `docker inspect` found. */
  stands?: Map<string, InspectLike>;
}

/** What observing may know beyond the target host: every configured host, by name and address (e.g. to match swarm nodes). */
export interface ObserveContext {
  hosts: readonly { name: string; address: string }[];
  /** The swarm service the config names for a container (`service:`), by container name. */
  services?: ReadonlyMap<string, string>;
  /** A configured host's image store (reads only; undefined when it cannot be read). Releases give it; status does not. */
  storeOf?: (host: string) => Promise<'classic' | 'containerd' | undefined>;
}

/** A target's share of a release (pure planning output). */
export interface PlannedPart<D> {
  /** Commands added to the release's snapshot step, before anything changes. */
  snapshot: StepCommand[];
  /** Source ref → the ref the new image is tagged under instead (a digest ref cannot be a tag). */
  tagAs: Map<string, string>;
  /** Other configured hosts that must hold every image of this part before its steps (a swarm's nodes): the frame plans a transfer to each. */
  nodes?: string[];
  /** Its steps, after the shared snapshot, transfers and tags. */
  steps: Step[];
  warnings: string[];
  /** The target's own data, kept in the plan (plan.parts) for its rollback, journal and history. */
  data: D;
}

/** What a failed release's undo is made from. */
export interface UndoInput {
  plan: Plan;
  /** The planned containers of this part. */
  containers: PlannedContainer[];
  /** The target host's containers as they were before the first change. */
  before: Map<string, InspectLike | undefined>;
  intervalMs: number;
  lock?: UndoLock;
}

/** How a part is undone: container undos and scripts for the journal (crash guard, recover), steps for releaseflow. */
export interface PartUndo {
  targets: UndoTarget[];
  scripts: string[];
  steps: Step[];
  /** What the operator runs by hand when the automatic undo failed. */
  manual: string[];
}

/** `releaseflow rollback` of a recorded release: what a target brings back of it. */
export interface RestoreInput {
  host: SshHost;
  /** Another configured host by name (a swarm's nodes), undefined when the config has none of that name. */
  hostOf: (name: string) => SshHost | undefined;
  app: string;
  /** This rollback's id and release folder on the target. */
  releaseId: string;
  release: string;
  /** The release being undone, as history recorded it. */
  entry: RecordedRelease;
  /** This target's containers of that release. */
  containers: HistoryContainer[];
  health: Map<string, { url?: string; timeoutMs: number }>;
  intervalMs: number;
}

/** A recorded release as history keeps it (targets add their own fields, e.g. `compose`). */
export interface RecordedRelease {
  releaseId: string;
  containers: HistoryContainer[];
  [field: string]: unknown;
}

export interface RestorePart {
  header: string[];
  /** Commands of the rollback's first step (its folder, snapshots of what it changes). */
  prepare: StepCommand[];
  steps: Step[];
  /** After the rollback failed (or for the journal): put back what was live before it. */
  undo: (before: Map<string, InspectLike | undefined>, lock?: UndoLock) => PartUndo;
  /** Fields history records for this rollback (e.g. compose files and their hashes). */
  record?: (host: SshHost) => Promise<Record<string, unknown>>;
  /** The name each container's displaced version keeps in history. */
  prevNameOf: (c: HistoryContainer) => string;
}

export interface ReleaseTarget<F = unknown, D = unknown> {
  readonly name: string;
  /** The target that releases every container no other target claims (docker run). */
  readonly fallback?: boolean;
  /** What it puts back on a rollback, in words for the result line ("the previous containers"). */
  readonly restores: string;
  /** Reads only: what this target needs of the host for these containers (their inspect). */
  observe(host: SshHost, containers: ReadonlyMap<string, InspectLike | undefined>, ctx: ObserveContext): Promise<Observed<F>>;
  /** status and doctor: the names this target stands for on the host (no container of that name), from its observed facts. Targets without one show containers only. */
  views?(facts: F): TargetView[];
  /** Does this target release the container, by the observed facts (never by trying)? */
  claims(container: string, facts: F): boolean;
  /** Plan the release of its containers (pure); `planned` are its entries of plan.containers. */
  plan(input: PromotionInput, mine: ContainerInput[], facts: F, planned: PlannedContainer[]): PlannedPart<D>;
  /** How a failed release of its part is undone (pure). */
  undo(data: D, u: UndoInput): PartUndo;
  /** What history records of the part beyond its containers (e.g. compose files and their hashes). */
  record?(host: SshHost, data: D): Promise<Record<string, unknown>>;
  /** The containers of a recorded release this target released. */
  recorded(entry: RecordedRelease): string[];
  /** `releaseflow rollback`: check the host (reads only) and plan the restore of its containers of a recorded release. */
  restore(input: RestoreInput): Promise<RestorePart>;
}

/** A target of the list, whatever its facts and data (the workflows hand each its own back). */
// biome-ignore lint/suspicious/noExplicitAny: each target's facts and data are its own; the workflows only pass them back
export type AnyTarget = ReleaseTarget<any, any>;

/** The target that releases a container: the first that claims it, else the fallback. */
export function ownerOf(targets: readonly AnyTarget[], facts: ReadonlyMap<string, unknown>, container: string): AnyTarget {
  const own = targets.find((t) => !t.fallback && t.claims(container, facts.get(t.name)));
  const owner = own ?? targets.find((t) => t.fallback);
  if (!owner) throw new Error(`no release target claims ${container} and none is the fallback`);
  return owner;
}

/** The parts of a plan with the target that planned each (a part of an unknown target is an error: the list changed). */
export function partsOf(targets: readonly AnyTarget[], plan: Plan): { target: AnyTarget; part: PlanPart }[] {
  return (plan.parts ?? []).map((part) => {
    const target = targets.find((t) => t.name === part.target);
    if (!target) throw new Error(`the plan names release target ${part.target}, which this releaseflow does not have`);
    return { target, part };
  });
}
