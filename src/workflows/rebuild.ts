// The runspec adapter for planning: PROD's own inspect + the new image → docker create argv and env.
import { breaksEnvFile } from '../core/env-loader.ts';
import { asOneOffRun, migrateName, oneOffSpec } from '../core/migrate.ts';
import { parseImageInspect, parseInspect } from '../core/inspect.ts';
import type { ContainerInput, Rebuild } from '../core/plan.ts';
import { cidfileRemoval, networkConnectArgv, type RunSpec, renderRunCommand, runSpecToArgv, toRunSpec } from '../core/runspec.ts';
import { seccompProfilePath } from '../core/seccomp.ts';
import type { DaemonContext } from '../adapters/inspect.ts';

/**
 * Rebuild a target container with a new image; env goes to `envFile` (written over SSH stdin, 0600), values
 * with a line break too, for the env loader (not on a sudo host: sudo clears the environment).
 * `carry`: env names whose value comes from the source container instead (promote --carry env:NAME).
 */
export function rebuildContainer(c: ContainerInput, image: string, envFile: string, secrets: readonly string[], ctx?: DaemonContext, carry: readonly string[] = []): Rebuild {
  const facts = parseInspect(c.target);
  const oldImage = parseImageInspect(c.targetImage);
  const { spec, warnings } = toRunSpec(facts, oldImage, { image, daemon: ctx?.daemon, names: ctx?.names });
  if (carry.length) spec.env = carryEnv(spec.env, c.source?.Config.Env ?? [], carry);
  const envLoader = !ctx?.sudo;
  // the profile goes beside the env file, in the release's folder, and stays there with the release
  const seccompFile = spec.seccompProfile !== undefined ? seccompProfilePath(envFile.slice(0, envFile.lastIndexOf('/')), c.name) : undefined;
  const out = runSpecToArgv(spec, { mode: 'create', name: c.name, image, envFile, envLoader, apiVersion: ctx?.apiVersion, seccompFile });
  const { argv, extraNetworks, env } = out;
  if (!envLoader) {
    const names = [...new Set(spec.env.filter(breaksEnvFile).map((e) => e.slice(0, e.indexOf('='))))];
    for (const n of names) out.warnings.push(`env ${n}: its value has a line break and goes to docker create as an argument (visible in ps on the host while docker create runs): docker runs through sudo there, and sudo does not pass the environment on`);
  }
  const run = renderRunCommand(spec, { name: c.name, image, secrets: [...secrets], reveal: false, apiVersion: ctx?.apiVersion, seccompFile });
  return {
    argv,
    ...(spec.cidfile ? { before: [cidfileRemoval(spec.cidfile)] } : {}),
    env,
    ...(seccompFile ? { files: [{ path: seccompFile, content: spec.seccompProfile!, what: 'seccomp profile from the container\'s inspect (mode 0600)' }] } : {}),
    networkConnects: extraNetworks.map((n) => networkConnectArgv(n, c.name)),
    runCommand: seccompFile ? `# ${seccompFile}: the container's seccomp profile, written by the swap (mode 0600)\n${run}` : run,
    warnings: [...warnings, ...out.warnings],
  };
}

/** PROD's env with the carried names set to the source's values (or removed where the source has none), order kept. */
export function carryEnv(env: readonly string[], sourceEnv: readonly string[], names: readonly string[]): string[] {
  const key = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);
  const from = new Map(sourceEnv.map((e) => [key(e), e]));
  const out = env.filter((e) => !names.includes(key(e)) || from.has(key(e))).map((e) => (names.includes(key(e)) ? from.get(key(e))! : e));
  for (const n of names) if (from.has(n) && !out.some((e) => key(e) === n)) out.push(from.get(n)!);
  return out;
}

/**
 * The migrate hook's one-off container: the target container's env, networks and mounts (from its own
 * inspect) with the new image, run attached with `--rm` (see core/migrate.ts). Env goes to `envFile` as
 * for the swap. Only the first network can be joined by `docker run`: others are named in a warning.
 */
export function migrateContainer(c: ContainerInput, image: string, envFile: string, command: string, releaseId: string, ctx?: DaemonContext): Rebuild {
  const { spec, warnings } = toRunSpec(parseInspect(c.target), parseImageInspect(c.targetImage), { image, daemon: ctx?.daemon, names: ctx?.names });
  // the one-off keeps the container's seccomp profile: written beside its env file, as for the swap
  const seccompFile = spec.seccompProfile !== undefined ? seccompProfilePath(envFile.slice(0, envFile.lastIndexOf('/')), migrateName(c.name, releaseId)) : undefined;
  const out = runSpecToArgv(oneOffSpec(spec, command), { mode: 'create', name: migrateName(c.name, releaseId), image, envFile, envLoader: !ctx?.sudo, apiVersion: ctx?.apiVersion, seccompFile });
  const extra = out.extraNetworks.map((n) => `the migrate container joins ${spec.networks[0]?.name ?? 'the first network'} only, not ${n.name}`);
  const files = seccompFile ? [{ path: seccompFile, content: spec.seccompProfile!, what: "seccomp profile from the container's inspect (mode 0600)" }] : [];
  return { argv: asOneOffRun(out.argv), env: out.env, files, networkConnects: [], runCommand: '', warnings: [...warnings, ...out.warnings, ...extra] };
}

/**
 * A container the target lacks (bootstrap): the runspec planBootstrapSpec built from the source's inspect,
 * as for a swap (env file, env loader, seccomp profile beside it), plus the target's own env file when
 * create.envFile names one.
 */
export function bootstrapContainer(name: string, spec: RunSpec, image: string, envFile: string, secrets: readonly string[], ctx?: DaemonContext, targetEnvFile?: string): Rebuild {
  const seccompFile = spec.seccompProfile !== undefined ? seccompProfilePath(envFile.slice(0, envFile.lastIndexOf('/')), name) : undefined;
  const extraEnvFiles = targetEnvFile ? [targetEnvFile] : [];
  const out = runSpecToArgv(spec, { mode: 'create', name, image, envFile, envLoader: !ctx?.sudo, apiVersion: ctx?.apiVersion, seccompFile, extraEnvFiles });
  const run = renderRunCommand(spec, { name, image, secrets: [...secrets], reveal: false, apiVersion: ctx?.apiVersion, seccompFile, extraEnvFiles });
  return {
    argv: out.argv,
    ...(spec.cidfile ? { before: [cidfileRemoval(spec.cidfile)] } : {}),
    env: out.env,
    ...(seccompFile ? { files: [{ path: seccompFile, content: spec.seccompProfile!, what: "seccomp profile from the source container's inspect (mode 0600)" }] } : {}),
    networkConnects: out.extraNetworks.map((n) => networkConnectArgv(n, name)),
    runCommand: run,
    warnings: out.warnings,
  };
}
