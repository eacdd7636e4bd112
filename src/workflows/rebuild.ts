// The runspec adapter for planning: PROD's own inspect + the new image → docker create argv and env.
import { dockerNetworkConnect } from '../core/docker.ts';
import { parseImageInspect, parseInspect } from '../core/inspect.ts';
import type { ContainerInput, Rebuild } from '../core/plan.ts';
import { renderRunCommand, runSpecToArgv, toRunSpec } from '../core/runspec.ts';

/** Rebuild a target container with a new image; env goes to `envFile` (written over SSH stdin, 0600). */
export function rebuildContainer(c: ContainerInput, image: string, envFile: string, secrets: readonly string[], apiVersion?: string): Rebuild {
  const facts = parseInspect(c.target);
  const oldImage = parseImageInspect(c.targetImage);
  const { spec, warnings } = toRunSpec(facts, oldImage, { image });
  const { argv, extraNetworks, env } = runSpecToArgv(spec, { mode: 'create', name: c.name, image, envFile, apiVersion });
  return {
    argv,
    env,
    networkConnects: extraNetworks.map((n) => dockerNetworkConnect(n.name, c.name, { aliases: n.aliases, ipv4: n.ipv4, ipv6: n.ipv6, links: n.links }).argv),
    runCommand: renderRunCommand(spec, { name: c.name, image, secrets: [...secrets], reveal: false }),
    warnings,
  };
}
