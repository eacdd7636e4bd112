// doctor: the troubleshooting checklist, read-only: each check PASS/FAIL/WARN with the fix, plus logs of failing containers.
import { randomBytes } from 'node:crypto';
import type { SshHost } from '../adapters/ssh.ts';
import { probeDirect, resolveDirect } from '../adapters/transfer-direct.ts';
import { describeRoute } from '../core/direct.ts';
import { type Config, healthUrlOn } from '../core/config.ts';
import { driftOfContainer, parseCarry } from '../core/drift.ts';
import { ReleaseflowError } from '../core/errors.ts';
import type { ContainerInput } from '../core/plan.ts';
import { buildFailureLogsScript, buildHealthProbesScript } from '../core/doctor-scripts.ts';
import { parseHealthProbe } from '../core/health.ts';
import { describeMode } from '../core/mode.ts';
import { statePaths } from '../core/state.ts';
import { formatBytes } from '../core/human.ts';
import { readStateDirAccess, stateDirFix, stateDirProblem } from '../adapters/state/state-dir.ts';
import { parseSections } from '../core/sections.ts';
import { type HostFacts, observeAppHost, shortId } from './observe.ts';
import { readReleaseState } from '../adapters/state/release-state.ts';
import { describeReleaseState, describeRunning } from './release-state.ts';

/** INFO: a fact to know, not a problem (drift between the hosts: a release keeps the target's settings). */
export type CheckStatus = 'PASS' | 'FAIL' | 'WARN' | 'INFO';

/** One line of the checklist. */
export interface DoctorCheck {
  host: string;
  status: CheckStatus;
  message: string;
  fix?: string;
}

/** What doctor shows for a failing container: why, its last logs, and `docker ps -a`. */
export interface FailingContainer {
  host: string;
  container: string;
  reason: string;
  logs?: string;
  ps?: string;
}

/** The whole report: ok only when no check FAILs (WARN does not fail). */
export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
  failing: FailingContainer[];
  facts: HostFacts[];
}

const FREE_MARGIN = 1024 ** 3;

