// planRelease: a pure function of observed facts → the ordered steps of a release. The frame is shared
// (snapshot, transfers, tags); each target plans the release of the containers it claims.
import { dockerTag } from '../core/docker.ts';
import { ExitCode, ReleaseflowError } from '../core/errors.ts';
import { buildPrivateDirScript, buildPrivateFileScript } from '../core/file-scripts.ts';
import type { ContainerInput, PromotionInput, Rebuild } from '../core/plan.ts';
import { prevContainerName, prevImageTag, statePaths } from '../core/state.ts';
import type { Plan, PlannedContainer, PlanPart, Step, StepAct, StepCommand } from '../core/step.ts';
import type { AnyTarget, Observed } from './target.ts';
import { shortId } from '../core/host-facts.ts';


/** Each target with what it observed on the target host; step order is the order of this list. */
export type Observations = readonly { target: AnyTarget; observed: Observed<unknown> }[];

/** Every container must exist on both hosts: releaseflow rebuilds from the target's own configuration. */
function assertPresent(input: PromotionInput): void {
  for (const c of input.containers) {
    if (!c.source || !c.sourceImage) {
      throw new ReleaseflowError(`container ${c.name} not found on ${input.from.name} (${input.from.address})`, {
        host: input.from.name,
        fix: `start it on ${input.from.name}, or correct containers: in the config (releaseflow status lists what runs)`,
      }, ExitCode.usage);
    }
    if ((!c.target || !c.targetImage) && !c.create) {
      throw new ReleaseflowError(`container ${c.name} not found on ${input.to.name} (${input.to.address}); releaseflow rebuilds each container from the target's own configuration`, {
        host: input.to.name,
        fix: `to create it from ${input.from.name}'s inspect, run releaseflow promote --create (or set create: true, or auto: true in its create: overrides, under the container in the config; see the README, "Bootstrap"); or create it once by hand (releaseflow run-command ${input.from.name} ${c.name} prints the command), or correct containers: in the config`,
      }, ExitCode.usage);
    }
  }
}

/** What each created container creates first (bootstrap): the networks and named volumes the target lacks, each by the first container that needs it. */
function creationsOf(input: PromotionInput): Map<string, { networks: string[]; volumes: string[] }> {
  const seen = new Set<string>();
  const first = (kind: string, names: string[]) => names.filter((n) => !seen.has(`${kind} ${n}`) && seen.add(`${kind} ${n}`));
  return new Map(input.containers.filter((c) => c.create).map((c) => [c.name, { networks: first('network', c.create!.networks.map((n) => n.name)), volumes: first('volume', c.create!.volumes.map((v) => v.name)) }]));
}

/** The plan's line about one container: what the target runs and what the source runs, or that the release creates it. */
function containerLine(input: PromotionInput, p: PlannedContainer, creations: Map<string, { networks: string[]; volumes: string[] }>): string {
  const src = `${input.from.name} runs ${p.fromRef} (${shortId(p.fromId!)})`;
  if (!p.created) return `container ${p.name}: mode=${p.mode} ${input.to.name} runs ${p.toRef} (${shortId(p.toId)}); ${src}${p.changes ? '' : ' = up to date'}`;
  const c = creations.get(p.name)!;
  const what = [c.networks.length ? `network ${c.networks.join(', ')}` : '', c.volumes.length ? `volume ${c.volumes.join(', ')}` : ''].filter(Boolean).join(', ');
  return `container ${p.name}: mode=${p.mode} ${input.to.name} has no ${p.name}: CREATE it from ${input.from.name}'s inspect with ${p.fromRef} (${shortId(p.fromId!)})${what ? `, creating ${what} first` : ''}; rollback removes it${c.networks.length ? ' and those networks (once empty)' : ''}, keeps volumes`;
}

/** One line per host: how it runs the app. */
function modeLines(input: PromotionInput, obs: Observations): string[] {
  const srcCompose = input.containers.filter((c) => c.source?.Config.Labels?.['com.docker.compose.project']).map((c) => c.name);
  const byTarget = (name: string) => input.containers.filter((c) => c.targetMode === name).map((c) => c.name);
  const others = obs.filter((o) => !o.target.fallback && byTarget(o.target.name).length > 0);
  const all = input.containers.length;
  const describe = (groups: { name: string; names: string[] }[]) => {
    if (groups.length === 0) return 'run';
    if (groups.length === 1 && groups[0]!.names.length === all) return groups[0]!.name;
    return `mixed (${groups.map((g) => `${g.name}: ${g.names.join(', ')}`).join('; ')}; the rest run)`;
  };
  const via = others.map((o) => o.observed.via).filter(Boolean);
  return [
    `mode on ${input.from.name}: ${describe(srcCompose.length ? [{ name: 'compose', names: srcCompose }] : [])}`,
    `mode on ${input.to.name}: ${describe(others.map((o) => ({ name: o.target.name, names: byTarget(o.target.name) })))}${via.length ? ` via ${via.join(', ')}` : ''}`,
  ];
}

