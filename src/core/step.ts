// Steps: the data a plan is made of. Every step names its host and why it exists.
import type { DirectRoute } from './direct.ts';
import type { DriftItem } from './drift.ts';
import type { RelayLink } from './relay.ts';
import { shortId } from './host-facts.ts';

/** A command inside a step: argv (quoted by the SSH adapter) or a script we built with shJoin. */
export interface StepCommand {
  argv?: string[];
  script?: string;
  /** Data sent on stdin (e.g. an env file); never logged, only described. */
  stdin?: string;
  stdinNote?: string;
  /** A failure of this command does not fail the step (clean-up that may find nothing). */
  allowFail?: boolean;
}

/**
 * What a step does in a release, whoever planned it: code finds steps by their act, never by their
 * display names (`kind` below is how the executor runs a step).
 */
export type StepAct = 'prepare' | 'snapshot' | 'transfer' | 'tag' | 'migrate' | 'swap' | 'create' | 'health' | 'compose-files' | 'compose-up' | 'restore' | 'restore-files' | 'swarm-update';

interface StepBase {
  name: string;
  host: string;
  cause: string;
  act: StepAct;
  /** Which container this step changes, if any: drives rollback bookkeeping. */
  container?: string;
  /** The containers a step changes that is not about one (a compose up): their logs are shown when it fails. */
  affects?: string[];
}

export type Step =
  | (StepBase & { kind: 'exec'; commands: StepCommand[]; marks?: StepMark })
  | (StepBase & { kind: 'transfer'; from: string; to: string; imageId: string; ref: string; bytes?: number; direct?: DirectRoute; relay?: RelayLink })
  | (StepBase & {
      kind: 'health';
      container: string;
      url?: string;
      dockerHealth: boolean;
      timeoutMs: number;
      intervalMs: number;
    });

/** What a successful step means for rollback: the old container moved aside, or the new one exists. */
export type StepMark = 'renamed-old' | 'created-new' | 'stopped-old' | 'started-new';

/** The plan of a release: header facts for the log and the ordered steps. */
export interface Plan {
  kind: 'promote' | 'rollback';
  releaseId: string;
  app: string;
  from?: { name: string; address: string };
  to: { name: string; address: string };
  header: string[];
  containers: PlannedContainer[];
  steps: Step[];
  upToDate: boolean;
  warnings: string[];
  /** How TEST's settings differ from PROD's in what the release keeps from PROD (drift.ts). */
  drift?: DriftItem[];
  /** Settings taken from TEST (promote --carry), e.g. `env:FEATURE_X`. */
  carried?: string[];
  /** What each release target planned (src/targets), in step order: its own data for its rollback and history. */
  parts?: PlanPart[];
}

/** One target's share of a release plan: the target's name, its containers, and the data it planned with. */
export interface PlanPart {
  target: string;
  containers: string[];
  data?: unknown;
}

export interface PlannedContainer {
  name: string;
  /** The release target that releases it on the target host (src/targets): run, compose, … */
  mode: string;
  fromRef?: string;
  fromId?: string;
  toRef: string;
  toId: string;
  /** The target's container ID when planned: a container re-created since makes the plan stale. */
  toContainerId?: string;
  prevName: string;
  prevTag: string;
  changes: boolean;
  /** The readable docker run command, secrets masked. */
  runCommand?: string;
  /** How its health is checked after the release (also what its rollback checks). */
  health?: { url?: string; timeoutMs: number };
  /** The target lacks it: the release creates it from the source's inspect (bootstrap), with these networks and named volumes the target lacks. */
  created?: { networks: string[]; volumes: string[] };
}

/** Printable form of a step command. */
export function describeCommand(c: StepCommand, render: (argv: string[]) => string): string {
  const base = c.argv ? render(c.argv) : (c.script ?? '');
  return c.stdinNote ? `${base}  < ${c.stdinNote}` : base;
}

/**
 * The step with every mention of image `from` replaced by `to`: after a transfer onto another image
 * store the target holds the source's image under another ID, and the later steps (tag, create,
 * the swap's image check) must name the target's. IDs are `sha256:<hex>`, never part of other words.
 */
export function bindImageId<T extends Step | PlannedContainer>(value: T, from: string, to: string): T {
  if (from === to || !/^sha256:[0-9a-f]{64}$/.test(from) || !/^sha256:[0-9a-f]{64}$/.test(to)) return value;
  return JSON.parse(JSON.stringify(value).replaceAll(from, to)) as T;
}

/** What a plan was made from on both hosts: the containers, their images, the source's images. */
export function planBasis(p: Plan): string[] {
  return p.containers.map((c) => `${c.name}: ${p.to.name} container ${shortId(c.toContainerId)} on ${c.toRef} (${shortId(c.toId)}), ${p.from?.name ?? 'source'} on ${c.fromRef} (${shortId(c.fromId)})`);
}

/** What changed between a plan and a new one made of fresh observations: the new basis lines (`other containers` when only the set differs); empty when nothing did. */
export function basisChanged(before: Plan, now: Plan): string[] {
  const was = planBasis(before);
  const is = planBasis(now);
  const changed = is.filter((l) => !was.includes(l));
  return changed.length ? changed : is.length === was.length ? [] : ['other containers'];
}
