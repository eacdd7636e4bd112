// The compose target's plans (pure): the release of compose services, and the restore of a project.
import {
  buildComposeUpScript,
  buildEnvEditScript,
  buildRestoreFilesScript,
  buildSnapshotFilesScript,
  buildVerifyScript,
  type ComposeCli,
  describeCli,
  type ManagedFile,
  renderOverride,
} from '../../core/compose.ts';
import { buildDriftCheckScript } from '../../core/compose-check.ts';
import type { ContainerInput, PromotionInput } from '../../core/plan.ts';
import { buildPrivateDirScript, buildWriteTextScript } from '../../core/file-scripts.ts';
import { shJoin } from '../../core/quote.ts';
import { statePaths } from '../../core/state.ts';
import type { Step, StepCommand } from '../../core/step.ts';
import { healthStep } from '../plan.ts';
import type { PlannedPart } from '../target.ts';

/** A compose project on the target that releaseflow can drive (its files are there, a compose CLI is). */
export interface ComposeProjectTarget {
  project: string;
  workingDir: string;
  /** config_files as the labels list them. */
  configFiles: string[];
  composePath: string;
  envPath: string;
  overridePath: string;
  cli: ComposeCli;
  /** Top-level `version:` of the project's first compose file, repeated in the override (compose v1 needs it). */
  fileVersion?: string;
  /** How the override is loaded: compose's own override file (the .env is not touched), or COMPOSE_FILE in the .env. */
  pin: 'override' | 'env';
  /** COMPOSE_FILE the release writes to the .env (pin `env` only). */
  composeFile?: string;
}

/** What observing the target found: containers releasable in compose mode, and notes for the log. */
export interface ComposeObservation {
  /** Container name → its service and project (only containers compose mode can release). */
  targets: Map<string, { service: string; project: ComposeProjectTarget }>;
  warnings: string[];
  header: string[];
}

/** One service of a compose release: the image it is pinned to, and the one it ran before. */
export interface ComposeServiceRelease {
  container: string;
  service: string;
  /** Pinned in the override: TEST's image ref when it changes, the running one otherwise. */
  image: string;
  imageId: string;
  prevRef: string;
  prevId: string;
  changes: boolean;
}

export interface ComposeProjectRelease extends ComposeProjectTarget {
  /** The .env and the override, with their snapshots in the release folder. */
  files: ManagedFile[];
  services: ComposeServiceRelease[];
}

/** What the compose target keeps in the plan (plan.parts): the projects it releases. */
export interface ComposeData {
  projects: ComposeProjectRelease[];
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9._-]/g, '-');

/** A ref that `docker tag` can put back (not an image ID, not a digest). */
export function isTaggableRef(ref: string, id: string): boolean {
  return ref !== id && !ref.startsWith('sha256:') && !/^[0-9a-f]{12,64}$/.test(ref) && !ref.includes('@');
}

/**
 * The ref a released service is pinned to. A digest ref (`repo@sha256:…`) cannot be used: the image
 * came by docker save/load, which keeps no repo digest, so compose would try to pull it. Such a service
 * is pinned to a tag of the same repository that names the release (`repo:releaseflow-<id>`).
 */
export function pinnedRef(sourceRef: string, id: string, releaseId: string, container: string): string {
  if (isTaggableRef(sourceRef, id)) return sourceRef;
  const at = sourceRef.indexOf('@');
  if (at <= 0) return `releaseflow/${slug(container)}:${releaseId.toLowerCase()}`;
  const repo = sourceRef.slice(0, at);
  const colon = repo.lastIndexOf(':');
  return `${colon > repo.lastIndexOf('/') ? repo.slice(0, colon) : repo}:releaseflow-${releaseId.toLowerCase()}`;
}

