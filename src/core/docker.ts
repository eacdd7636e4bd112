// Commands are data: docker argv builders. Tests assert one line each with display().
import { shJoin, shQuote } from './quote.ts';

export interface Cmd {
  argv: string[];
}

/** One readable line for logs and tests. */
export function display(c: Cmd): string {
  return shJoin(c.argv);
}

export const dockerInspect = (...names: string[]): Cmd => ({ argv: ['docker', 'inspect', ...names] });
export const dockerImageInspect = (...refs: string[]): Cmd => ({ argv: ['docker', 'image', 'inspect', ...refs] });
export const dockerRename = (from: string, to: string): Cmd => ({ argv: ['docker', 'rename', from, to] });
export const dockerStop = (name: string, timeoutS?: number): Cmd => ({
  argv: ['docker', 'stop', ...(timeoutS !== undefined ? ['-t', String(timeoutS)] : []), name],
});
export const dockerStart = (name: string): Cmd => ({ argv: ['docker', 'start', name] });
export const dockerRm = (name: string, force = false): Cmd => ({ argv: ['docker', 'rm', ...(force ? ['-f'] : []), name] });
export const dockerTag = (source: string, target: string): Cmd => ({ argv: ['docker', 'tag', source, target] });
export const dockerRmi = (ref: string): Cmd => ({ argv: ['docker', 'rmi', ref] });
export const dockerUpdateRestart = (name: string, policy: string): Cmd => ({ argv: ['docker', 'update', '--restart', policy, name] });
export const dockerLogs = (name: string, tailLines = 200): Cmd => ({ argv: ['docker', 'logs', '--tail', String(tailLines), name] });
export const dockerPsAll = (): Cmd => ({
  argv: ['docker', 'ps', '-a', '--format', 'table {{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Ports}}'],
});
export const dockerSave = (ref: string): Cmd => ({ argv: ['docker', 'save', ref] });
export const dockerLoad = (): Cmd => ({ argv: ['docker', 'load'] });
export const dockerNetworkConnect = (network: string, name: string, opts: { aliases?: string[]; ipv4?: string; ipv6?: string; links?: string[] } = {}): Cmd => ({
  argv: [
    'docker',
    'network',
    'connect',
    ...(opts.aliases ?? []).flatMap((a) => ['--alias', a]),
    ...(opts.ipv4 ? ['--ip', opts.ipv4] : []),
    ...(opts.ipv6 ? ['--ip6', opts.ipv6] : []),
    ...(opts.links ?? []).flatMap((l) => ['--link', l]),
    network,
    name,
  ],
});

/** Restart policy as a `--restart` value from HostConfig.RestartPolicy. */
export function restartPolicyValue(p: { Name?: string; MaximumRetryCount?: number } | undefined): string {
  const name = p?.Name || 'no';
  return name === 'on-failure' && p?.MaximumRetryCount ? `on-failure:${p.MaximumRetryCount}` : name;
}

/** Fail unless the container runs the image (the swap's check that the create took the new image). */
export function buildImageCheckScript(container: string, imageId: string): string {
  return `test "$(${shJoin(['docker', 'inspect', '-f', '{{.Image}}', container])})" = ${shQuote(imageId)} || { echo ${shQuote(`new container does not run image ${imageId}`)} >&2; exit 1; }`;
}

/** Stop one container and start another in one round trip: the swap's only downtime. */
export function buildStopStartScript(stop: string, start: string): string {
  return `${shJoin(dockerStop(stop).argv)} >/dev/null && ${shJoin(dockerStart(start).argv)}`;
}