/** What every step about one released container says: its act, name, host, container and cause. */
export function aboutContainer(input: PromotionInput, c: ContainerInput, act: StepAct, cause: string) {
  return { act, name: `${act} ${c.name}`, host: input.to.name, container: c.name, cause };
}

/** The health step of a released container: its URL from the target, and Docker's HEALTHCHECK when the image has one. */
export function healthStep(input: PromotionInput, c: ContainerInput): Step {
  const test = c.sourceImage?.Config?.Healthcheck?.Test;
  const cause = c.healthUrl ? `count it done only when ${c.healthUrl} answers on ${input.to.name}` : 'count it done only when the container runs (and Docker reports it healthy)';
  return {
    kind: 'health',
    ...aboutContainer(input, c, 'health', cause),
    url: c.healthUrl,
    dockerHealth: Boolean(test?.length && test[0] !== 'NONE'),
    timeoutMs: c.healthTimeoutMs,
    intervalMs: input.intervalMs,
  };
}

/** The migrate hook's step, when the release changes its container (else a warning says it is skipped). */
/** Files a rebuilt container needs before its create (env file, seccomp profile: 0600 over stdin), and the env file's removal after it. */
export function rebuildFiles(envFile: string, rb: Rebuild): { write: StepCommand[]; remove: StepCommand } {
  return {
    write: [
      { script: buildPrivateFileScript(envFile), stdin: rb.env.map((e) => `${e}\n`).join(''), stdinNote: `env file (${rb.env.length} entries, mode 0600)` },
      ...(rb.files ?? []).map((f) => ({ script: buildPrivateFileScript(f.path), stdin: f.content, stdinNote: f.what })),
    ],
    remove: { argv: ['rm', '-f', envFile] },
  };
}

function migrateStep(input: PromotionInput, changing: ContainerInput[], release: string, warnings: string[]): Step | undefined {
  const m = input.migrate;
  if (!m) return undefined;
  const c = changing.find((x) => x.name === m.container);
  if (!c) {
    warnings.push(`hooks.migrate: ${m.container} does not change in this release; the migration does not run`);
    return undefined;
  }
  if (c.create) {
    // the one-off is built from the target's own container, which a bootstrap has not made yet
    warnings.push(`hooks.migrate: ${m.container} is created by this release (bootstrap), so the migration does not run; run it once by hand on ${input.to.name} after the release (docker exec ${m.container} …), or release again`);
    return undefined;
  }
  const envFile = `${release}/${c.name}.migrate.env`;
  const rb = m.build(c, c.source!.Config.Image, envFile);
  warnings.push(...rb.warnings.map((w) => `migrate: ${w}`));
  const files = rebuildFiles(envFile, rb);
  return {
    kind: 'exec',
    act: 'migrate',
    name: `migrate ${c.name}`,
    host: input.to.name,
    cause: `run the migration (${m.command}) in a one-off container of ${c.source!.Config.Image} with ${c.name}'s env, networks and mounts, before any container is swapped; if it fails nothing is swapped`,
    commands: [...files.write, { argv: rb.argv }, files.remove],
  };
}

/** A transfer of c's source image to host; the executor verifies the image ID there. */
function transferStep(input: PromotionInput, c: ContainerInput, host: string, name: string, cause: string): Step {
  const src = c.source!;
  return { kind: 'transfer', act: 'transfer', name, host, cause, from: input.from.name, to: host, imageId: src.Image, ref: src.Config.Image, bytes: c.sourceImage!.Size, ...(input.direct ? { direct: input.direct } : {}) };
}

/** One transfer of each image of a part to each other host it needs them on (a swarm's nodes). */
function nodeTransfers(input: PromotionInput, target: string, mine: ContainerInput[], nodes: readonly string[]): Step[] {
  return nodes.flatMap((node) => {
    const ids = new Set<string>();
    return mine.flatMap((c): Step[] => {
      const id = c.source!.Image;
      if (ids.has(id)) return [];
      ids.add(id);
      return [transferStep(input, c, node, `transfer ${c.source!.Config.Image} to ${node}`, `${node} may run ${c.name} (${target}): it must hold image ${shortId(id)} before anything changes`)];
    });
  });
}

/** Each configured container as the plan records it (a created one has no target image or container). */
function plannedOf(input: PromotionInput, creations: Map<string, { networks: string[]; volumes: string[] }>): PlannedContainer[] {
  // every created container's undo tries the networks the release created (removed once no container is on them)
  const networks = [...new Set([...creations.values()].flatMap((c) => c.networks))];
  return input.containers.map((c) => ({
    name: c.name,
    mode: c.targetMode,
    fromRef: c.source!.Config.Image,
    fromId: c.source!.Image,
    toRef: c.target?.Config.Image ?? '',
    toId: c.target?.Image ?? '',
    ...(c.target ? { toContainerId: c.target.Id } : {}),
    prevName: prevContainerName(c.name, input.releaseId),
    prevTag: prevImageTag(c.name, input.releaseId),
    changes: c.target?.Image !== c.source!.Image,
    health: { url: c.healthUrl, timeoutMs: c.healthTimeoutMs },
    ...(c.create ? { created: { networks, volumes: creations.get(c.name)!.volumes } } : {}),
  }));
}

