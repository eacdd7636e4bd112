// What doctor runs on a host, read-only: the health URLs requested from the host itself, and the logs of failing containers (pure builders).
import { buildHealthProbeScript } from './health.ts';
import { shJoin } from './quote.ts';
import { section } from './sections.ts';

/** Each container's health URL requested from the host itself: one section per container, named by its index. */
export function buildHealthProbesScript(containers: readonly { name: string; healthUrl?: string }[], marker: string): string {
  return containers.map((c, i) => section(marker, String(i), buildHealthProbeScript(c.name, c.healthUrl))).join('\n');
}

/**
 * `docker logs --tail 200` of each of `logsOf` (sections 0, 1, …) and `docker ps -a` of the containers
 * named like `psOf` (section ps); `docker` is how docker is reached (`docker` or `sudo -n docker`).
 */
export function buildFailureLogsScript(docker: readonly string[], logsOf: readonly string[], psOf: readonly string[], marker: string): string {
  const ps = [...docker, 'ps', '-a', ...psOf.flatMap((n) => ['--filter', `name=${n}`])];
  const lines = logsOf.map((n, i) => section(marker, String(i), `${shJoin([...docker, 'logs', '--tail', '200', n])} 2>&1`));
  lines.push(section(marker, 'ps', `${shJoin(ps)} 2>&1`));
  return lines.join('\n');
}
