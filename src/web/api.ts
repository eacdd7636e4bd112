// The dashboard's read-only answers: plan, status, doctor, history, a release's log, a container's logs,
// over the dashboard's kept SSH hosts (host-pool.ts).
import { systemClock } from '../adapters/clock.ts';
import type { Config } from '../core/config.ts';
import { dockerLogs } from '../core/docker.ts';
import { ReleaseflowError } from '../core/errors.ts';
import { shJoin } from '../core/quote.ts';
import { EventBus } from '../events/bus.ts';
import { probeHealthUrls, runDoctor } from '../workflows/doctor.ts';
import { readHistory } from '../adapters/state/history.ts';
import { inspectContainers } from '../adapters/inspect.ts';
import { observeAppHost, statusOf } from '../workflows/observe.ts';
import { observeAndPlan } from '../workflows/promote.ts';
import { planFleet } from '../workflows/rollout.ts';
import { registerSecrets } from '../workflows/secrets.ts';
import type { HostPool } from './host-pool.ts';
import { HttpError } from './http.ts';
import { type PlanView, toPlanView } from './plan-view.ts';
import { readReleaseLog } from './release-log.ts';

/** The plan of a release from `from` to `to`, read-only (what `releaseflow plan` prints). */
export async function planAnswer(config: Config, pool: HostPool): Promise<PlanView> {
  return pool.use([config.from, ...config.fleet], async (hosts) => {
    const bus = new EventBus();
    const ports = { config, hosts, bus, clock: systemClock };
    // a fleet: every host's steps, as `releaseflow plan` shows them, and the Release button releases them all
    const plan = config.fleet.length > 1 ? await planFleet(ports, config.from, config.fleet) : await observeAndPlan(ports, config.from, config.to);
    return toPlanView(plan, (s) => bus.redactor.redact(s));
  });
}

/** The source and every target host (a fleet's hosts, in rollout order). */
const allHosts = (config: Config) => [config.from, ...config.fleet];

/** Every host side by side (the source, each target of the fleet), as `releaseflow status --json`, plus health URL checks, kept previous containers and swarm services. */
export async function statusAnswer(config: Config, pool: HostPool) {
  const names = config.containers.map((c) => c.name);
  return pool.use(allHosts(config), async (hosts) => {
    const out = await Promise.all(
      [...hosts.values()].map(async (h) => {
        const f = await observeAppHost(h, config);
        const usable = f.reachable && f.docker.access !== 'unavailable';
        const health = usable ? await probeHealthUrls(config, h).catch((e) => ({ checks: [{ host: h.name, status: 'FAIL', message: e instanceof Error ? e.message : String(e) }] })) : { checks: [] };
        const kept = f.allContainers.filter((c) => names.some((n) => c.name.startsWith(`${n}-rf-`)));
        return { ...statusOf(f), role: h.name === config.from ? 'from' : 'to', healthChecks: health.checks, kept };
      }),
    );
    return { app: config.app, at: new Date().toISOString(), hosts: out };
  });
}

/** The doctor checklist for the source and every target host, each check with its fix. */
export async function doctorAnswer(config: Config, pool: HostPool) {
  return pool.use(allHosts(config), async (hosts) => {
    const r = await runDoctor(config, hosts);
    return { ok: r.ok, checks: r.checks, failing: r.failing, hosts: r.facts.map((f) => ({ host: f.host, address: f.address, reachable: f.reachable })) };
  });
}

/** Every target host's releases, newest first, each entry with its host; a host that cannot be read is named in `problems`. */
export async function historyAnswer(config: Config, pool: HostPool) {
  return pool.use(config.fleet, async (hosts) => {
    const problems: { host: string; message: string; fix?: string }[] = [];
    const per = await Promise.all(
      [...hosts.values()].map(async (h) => {
        try {
          await h.connect();
          return (await readHistory(h, config)).map((e) => ({ ...e, host: h.name }));
        } catch (e) {
          // one host down must not hide the others' history (a single target: the error as before)
          if (!(e instanceof ReleaseflowError) || config.fleet.length === 1) throw e;
          problems.push({ host: h.name, message: e.message, fix: e.detail.fix });
          return [];
        }
      }),
    );
    const entries = per.flat().sort((a, b) => String(b.at).localeCompare(String(a.at)));
    return { to: config.to, hosts: config.fleet, logFile: config.logFile, entries, problems };
  });
}

/** The lines of one release in this machine's log file. */
export async function releaseLogAnswer(config: Config, pool: HostPool, releaseId: string | null) {
  if (!releaseId || !/^[0-9A-Za-z]{1,40}$/.test(releaseId)) throw new HttpError(400, 'missing or malformed releaseId', 'open a release from the History tab');
  const entry = (await historyAnswer(config, pool)).entries.find((e) => e.releaseId === releaseId);
  return { releaseId, ...readReleaseLog(config.logFile, releaseId, entry?.at, entry?.logFile) };
}

/** The container names whose logs may be read: the app's containers and the copies releaseflow keeps of them. */
export function isAppContainer(config: Config, name: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) && config.containers.some((c) => name === c.name || name.startsWith(`${c.name}-rf-`));
}

type Observed = Parameters<typeof registerSecrets>[2][number];

/** The scrubber for a host's container logs: the secrets of its containers (as inspected there), then URL credentials. */
export function logsRedactor(config: Config, containers: readonly Observed[], hosts: readonly string[]): (text: string) => string {
  const bus = new EventBus();
  registerSecrets(bus, config, containers, hosts);
  return (text) => bus.redactor.redact(text);
}

/** `docker logs --tail 200` of an app container on a configured host (stdout and stderr interleaved), secrets masked. */
export async function containerLogsAnswer(config: Config, pool: HostPool, host: string | null, container: string | null) {
  if (!host || !Object.hasOwn(config.hosts, host)) throw new HttpError(400, `unknown host '${host ?? ''}'`, `use one of: ${Object.keys(config.hosts).join(', ')}`);
  if (!container || !isAppContainer(config, container)) throw new HttpError(400, `'${container ?? ''}' is not one of the app's containers`, `use one of: ${config.containers.map((c) => c.name).join(', ')}`);
  return pool.use([host], async (hosts) => {
    const h = hosts.get(host)!;
    await h.connect();
    // the secrets this container and the app's others hold on that host: logs print what a process was given
    const seen = await inspectContainers<NonNullable<Observed> & { Name: string }>(h, [...new Set([...config.containers.map((c) => c.name), container])]);
    const redact = logsRedactor(config, [...seen.values()], Object.keys(config.hosts));
    const argv = [...(h.config.sudo ? ['sudo', '-n'] : []), ...dockerLogs(container).argv];
    const r = await h.run({ script: `${shJoin(argv)} 2>&1` });
    if (r.code !== 0 && /No such container/i.test(r.stdout)) throw new ReleaseflowError(`container ${container} does not exist on ${host}`, { host, fix: 'the Status tab lists the containers each host has' });
    return { host, container, command: shJoin(argv), exitCode: r.code, text: redact(r.stdout) };
  });
}