/** Plan a release of the source's images onto the target's containers. Throws (exit 2) on facts that forbid it. */
export function planRelease(input: PromotionInput, obs: Observations): Plan {
  assertPresent(input);
  const paths = statePaths(input.stateDir, input.app, input.releaseId);
  const creations = creationsOf(input);
  const planned = plannedOf(input, creations);
  const header = [
    `release ${input.releaseId} of app ${input.app}`,
    `from ${input.from.name} (${input.from.address}) -> to ${input.to.name} (${input.to.address})`,
    ...planned.map((p) => containerLine(input, p, creations)),
    ...input.containers.flatMap((c) => c.create?.notes.map((n) => `  ${c.name}: ${n}`) ?? []),
    ...modeLines(input, obs),
    ...obs.flatMap((o) => o.observed.header),
    `state folder on ${input.to.name}: ${paths.release}`,
  ];
  const warnings = obs.flatMap((o) => o.observed.warnings);
  const base = { kind: 'promote' as const, releaseId: input.releaseId, app: input.app, from: input.from, to: input.to, header, containers: planned, warnings };
  const changing = input.containers.filter((c) => c.target?.Image !== c.source!.Image);
  const replaced = changing.filter((c) => c.target);
  if (changing.length === 0) return { ...base, steps: [], upToDate: true };

  // each target plans the containers it claims; parts come in the order of the target list
  const parts = obs.flatMap(({ target, observed }) => {
    const mine = changing.filter((c) => c.targetMode === target.name);
    if (mine.length === 0) return [];
    const part = target.plan(input, mine, observed.facts, planned.filter((p) => mine.some((c) => c.name === p.name)));
    warnings.push(...part.warnings);
    return [{ target, mine, part }];
  });
  const to = input.to.name;
  const steps: Step[] = [];
  // 1. snapshot: the target's own inspect of each container and its image, before anything changes (0600: it holds the env)
  const snap: StepCommand[] = [{ script: buildPrivateDirScript(paths.release) }];
  for (const c of replaced) {
    snap.push({ script: buildPrivateFileScript(`${paths.release}/${c.name}.inspect.json`), stdin: JSON.stringify([c.target], null, 1), stdinNote: `docker inspect ${c.name}` });
    snap.push({ script: buildPrivateFileScript(`${paths.release}/${c.name}.image.json`), stdin: JSON.stringify([c.targetImage], null, 1), stdinNote: `docker image inspect ${c.target!.Image}` });
  }
  snap.push(...parts.flatMap((p) => p.part.snapshot));
  steps.push({ kind: 'exec', act: 'snapshot', name: 'snapshot', host: to, cause: 'save the current configuration of every container so nothing is lost whatever happens next', commands: snap });

  // 2. move images the target lacks (one transfer per distinct image ID)
  const moved = new Set<string>();
  for (const c of changing) {
    const id = c.source!.Image;
    if (c.targetHasSourceImage || moved.has(id)) continue;
    moved.add(id);
    steps.push(transferStep(input, c, to, `transfer ${c.source!.Config.Image}`, `${to} lacks image ${shortId(id)} that ${input.from.name} runs`));
  }

  // 2b. every other host a part needs the images on (a swarm's nodes), before anything changes; each transfer verifies the ID there
  steps.push(...parts.flatMap((p) => nodeTransfers(input, p.target.name, p.mine, p.part.nodes ?? [])));

  // 3. tags: the previous image under a tag of ours, the new version under its name (or the ref a target pins it to)
  const tagAs = new Map(parts.flatMap((p) => [...p.part.tagAs]));
  const tags: StepCommand[] = changing.flatMap((c) => [
    ...(c.target ? [{ argv: dockerTag(c.target.Image, planned.find((x) => x.name === c.name)!.prevTag).argv }] : []),
    { argv: dockerTag(c.source!.Image, tagAs.get(c.source!.Config.Image) ?? c.source!.Config.Image).argv },
  ]);
  steps.push({ kind: 'exec', act: 'tag', name: 'tag images', host: to, cause: 'keep the previous image reachable for rollback and name the new one by its version', commands: tags });

  // 4. the migrate hook: a one-off container of the new image, before any container is swapped
  const migrate = migrateStep(input, changing, paths.release, warnings);
  if (migrate) steps.push(migrate);
  // 5. each target's own steps: swap or recreate, then health
  steps.push(...parts.flatMap((p) => p.part.steps));
  const planParts: PlanPart[] = parts.map((p) => ({ target: p.target.name, containers: p.mine.map((c) => c.name), data: p.part.data }));
  return { ...base, steps, upToDate: false, parts: planParts };
}
