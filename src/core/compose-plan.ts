// planWithCompose: the promotion plan when the target runs (some of) the app by docker compose (pure).
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
} from './compose.ts';
import { buildDriftCheckScript } from './compose-check.ts';
import { type ContainerInput, planPromotion, type PromotionInput, type Rebuild } from './plan.ts';
import { shJoin, shQuote } from './quote.ts';
import { statePaths } from './state.ts';
import type { Plan, Step, StepCommand } from './step.ts';

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

/** A promotion plan with compose projects in it. */
export type ComposePlan = Plan & { compose: { projects: ComposeProjectRelease[] } };

/** Is this a plan with compose projects (released by finishComposeRelease)? */
export function isComposePlan(plan: Plan): plan is ComposePlan {
  return (plan as Partial<ComposePlan>).compose !== undefined;
}

const NO_REBUILD: Rebuild = { argv: [], env: [], networkConnects: [], runCommand: '', warnings: [] };

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

/** One line per host: how it runs the app. */
function modeLines(input: PromotionInput, obs: ComposeObservation): string[] {
  const srcCompose = input.containers.filter((c) => c.source?.Config.Labels?.['com.docker.compose.project']).map((c) => c.name);
  const dstCompose = input.containers.filter((c) => obs.targets.has(c.name)).map((c) => c.name);
  const describe = (names: string[]) => (names.length === 0 ? 'run' : names.length === input.containers.length ? 'compose' : `mixed (compose: ${names.join(', ')}; the rest run)`);
  const clis = [...new Set([...obs.targets.values()].map((t) => describeCli(t.project.cli)))];
  return [
    `mode on ${input.from.name}: ${describe(srcCompose)}`,
    `mode on ${input.to.name}: ${describe(dstCompose)}${clis.length ? ` via ${clis.join(', ')}` : ''}`,
  ];
}

/** The promotion plan: run-mode steps from planPromotion, compose containers released through their project. */
export function planWithCompose(input: PromotionInput, obs: ComposeObservation): Plan {
  const isCompose = (c: ContainerInput) => obs.targets.has(c.name);
  const base = planPromotion({ ...input, rebuild: (c, image, envFile) => (isCompose(c) ? NO_REBUILD : input.rebuild(c, image, envFile)) });
  const at = Math.max(0, base.header.length - 1);
  base.header.splice(at, 0, ...modeLines(input, obs), ...obs.header);
  base.warnings.push(...obs.warnings);
  const changing = input.containers.filter((c) => isCompose(c) && c.target!.Image !== c.source!.Image);
  if (base.upToDate || changing.length === 0) return base;

  const paths = statePaths(input.stateDir, input.app, input.releaseId);
  const to = input.to.name;
  const projects = new Map<ComposeProjectTarget, ComposeProjectRelease>();
  const repinned = new Map<string, string>();
  for (const c of input.containers) {
    const t = obs.targets.get(c.name);
    if (!t) continue;
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
    if (changes && pin !== c.source!.Config.Image) repinned.set(c.source!.Config.Image, pin);
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
  for (const p of base.containers) if (obs.targets.has(p.name)) p.runCommand = undefined;

  // run-mode steps stay as planned; the compose containers' swap and health steps are replaced
  const health = new Map<string, Step>();
  const steps: Step[] = [];
  for (const s of base.steps) {
    if (s.container && obs.targets.has(s.container)) {
      if (s.kind === 'health') health.set(s.container, s);
      continue;
    }
    steps.push(s);
  }
  // a digest ref cannot be a tag: the tag step names the image by its pinned ref instead
  const tagStep = steps.find((s) => s.kind === 'exec' && s.name === 'tag images');
  if (tagStep?.kind === 'exec') {
    for (const cmd of tagStep.commands) if (cmd.argv?.[1] === 'tag' && repinned.has(cmd.argv[3]!)) cmd.argv = [...cmd.argv.slice(0, 3), repinned.get(cmd.argv[3]!)!];
  }
  const snapCmds: StepCommand[] = [
    { script: `umask 077 && mkdir -p ${shQuote(`${paths.release}/compose`)}` },
    ...released.map((p) => ({ script: buildSnapshotFilesScript(p.files) })),
  ];
  const snap = steps.find((s) => s.kind === 'exec' && s.name === 'snapshot');
  if (snap?.kind === 'exec') snap.commands.push(...snapCmds);
  else steps.unshift({ kind: 'exec', name: 'snapshot', host: to, cause: 'save the compose files releaseflow changes', commands: snapCmds });

  for (const p of released) {
    const ch = p.services.filter((s) => s.changes);
    const override = renderOverride(p.services, { version: p.fileVersion, releaseId: input.releaseId, from: input.from.name });
    const tmp = `${p.overridePath}.releaseflow-tmp`;
    const how = p.pin === 'override' ? 'compose loads it by itself as the project\'s override file; the .env is not changed' : `list it in COMPOSE_FILE of ${p.envPath}`;
    steps.push({
      kind: 'exec',
      name: `compose files ${p.project}`,
      host: to,
      cause: `pin ${ch.map((s) => `${s.service} to ${s.image}`).join(', ')} in ${p.overridePath} (${how}), so a plain docker compose up -d keeps these images (the project's own compose file is not changed); then check that no other service of the project changes`,
      commands: [
        // the content is in the command (no secrets in it): the log shows exactly what was written
        { script: `umask 022 && printf '%s' ${shQuote(override)} > ${shQuote(tmp)} && mv ${shQuote(tmp)} ${shQuote(p.overridePath)}` },
        ...(p.pin === 'env' && p.composeFile ? [{ script: buildEnvEditScript(p.envPath, p.composeFile) }] : []),
        { script: buildDriftCheckScript(p.cli, p.workingDir, p.project, ch, 'before') },
      ],
    });
    steps.push({
      kind: 'exec',
      name: `compose up ${p.project}`,
      host: to,
      cause: `recreate only ${ch.map((s) => s.service).join(', ')} with ${describeCli(p.cli)} in ${p.workingDir} (${p.cli.flavor === 'v1' ? '--no-deps' : 'dependencies are unchanged, so up leaves them alone'}), then check the image IDs and that a plain up -d would recreate nothing`,
      commands: [
        { script: buildComposeUpScript(p.cli, p.workingDir, p.project, ch.map((s) => s.service)) },
        { script: buildVerifyScript(p.project, ch.map((s) => ({ container: s.container, imageId: s.imageId }))) },
        { script: buildDriftCheckScript(p.cli, p.workingDir, p.project, ch, 'after') },
      ],
    });
    for (const s of ch) {
      const h = health.get(s.container);
      if (h) steps.push(h);
    }
  }
  const plan: ComposePlan = { ...base, steps, compose: { projects: released } };
  return plan;
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
    { kind: 'exec', name: `rollback: restore compose files ${p.project}`, host, cause, commands: [{ script: buildRestoreFilesScript(p.files) }] },
    {
      kind: 'exec',
      name: `rollback: compose up ${p.project}`,
      host,
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