/** The checks that follow from one host's observed facts (pure). `source` is the from host's facts, when observed. */
export function checkHostFacts(config: Config, f: HostFacts, source: HostFacts | undefined): { checks: DoctorCheck[]; failing: FailingContainer[] } {
  const checks: DoctorCheck[] = [];
  const failing: FailingContainer[] = [];
  const add = (status: CheckStatus, message: string, fix?: string) => checks.push({ host: f.host, status, message, fix });
  const isSource = f.host === config.from;
  if (!f.reachable) {
    add('FAIL', `ssh: ${f.problem?.message ?? `${f.host} is unreachable`}`, f.problem?.fix);
    return { checks, failing };
  }
  add('PASS', `ssh: ${f.host} (${f.address}) reachable in batch mode in ${f.connectMs ?? 0} ms`);
  const d = f.docker;
  const sudoSet = config.hosts[f.host]?.sudo === true;
  if (d.access === 'unavailable') {
    add('FAIL', f.problem?.message ?? `docker is not usable on ${f.host}`, f.problem?.fix);
    return { checks, failing };
  }
  if (d.needsSudo && !sudoSet) add('FAIL', `docker: works on ${f.host} only through sudo (docker ${d.version})`, `set sudo: true under hosts.${f.host} in ${config.file}, or add the SSH user to the docker group`);
  else add('PASS', `docker: ${d.version} (API ${d.apiVersion})${d.access === 'sudo' ? ' through sudo -n' : ''}`);
  // the containerd store names images by manifest digest: IDs differ from classic hosts for the same image
  if (d.store === 'containerd') add('PASS', `image store: containerd (snapshotter); releases send it an OCI layout of the missing layers and find images by their layers and config, not their ID`);
  if (f.problem) add('FAIL', f.problem.message, f.problem.fix);
  // a classic overlay2 source with tar-split rebuilds just the missing layers; without it a delta saves the whole image first
  if (isSource && d.store === 'classic' && d.driver === 'overlay2') {
    if (d.tarSplit) add('PASS', `transfers: tar-split found: a release rebuilds only the layers the target lacks from ${f.host}'s layer store (no docker save of the whole image)`);
    else if (d.tarSplit === false) add('INFO', `transfers: no tar-split on ${f.host}: a release runs docker save of the whole image before it sends the layers the target lacks`, `install tar-split on ${f.host} (apt-get install tar-split) to rebuild only those layers`);
  }

  const shows = f.allContainers.map((c) => `${c.name} (${c.status})`).join(', ') || 'no containers';
  for (const c of f.containers) {
    const v = c.present ? undefined : f.views?.find((x) => x.container === c.name);
    if (v) {
      // a name a release target stands for here (a swarm service): its own checks, not "container not found"
      if (v.problems.length === 0) add('PASS', `${c.name}: ${v.mode} ${v.what}, ${v.state}, image ${v.imageRef}${v.imageId && v.imageId !== v.imageRef ? ` (${shortId(v.imageId)})` : ''}`);
      for (const p of v.problems) add('FAIL', `${c.name}: ${p.message}`, p.fix);
      for (const n of v.notes) add('INFO', `${c.name}: ${n}`);
      continue;
    }
    if (!c.present || !c.mode) {
      add('FAIL', `container ${c.name} not found on ${f.host}; docker ps -a shows: ${shows}`, `start it on ${f.host} or correct containers: in ${config.file}${f.host === config.from ? '' : `; or let the next release create it from ${config.from}'s inspect: releaseflow promote --create (see "Bootstrap" in the README)`}`);
      failing.push({ host: f.host, container: c.name, reason: 'not found' });
      continue;
    }
    add('PASS', `${c.name}: started with ${describeMode(c.mode)}`);
    for (const file of c.composeFiles ?? []) {
      if (file.status === 'readable') add('PASS', `${c.name}: compose file ${file.path} present and readable`);
      else add('FAIL', `${c.name}: compose file ${file.path} (from its labels) is ${file.status} on ${f.host}`, file.status === 'missing' ? `restore ${file.path} on ${f.host}, or re-create the container with docker compose from where its file now is` : `let the SSH user read ${file.path} (chmod/chown), or set sudo: true`);
    }
    if (c.mode.mode === 'compose' && c.mode.configFiles.length === 0) add('WARN', `${c.name}: compose labels name no config_files`, 'recreate it with docker compose v2, which records its files');
    const state = `${c.state}${c.health && c.health !== 'none' ? `, ${c.health}` : ''}`;
    if (c.running && c.health !== 'unhealthy') add('PASS', `${c.name}: ${state}, image ${c.imageRef} (${shortId(c.imageId)})`);
    else if (isSource) add('WARN', `${c.name}: ${state} on ${f.host} (its image can still be promoted)`, `look at: docker logs --tail 200 ${c.name}`);
    else {
      add('FAIL', `${c.name}: ${state} on ${f.host}`, `see its logs below; start it (docker start ${c.name}) or roll back (releaseflow rollback)`);
      failing.push({ host: f.host, container: c.name, reason: state });
    }
  }

  const used = [...new Set(f.containers.flatMap((c) => c.networks))];
  const missing = used.filter((n) => !f.networks.includes(n));
  if (missing.length) add('FAIL', `networks: ${missing.join(', ')} used by the app but missing on ${f.host}`, `create them on ${f.host} (docker network create NAME, with the options they have on ${config.from})`);
  else if (used.length) add('PASS', `networks: ${used.join(', ')} present`);

  if (!isSource) checks.push(checkDisk(f, source));
  return { checks, failing };
}

function checkDisk(f: HostFacts, source: HostFacts | undefined): DoctorCheck {
  const where = `under docker's data-root ${f.dataRoot ?? '?'}`;
  if (f.freeBytes === undefined) return { host: f.host, status: 'WARN', message: `disk: free space ${where} unknown (df failed)`, fix: `run df -h ${f.dataRoot ?? '/var/lib/docker'} on ${f.host}` };
  const have = new Set(f.images.map((i) => i.id));
  const toLoad = new Map((source?.containers ?? []).flatMap((c) => (c.image && !have.has(c.image.id) ? [[c.image.id, c.image.size] as const] : [])));
  const need = [...toLoad.values()].reduce((a, b) => a + b, 0);
  const free = formatBytes(f.freeBytes);
  const fix = `free space on ${f.host} (docker image prune, old releases) or grow the disk`;
  if (!source?.reachable) {
    return f.freeBytes < FREE_MARGIN ? { host: f.host, status: 'WARN', message: `disk: only ${free} free ${where} (image sizes on ${source?.host ?? 'the from host'} unknown)`, fix } : { host: f.host, status: 'PASS', message: `disk: ${free} free ${where}` };
  }
  const msg = `disk: ${free} free ${where}; the images to load from ${source.host} need up to ${formatBytes(need)}`;
  if (f.freeBytes < need) return { host: f.host, status: 'FAIL', message: msg, fix };
  if (f.freeBytes < need + FREE_MARGIN) return { host: f.host, status: 'WARN', message: `${msg} (less than 1 GiB to spare)`, fix };
  return { host: f.host, status: 'PASS', message: msg };
}

/** Request each container's health URL from the host itself, in one remote script. */
export async function probeHealthUrls(config: Config, host: SshHost): Promise<{ checks: DoctorCheck[]; failing: FailingContainer[] }> {
  const targets = config.containers.map((c) => ({ ...c, healthUrl: healthUrlOn(config, c.name, host.name) })).filter((c) => c.healthUrl);
  if (targets.length === 0) return { checks: [{ host: host.name, status: 'WARN', message: 'health: no health URL configured', fix: 'set health.url (or a container health.url) so releases are verified' }], failing: [] };
  const m = `@@rf-${randomBytes(6).toString('hex')}`;
  const r = await host.run({ script: buildHealthProbesScript(targets, m) });
  const sections = parseSections(r.stdout, m);
  const checks: DoctorCheck[] = [];
  const failing: FailingContainer[] = [];
  targets.forEach((c, i) => {
    const p = parseHealthProbe(sections.get(String(i))?.text ?? r.stdout + r.stderr);
    if (p.http === 'ok') checks.push({ host: host.name, status: 'PASS', message: `health: ${c.healthUrl} answers on ${host.name} (${c.name})` });
    else {
      const why = p.http === 'no-client' ? 'no curl, wget or busybox on the host' : p.detail || 'no answer';
      checks.push({ host: host.name, status: 'FAIL', message: `health: ${c.healthUrl} (${c.name}) fails when requested from ${host.name}: ${why}`, fix: p.http === 'no-client' ? `install curl or wget on ${host.name}` : `see ${c.name}'s logs below; check the URL and that the port is published on ${host.name}` });
      failing.push({ host: host.name, container: c.name, reason: `health URL ${c.healthUrl} failing` });
    }
  });
  return { checks, failing };
}

/** Fetch `docker logs --tail 200` of each failing container and the app's `docker ps -a`, in one remote script. */
export async function readFailureLogs(host: SshHost, facts: HostFacts, failing: FailingContainer[]): Promise<void> {
  const docker = facts.docker.access === 'sudo' ? ['sudo', '-n', 'docker'] : ['docker'];
  const m = `@@rf-${randomBytes(6).toString('hex')}`;
  const names = [...new Set(failing.map((x) => x.container))];
  const present = names.filter((n) => facts.containers.find((c) => c.name === n)?.present);
  const r = await host.run({ script: buildFailureLogsScript(docker, present, facts.containers.map((c) => c.name), m) });
  const s = parseSections(r.stdout, m);
  for (const x of failing) {
    const i = present.indexOf(x.container);
    if (i >= 0) x.logs = s.get(String(i))?.text.trimEnd();
    x.ps = s.get('ps')?.text.trimEnd();
  }
}

/** Run the checklist on the named hosts: observe each (in parallel), probe health URLs from non-source hosts, fetch logs of failing containers. */
export async function runDoctor(config: Config, hosts: Map<string, SshHost>): Promise<DoctorReport> {
  const facts = await Promise.all([...hosts.values()].map((h) => observeAppHost(h, config)));
  const source = facts.find((f) => f.host === config.from);
  const perHost = await Promise.all(facts.map((f) => diagnoseHost(config, hosts.get(f.host)!, f, source)));
  const checks = perHost.flatMap((r) => r.checks);
  const from = hosts.get(config.from);
  const to = hosts.get(config.to);
  if (config.transfer.direct && from && to && facts.every((f) => f.reachable)) checks.push(await checkDirect(from, to, config.transfer.directSsh));
  checks.push(...driftChecks(config, facts));
  return { ok: checks.every((c) => c.status !== 'FAIL'), checks, failing: perHost.flatMap((r) => r.failing), facts };
}

/** What a release would keep from each target that the source has otherwise (drift.ts): an INFO per setting, per target. */
function driftChecks(config: Config, facts: HostFacts[]): DoctorCheck[] {
  const source = facts.find((f) => f.host === config.from);
  const carried = parseCarry(config.carry);
  return facts
    .filter((f) => f.host !== config.from && config.fleet.includes(f.host))
    .flatMap((f) =>
      config.containers.flatMap((cc) => {
        const s = source?.containers.find((c) => c.name === cc.name);
        const t = f.containers.find((c) => c.name === cc.name);
        if (!s?.inspect || !s.image || !t?.inspect || !t.image) return [];
        const input = { name: cc.name, source: s.inspect, sourceImage: s.image.inspect, target: t.inspect, targetImage: t.image.inspect } as ContainerInput;
        return driftOfContainer(input, config.secrets)
          .filter((d) => !(d.kind === 'env' && d.name && carried.includes(d.name)))
          .map((d): DoctorCheck => ({ host: f.host, status: 'INFO', message: `drift: ${d.container}: ${d.detail}`, fix: `a release keeps ${f.host}'s setting; to take ${config.from}'s${d.kind === 'env' && d.name ? `: releaseflow promote --carry env:${d.name} (or carry: in the config)` : ', change it on the target'}` }));
      }),
    );
}

/** transfer.direct: can the target log in to the source with its own key and our host key entry? */
async function checkDirect(from: SshHost, to: SshHost, route: Config['transfer']['directSsh']): Promise<DoctorCheck> {
  try {
    const d = await resolveDirect(from, route);
    await probeDirect(from, to, d);
    return { host: to.name, status: 'PASS', message: `direct transfer: ${to.name} logs in to ${from.name} (${describeRoute(d.route)}) with its own key; ${from.name}'s host key checked` };
  } catch (e) {
    if (!(e instanceof ReleaseflowError)) throw e;
    return { host: to.name, status: 'FAIL', message: e.message, fix: e.detail.fix };
  }
}

/** Can the SSH user write the app's state folder on the target (or create it)? A non-root user with sudo: true often cannot. */
async function checkStateDir(config: Config, host: SshHost): Promise<DoctorCheck> {
  const root = statePaths(host.config.stateDir, config.app).root;
  const a = await readStateDirAccess(host, config);
  if (!a) return { host: host.name, status: 'WARN', message: `state: could not check ${root} (no answer)` };
  const { user, blocking } = a;
  if (a.writable) return { host: host.name, status: 'PASS', message: `state: ${root} ${blocking === root ? 'writable' : `can be created (in ${blocking})`} for ${user}` };
  return { host: host.name, status: 'FAIL', message: `state: ${stateDirProblem(host, root, user, blocking)}`, fix: stateDirFix(host, root, user, blocking) };
}

async function diagnoseHost(config: Config, host: SshHost, f: HostFacts, source: HostFacts | undefined) {
  const r = checkHostFacts(config, f, source);
  const usable = f.reachable && f.docker.access !== 'unavailable';
  if (usable && f.host !== config.from) {
    const h = await probeHealthUrls(config, host).catch((e) => {
      if (!(e instanceof ReleaseflowError)) throw e;
      return { checks: [{ host: f.host, status: 'FAIL' as const, message: `health: could not probe: ${e.message}`, fix: e.detail.fix }], failing: [] };
    });
    r.checks.push(...h.checks);
    r.failing.push(...h.failing.filter((x) => !r.failing.some((y) => y.container === x.container)));
  }
  if (f.reachable && f.host === config.to) {
    r.checks.push(await checkStateDir(config, host).catch((e) => ({ host: f.host, status: 'WARN' as const, message: `state: could not check ${host.config.stateDir}: ${e instanceof Error ? e.message : e}` })));
    // an interrupted release or a lock left behind (src/adapters/state/release-state.ts)
    const st = await readReleaseState(host, config).catch(() => undefined);
    const d = st ? describeReleaseState(st) : undefined;
    for (const p of d?.problems ?? []) r.checks.push({ host: f.host, status: 'FAIL', message: `release: ${p}`, fix: d?.fix });
    for (const x of st?.running ?? []) r.checks.push({ host: f.host, status: 'WARN', message: `release: ${describeRunning(x)}`, fix: 'wait for it to finish' });
    if (st && d?.problems.length === 0 && st.running.length === 0) r.checks.push({ host: f.host, status: 'PASS', message: 'release: no interrupted release, lock free' });
  }
  if (usable && r.failing.length) {
    await readFailureLogs(host, f, r.failing).catch((e) => {
      if (!(e instanceof ReleaseflowError)) throw e;
    });
  }
  return r;
}
