// The runspec adapter for planning: PROD's own inspect + the new image → docker create argv and env.
import { parseImageInspect, parseInspect } from '../core/inspect.ts';
import type { ContainerInput, Rebuild } from '../core/plan.ts';
import { cidfileRemoval, networkConnectArgv, renderRunCommand, runSpecToArgv, toRunSpec } from '../core/runspec.ts';
import type { DaemonContext } from './inspect.ts';

/** Rebuild a target container with a new image; env goes to `envFile` (written over SSH stdin, 0600). */
export function rebuildContainer(c: ContainerInput, image: string, envFile: string, secrets: readonly string[], ctx?: DaemonContext): Rebuild {
  const facts = parseInspect(c.target);
  const oldImage = parseImageInspect(c.targetImage);
  const { spec, warnings } = toRunSpec(facts, oldImage, { image, daemon: ctx?.daemon, names: ctx?.names });
  const { argv, extraNetworks, env } = runSpecToArgv(spec, { mode: 'create', name: c.name, image, envFile, apiVersion: ctx?.apiVersion });
  return {
    argv,
    ...(spec.cidfile ? { before: [cidfileRemoval(spec.cidfile)] } : {}),
    env,
    networkConnects: extraNetworks.map((n) => networkConnectArgv(n, c.name)),
    runCommand: renderRunCommand(spec, { name: c.name, image, secrets: [...secrets], reveal: false, apiVersion: ctx?.apiVersion }),
    warnings,
  };
}
