// The migrate hook's one-off container: the new image with the container's own env, networks and
// mounts, but nothing that belongs to the live container (its name, ports, addresses, aliases,
// restart policy, compose labels), run attached and removed afterwards (pure).
import type { RunSpec } from './runspec-types.ts';

/** The run spec of the one-off: the command runs through the image's `sh -c`. */
export function oneOffSpec(spec: RunSpec, command: string): RunSpec {
  return {
    ...spec,
    entrypoint: ['sh'],
    cmd: ['-c', command],
    publish: [],
    publishAll: false,
    macAddress: undefined,
    restart: undefined,
    // a one-off is removed when it exits: no restart policy (docker refuses --restart with --rm)
    flags: spec.flags.filter(([name]) => name !== '--restart'),
    cidfile: undefined,
    healthcheck: { disable: true },
    // no alias and no fixed address: the live container keeps its name on the network
    networks: spec.networks.map((n) => ({ ...n, aliases: [], ipv4: undefined, ipv6: undefined, linkLocalIps: undefined })),
    labels: Object.fromEntries(Object.entries(spec.labels).filter(([k]) => !k.startsWith('com.docker.compose.'))),
  };
}

/** `docker create …` (possibly behind the env loader) → `docker run --rm …`: attached, so its exit code is the step's. */
export function asOneOffRun(argv: readonly string[]): string[] {
  const i = argv.findIndex((a, j) => a === 'docker' && argv[j + 1] === 'create');
  if (i < 0) throw new Error('expected a docker create command');
  return [...argv.slice(0, i), 'docker', 'run', '--rm', ...argv.slice(i + 2)];
}

/** The one-off container's name. */
export function migrateName(container: string, releaseId: string): string {
  return `${container}-rf-migrate-${releaseId}`;
}