/** The release of the compose containers: the override pins their images, compose recreates them, health. */
export function planCompose(input: PromotionInput, mine: ContainerInput[], obs: ComposeObservation): PlannedPart<ComposeData> {
  const paths = statePaths(input.stateDir, input.app, input.releaseId);
  const to = input.to.name;
  const projects = new Map<ComposeProjectTarget, ComposeProjectRelease>();
  const tagAs = new Map<string, string>();
  // every container of a released project is pinned, changed or not (an unchanged one to what it runs)
  for (const c of input.containers) {
    const t = obs.targets.get(c.name);
    if (!t || c.targetMode !== 'compose') continue;
    let p = projects.get(t.project);
    if (!p) {
      const key = `${projects.size + 1}-${slug(t.project.project)}`;
      p = {
        ...t.project,
        files: [
          { path: t.project.envPath, snapshot: `${paths.release}/compose/${key}.dotenv` },
          { path: t.project.overridePath, snapshot: `${paths.release}/compose/${key}.override.yml` },
        ],
        services: [],
      };
      projects.set(t.project, p);
    }
    const changes = c.target!.Image !== c.source!.Image;
    const pin = pinnedRef(c.source!.Config.Image, c.source!.Image, input.releaseId, c.name);
    // a digest ref cannot be a tag: the tag step names the image by its pinned ref instead
    if (changes && pin !== c.source!.Config.Image) tagAs.set(c.source!.Config.Image, pin);
    p.services.push({
      container: c.name,
      service: t.service,
      image: changes ? pin : c.target!.Config.Image,
      imageId: changes ? c.source!.Image : c.target!.Image,
      prevRef: c.target!.Config.Image,
      prevId: c.target!.Image,
      changes,
    });
  }
  const released = [...projects.values()].filter((p) => p.services.some((s) => s.changes));
  const snapshot: StepCommand[] = [
    { script: buildPrivateDirScript(`${paths.release}/compose`) },
    ...released.map((p) => ({ script: buildSnapshotFilesScript(p.files) })),
  ];
  const steps: Step[] = [];
  for (const p of released) {
    const ch = p.services.filter((s) => s.changes);
    const affects = ch.map((s) => s.container);
    const override = renderOverride(p.services, { version: p.fileVersion, releaseId: input.releaseId, from: input.from.name });
    const how = p.pin === 'override' ? 'compose loads it by itself as the project\'s override file; the .env is not changed' : `list it in COMPOSE_FILE of ${p.envPath}`;
    steps.push({
      kind: 'exec',
      act: 'compose-files',
      name: `compose files ${p.project}`,
      host: to,
      affects,
      cause: `pin ${ch.map((s) => `${s.service} to ${s.image}`).join(', ')} in ${p.overridePath} (${how}), so a plain docker compose up -d keeps these images (the project's own compose file is not changed); then check that no other service of the project changes`,
      commands: [
        // the content is in the command (no secrets in it): the log shows exactly what was written
        { script: buildWriteTextScript(p.overridePath, override) },
        ...(p.pin === 'env' && p.composeFile ? [{ script: buildEnvEditScript(p.envPath, p.composeFile) }] : []),
        { script: buildDriftCheckScript(p.cli, p.workingDir, p.project, ch, 'before') },
      ],
    });
    steps.push({
      kind: 'exec',
      act: 'compose-up',
      name: `compose up ${p.project}`,
      host: to,
      affects,
      cause: `recreate only ${ch.map((s) => s.service).join(', ')} with ${describeCli(p.cli)} in ${p.workingDir} (${p.cli.flavor === 'v1' ? '--no-deps' : 'dependencies are unchanged, so up leaves them alone'}), then check the image IDs and that a plain up -d would recreate nothing`,
      commands: [
        { script: buildComposeUpScript(p.cli, p.workingDir, p.project, ch.map((s) => s.service)) },
        { script: buildVerifyScript(p.project, ch.map((s) => ({ container: s.container, imageId: s.imageId }))) },
        { script: buildDriftCheckScript(p.cli, p.workingDir, p.project, ch, 'after') },
      ],
    });
    for (const s of ch) steps.push(healthStep(input, mine.find((c) => c.name === s.container)!));
  }
  return { snapshot, tagAs, steps, warnings: [], data: { projects: released } };
}

/** Under the COMPOSE_FILE pin, a restore passes the files the containers were created with when the restored .env names none. */
function restoreFiles(p: ComposeProjectRelease): { envPath: string; chain: string[] } | undefined {
  return p.pin === 'override' ? undefined : { envPath: p.envPath, chain: p.configFiles };
}

/** Steps that put a compose project back: its files from the snapshots, each image under its old ref, `up`, verify, health. */
export function planComposeRestoreSteps(
  host: string,
  p: ComposeProjectRelease,
  back: readonly { container: string; service: string; ref: string; id: string }[],
  health: readonly Step[],
  cause: string,
): Step[] {
  const tags = back.filter((b) => isTaggableRef(b.ref, b.id)).map((b) => ({ argv: ['docker', 'tag', b.id, b.ref] }));
  const steps: Step[] = [
    { kind: 'exec', act: 'restore-files', name: `rollback: restore compose files ${p.project}`, host, cause, commands: [{ script: buildRestoreFilesScript(p.files) }] },
    {
      kind: 'exec',
      act: 'restore',
      name: `rollback: compose up ${p.project}`,
      host,
      affects: back.map((b) => b.container),
      cause: `bring back ${back.map((b) => `${b.service} on ${b.ref}`).join(', ')} through the project's own compose files`,
      commands: [
        ...tags,
        { script: buildComposeUpScript(p.cli, p.workingDir, p.project, back.map((b) => b.service), restoreFiles(p)) },
        { script: buildVerifyScript(p.project, back.map((b) => ({ container: b.container, imageId: b.id }))) },
      ],
    },
  ];
  for (const h of health) {
    if (h.kind === 'health' && back.some((b) => b.container === h.container)) steps.push({ ...h, name: `rollback: health ${h.container}`, cause: 'the restored container must be healthy again' });
  }
  return steps;
}

/** Print-only form of the restore, for the operator when the automatic one fails. */
export function manualRestoreCommands(p: ComposeProjectRelease, back: readonly { service: string; ref: string; id: string }[]): string {
  return [
    buildRestoreFilesScript(p.files),
    ...back.filter((b) => isTaggableRef(b.ref, b.id)).map((b) => shJoin(['docker', 'tag', b.id, b.ref])),
    buildComposeUpScript(p.cli, p.workingDir, p.project, back.map((b) => b.service), restoreFiles(p)),
  ].join('\n');
}
