// The runspec adapter for planning: PROD's own inspect + the new image → docker create argv and env.
import { parseImageInspect, parseInspect } from '../core/inspect.ts';
import type { ContainerInput, Rebuild } from '../core/plan.ts';
import { cidfileRemoval, networkConnectArgv, renderRunCommand, runSpecToArgv, toRunSpec } from '../core/runspec.ts';
import { seccompProfilePath } from '../core/seccomp.ts';
import type { DaemonContext } from '../adapters/inspect.ts';

/**
 * Rebuild a target container with a new image; env goes to `envFile` (written over SSH stdin, 0600).
 * `carry`: env names whose value comes from the source container instead (promote --carry env:NAME).
 */
export function rebuildContainer(c: ContainerInput, image: string, envFile: string, secrets: readonly string[], ctx?: DaemonContext, carry: readonly string[] = []): Rebuild {
  const facts = parseInspect(c.target);
  const oldImage = parseImageInspect(c.targetImage);
  const { spec, warnings } = toRunSpec(facts, oldImage, { image, daemon: ctx?.daemon, names: ctx?.names });
  if (carry.length) spec.env = carryEnv(spec.env, c.source?.Config.Env ?? [], carry);
  // the profile goes beside the env file, in the release's folder, and stays there with the release
  const seccompFile = spec.seccompProfile !== undefined ? seccompProfilePath(envFile.slice(0, envFile.lastIndexOf('/')), c.name) : undefined;
  const { argv, extraNetworks, env } = runSpecToArgv(spec, { mode: 'create', name: c.name, image, envFile, apiVersion: ctx?.apiVersion, seccompFile });
  const run = renderRunCommand(spec, { name: c.name, image, secrets: [...secrets], reveal: false, apiVersion: ctx?.apiVersion, seccompFile });
  return {
    argv,
    ...(spec.cidfile ? { before: [cidfileRemoval(spec.cidfile)] } : {}),
    env,
    ...(seccompFile ? { files: [{ path: seccompFile, content: spec.seccompProfile!, what: 'seccomp profile from the container\'s inspect (mode 0600)' }] } : {}),
    networkConnects: extraNetworks.map((n) => networkConnectArgv(n, c.name)),
    runCommand: seccompFile ? `# ${seccompFile}: the container's seccomp profile, written by the swap (mode 0600)\n${run}` : run,
    warnings,
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
