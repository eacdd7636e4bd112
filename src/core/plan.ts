// planPromotion: a pure function of observed facts → the ordered steps of a docker-run release.
import type { DirectRoute } from './direct.ts';
import { dockerRename, dockerStart, dockerStop, dockerTag, dockerUpdateRestart, restartPolicyValue } from './docker.ts';
import { ReleaseflowError, ExitCode } from './errors.ts';
import { shJoin, shQuote } from './quote.ts';
import { prevContainerName, prevImageTag, statePaths } from './state.ts';
import type { Plan, PlannedContainer, Step, StepCommand } from './step.ts';

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
  targetMode: 'run' | 'compose';
  /** PROD already has TEST's image ID. */
  targetHasSourceImage: boolean;
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
  /** Rebuild a container from the target's own inspect with a new image (pure; see runspec). */
  rebuild: (c: ContainerInput, image: string, envFile: string) => Rebuild;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** Plan a release of TEST's images onto PROD's containers. Throws (exit 2) on facts that forbid it. */
export function planPromotion(input: PromotionInput): Plan {
  const paths = statePaths(input.stateDir, input.app, input.releaseId);
  const warnings: string[] = [];
  for (const c of input.containers) {
    if (!c.source || !c.sourceImage) {
      throw new ReleaseflowError(`container ${c.name} not found on ${input.from.name} (${input.from.address})`, {
        host: input.from.name,
        fix: `start it on ${input.from.name}, or correct containers: in the config (releaseflow status lists what runs)`,
      }, ExitCode.usage);
    }
    if (!c.target || !c.targetImage) {
      throw new ReleaseflowError(`container ${c.name} not found on ${input.to.name} (${input.to.address}); releaseflow rebuilds each container from the target's own configuration`, {
        host: input.to.name,
        fix: `create it once on ${input.to.name} (releaseflow run-command ${input.from.name} ${c.name} prints the command), or correct containers: in the config`,
      }, ExitCode.usage);
    }
  }
  const planned: PlannedContainer[] = input.containers.map((c) => ({
    name: c.name,
    mode: c.targetMode,
    fromRef: c.source!.Config.Image,
    fromId: c.source!.Image,
    toRef: c.target!.Config.Image,
    toId: c.target!.Image,
    toContainerId: c.target!.Id,
    prevName: prevContainerName(c.name, input.releaseId),
    prevTag: prevImageTag(c.name, input.releaseId),
    changes: c.target!.Image !== c.source!.Image,
  }));
  const header = [
    `release ${input.releaseId} of app ${input.app}`,
    `from ${input.from.name} (${input.from.address}) -> to ${input.to.name} (${input.to.address})`,
    ...planned.map(
      (p) =>
        `container ${p.name}: mode=${p.mode} ${input.to.name} runs ${p.toRef} (${short(p.toId)}); ${input.from.name} runs ${p.fromRef} (${short(p.fromId!)})${p.changes ? '' : ' = up to date'}`,
    ),
    `state folder on ${input.to.name}: ${paths.release}`,
  ];
  const changing = input.containers.filter((c) => c.target!.Image !== c.source!.Image);
  if (changing.length === 0) {
    return { kind: 'promote', releaseId: input.releaseId, app: input.app, from: input.from, to: input.to, header, containers: planned, steps: [], upToDate: true, warnings };
  }

  const to = input.to.name;
  const steps: Step[] = [];
  // 1. snapshot: PROD's own inspect of each container and its image, before anything changes
  const snap: StepCommand[] = [{ script: `umask 077 && mkdir -p ${shQuote(paths.release)}` }];
  for (const c of changing) {
    snap.push({ script: `cat > ${shQuote(`${paths.release}/${c.name}.inspect.json`)}`, stdin: JSON.stringify([c.target], null, 1), stdinNote: `docker inspect ${c.name}` });
    snap.push({ script: `cat > ${shQuote(`${paths.release}/${c.name}.image.json`)}`, stdin: JSON.stringify([c.targetImage], null, 1), stdinNote: `docker image inspect ${c.target!.Image}` });
  }
  steps.push({ kind: 'exec', name: 'snapshot', host: to, cause: 'save the current configuration of every container so nothing is lost whatever happens next', commands: snap });

  // 2. move images PROD lacks (one transfer per distinct image ID)
  const moved = new Set<string>();
  for (const c of changing) {
    const id = c.source!.Image;
    if (c.targetHasSourceImage || moved.has(id)) continue;
    moved.add(id);
    steps.push({
      kind: 'transfer',
      name: `transfer ${c.source!.Config.Image}`,
      host: to,
      cause: `${to} lacks image ${short(id)} that ${input.from.name} runs`,
      from: input.from.name,
      to,
      imageId: id,
      ref: c.source!.Config.Image,
      bytes: c.sourceImage!.Size,
      ...(input.direct ? { direct: input.direct } : {}),
    });
  }

  // 3. tags: the new version under its name, the previous image under a tag of ours
  const tags: StepCommand[] = [];
  for (const c of changing) {
    const p = planned.find((x) => x.name === c.name)!;
    tags.push({ argv: dockerTag(c.target!.Image, p.prevTag).argv });
    tags.push({ argv: dockerTag(c.source!.Image, c.source!.Config.Image).argv });
  }
  steps.push({ kind: 'exec', name: 'tag images', host: to, cause: 'keep the previous image reachable for rollback and name the new one by its version', commands: tags });

  // 4. per container: rename old aside, create new from PROD's inspect, stop old, start new; then health
  for (const c of changing) {
    const p = planned.find((x) => x.name === c.name)!;
    const envFile = `${paths.release}/${c.name}.env`;
    const rb = input.rebuild(c, c.source!.Config.Image, envFile);
    warnings.push(...rb.warnings.map((w) => `${c.name}: ${w}`));
    p.runCommand = rb.runCommand;
    const oldPolicy = restartPolicyValue(c.target!.HostConfig.RestartPolicy);
    const cmds: StepCommand[] = [
      { script: `umask 077 && cat > ${shQuote(envFile)}`, stdin: rb.env.map((e) => `${e}\n`).join(''), stdinNote: `env file (${rb.env.length} entries, mode 0600)` },
      { argv: dockerRename(c.name, p.prevName).argv },
      ...(rb.before ?? []).map((argv) => ({ argv })),
      { argv: rb.argv },
      { argv: ['rm', '-f', envFile] },
      ...rb.networkConnects.map((argv) => ({ argv })),
      { script: `test "$(${shJoin(['docker', 'inspect', '-f', '{{.Image}}', c.name])})" = ${shQuote(c.source!.Image)} || { echo ${shQuote(`new container does not run image ${c.source!.Image}`)} >&2; exit 1; }` },
      // a stopped previous container must not come back on a daemon restart and take the ports;
      // set while it still runs so the stop → start gap (the only downtime) is one round trip
      { argv: dockerUpdateRestart(p.prevName, 'no').argv },
      { script: `${shJoin(dockerStop(p.prevName).argv)} >/dev/null && ${shJoin(dockerStart(c.name).argv)}` },
    ];
    steps.push({
      kind: 'exec',
      name: `swap ${c.name}`,
      host: to,
      container: c.name,
      cause: `${c.name} runs ${c.target!.Config.Image}; rebuild it from ${to}'s own inspect with ${c.source!.Config.Image} (old kept as ${p.prevName}, restart policy ${oldPolicy})`,
      commands: cmds,
    });
    steps.push({
      kind: 'health',
      name: `health ${c.name}`,
      host: to,
      container: c.name,
      cause: c.healthUrl ? `count it done only when ${c.healthUrl} answers on ${to}` : 'count it done only when the container runs (and Docker reports it healthy)',
      url: c.healthUrl,
      dockerHealth: Boolean(c.sourceImage!.Config?.Healthcheck?.Test?.length && c.sourceImage!.Config?.Healthcheck?.Test?.[0] !== 'NONE'),
      timeoutMs: c.healthTimeoutMs,
      intervalMs: input.intervalMs,
    });
  }
  return { kind: 'promote', releaseId: input.releaseId, app: input.app, from: input.from, to: input.to, header, containers: planned, steps, upToDate: false, warnings };
}
