// export-compose: runspecs of docker-run containers → one compose file that recreates them with the same configuration (pure).
import { stringify } from 'yaml';
import { applyFlags, type Service } from './compose-export-flags.ts';
import { STACK_VERSION, stackService, stackTop } from './compose-stack.ts';
import type { MountRequest } from './inspect.ts';
import { MASK, maskEnvEntry, maskUrlCredentials } from './redact.ts';
import { publishValue } from './runspec-argv.ts';
import type { HealthSpec, RunSpec } from './runspec-types.ts';
import { dockerDuration } from './runspec-util.ts';

/** One container to export: its name, the image ref to run and its runspec (toRunSpec). */
export interface ExportContainer {
  name: string;
  image: string;
  spec: RunSpec;
}

export interface ExportOptions {
  app: string;
  /** `v2`: the Compose Specification (`name:`, no version); `v1`: file format 2.4, which docker-compose 1.x reads too. */
  format: 'v1' | 'v2';
  secrets: readonly string[];
  /** Print secret env values (for --write); masked otherwise. */
  reveal: boolean;
  /** A stack file for `docker stack deploy` (format 3.8, deploy.* keys) instead of a compose file for one host. */
  stack?: boolean;
}

/** The service name for a container: its name without the `<app>-` prefix, in compose's alphabet. */
export function serviceName(container: string, app: string): string {
  const bare = container.startsWith(`${app}-`) && container.length > app.length + 1 ? container.slice(app.length + 1) : container;
  return bare.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
}

/** Compose interpolates `$`: every literal one is written `$$` (v1 and v2). */
function escapeDollars<T>(v: T): T {
  if (typeof v === 'string') return v.replace(/\$/g, '$$$$') as T;
  if (Array.isArray(v)) return v.map(escapeDollars) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeDollars(x)])) as T;
  return v;
}

/** A volume name (not a path): it must be declared at the top level, as external so compose adopts it with its data. */
const isVolumeName = (src: string) => src !== '' && !src.startsWith('/') && !src.startsWith('.') && !src.startsWith('~');

function healthcheck(h: HealthSpec, format: 'v1' | 'v2', w: string[]): Record<string, unknown> {
  if (h.disable) return { disable: true };
  const out: Record<string, unknown> = {};
  if (h.cmd !== undefined) out.test = ['CMD-SHELL', h.cmd];
  if (h.interval) out.interval = dockerDuration(h.interval);
  if (h.timeout) out.timeout = dockerDuration(h.timeout);
  if (h.startPeriod) out.start_period = dockerDuration(h.startPeriod);
  if (h.startInterval) {
    if (format === 'v2') out.start_interval = dockerDuration(h.startInterval);
    else w.push('healthcheck start interval: file format 2.4 has no start_interval; dropped');
  }
  if (h.retries) out.retries = h.retries;
  return out;
}

function mount(m: MountRequest, w: string[], name: string): Record<string, unknown> {
  const out: Record<string, unknown> = { type: m.Type };
  if (m.Source) out.source = m.Source;
  out.target = m.Target;
  if (m.ReadOnly) out.read_only = true;
  if (m.Consistency && m.Consistency !== 'default') out.consistency = m.Consistency;
  if (m.BindOptions?.Propagation) out.bind = { propagation: m.BindOptions.Propagation };
  const v = m.VolumeOptions;
  if (v?.NoCopy || v?.Subpath) out.volume = { ...(v.NoCopy ? { nocopy: true } : {}), ...(v.Subpath ? { subpath: v.Subpath } : {}) };
  if (v?.Labels || v?.DriverConfig?.Name) w.push(`${name}: --mount volume labels or driver options at ${m.Target} belong to the volume's own definition in compose; dropped`);
  if (m.TmpfsOptions?.SizeBytes || m.TmpfsOptions?.Mode) out.tmpfs = { ...(m.TmpfsOptions.SizeBytes ? { size: m.TmpfsOptions.SizeBytes } : {}), ...(m.TmpfsOptions.Mode ? { mode: m.TmpfsOptions.Mode } : {}) };
  return out;
}

interface Top {
  networks: Record<string, unknown>;
  volumes: Record<string, unknown>;
}

function networking(s: Service, spec: RunSpec, top: Top, format: 'v1' | 'v2', w: string[], name: string): void {
  if (spec.networkMode) {
    s.network_mode = spec.networkMode;
    return;
  }
  const only = spec.networks.length === 1 ? spec.networks[0] : undefined;
  if (spec.networks.length === 0 || (only?.name === 'bridge' && !only.driverOpts)) {
    s.network_mode = 'bridge';
    if (spec.links.length) s.external_links = [...spec.links];
    return;
  }
  const nets: Record<string, unknown> = {};
  spec.networks.forEach((n, i) => {
    const ep: Record<string, unknown> = {};
    if (n.aliases.length) ep.aliases = [...n.aliases];
    if (n.ipv4) ep.ipv4_address = n.ipv4;
    if (n.ipv6) ep.ipv6_address = n.ipv6;
    if (n.linkLocalIps?.length) ep.link_local_ips = [...n.linkLocalIps];
    if (n.driverOpts) {
      if (format === 'v2') ep.driver_opts = { ...n.driverOpts };
      else w.push(`${name}: network ${n.name} driver options: file format 2.4 has no driver_opts; dropped`);
    }
    if (n.links?.length) w.push(`${name}: links on network ${n.name} become external_links`);
    // the daemon's primary network is the first one; compose orders by priority
    if (spec.networks.length > 1 && i === 0) ep.priority = 1000;
    nets[n.name] = Object.keys(ep).length ? ep : null;
    top.networks[n.name] = { external: true };
  });
  s.networks = nets;
  const links = [...spec.links, ...spec.networks.flatMap((n) => n.links ?? [])];
  if (links.length) s.external_links = links;
}

function service(c: ExportContainer, opts: ExportOptions, top: Top, w: string[]): Service {
  const spec = c.spec;
  const s: Service = { image: c.image, container_name: c.name };
  const put = (k: string, v: unknown) => {
    if (v !== undefined && v !== '') s[k] = v;
  };
  put('hostname', spec.hostname);
  put('domainname', spec.domainname);
  put('user', spec.user);
  put('working_dir', spec.workdir);
  put('mac_address', spec.macAddress);
  if (spec.entrypoint) s.entrypoint = spec.entrypoint.length ? [...spec.entrypoint] : [''];
  if (spec.cmd) s.command = [...spec.cmd];
  if (spec.env.length) {
    s.environment = spec.env.map((e) => (opts.reveal ? e : maskUrlCredentials(maskEnvEntry(e, opts.secrets))));
  }
  if (Object.keys(spec.labels).length) s.labels = { ...spec.labels };
  if (spec.publish.length) s.ports = spec.publish.map(publishValue);
  if (spec.publishAll) w.push(`${c.name}: --publish-all has no compose key; publish the ports one by one`);
  if (spec.expose.length) s.expose = spec.expose.map((p) => p.replace(/\/tcp$/, ''));
  networking(s, spec, top, opts.format, w, c.name);
  const volumes: unknown[] = [...spec.binds];
  for (const b of spec.binds) {
    const src = b.split(':')[0] ?? '';
    if (b.includes(':') && isVolumeName(src)) top.volumes[src] = { external: true };
  }
  for (const m of spec.mounts) {
    volumes.push(mount(m, w, c.name));
    if (m.Type === 'volume' && m.Source && isVolumeName(m.Source)) top.volumes[m.Source] = { external: true };
  }
  if (volumes.length) s.volumes = volumes;
  const tmpfs = Object.entries(spec.tmpfs).map(([dst, o]) => (o ? `${dst}:${o}` : dst));
  if (tmpfs.length) s.tmpfs = tmpfs;
  if (spec.volumesFrom.length) s.volumes_from = spec.volumesFrom.map((v) => `container:${v}`);
  applyFlags(s, spec.flags, w);
  if (spec.logDriver || Object.keys(spec.logOpts).length) s.logging = { ...(spec.logDriver ? { driver: spec.logDriver } : {}), ...(Object.keys(spec.logOpts).length ? { options: { ...spec.logOpts } } : {}) };
  if (spec.healthcheck) s.healthcheck = healthcheck(spec.healthcheck, opts.format, w);
  put('stop_signal', spec.stopSignal);
  if (spec.stopTimeout !== undefined) s.stop_grace_period = `${spec.stopTimeout}s`;
  if (spec.seccompProfile !== undefined) w.push(`${c.name}: an inline seccomp profile: save it to a file and add security_opt: [seccomp=/path/to/it]`);
  if (opts.format === 'v1') {
    for (const k of ['uts', 'cgroup', 'annotations']) {
      if (k in s) {
        w.push(`${c.name}: ${k} is not in file format 2.4; dropped`);
        delete s[k];
      }
    }
  }
  return s;
}

/** The compose file text, the warnings, and whether it holds secret values (write it with mode 0600 then). */
export function renderComposeFile(containers: readonly ExportContainer[], opts: ExportOptions): { text: string; warnings: string[]; hasSecrets: boolean } {
  const w: string[] = [];
  const top: Top = { networks: {}, volumes: {} };
  const services: Record<string, Service> = {};
  for (const c of containers) {
    let name = serviceName(c.name, opts.app);
    while (services[name]) name = `${name}-2`;
    const s = service(c, opts, top, w);
    services[name] = escapeDollars(opts.stack ? stackService(s, c.spec.publish, c.name, w) : s);
  }
  let doc: Record<string, unknown>;
  if (opts.stack) {
    const hostNetwork = containers.some((c) => c.spec.networkMode === 'host');
    doc = { version: STACK_VERSION, services, ...stackTop(top.networks, top.volumes, hostNetwork, w) };
  } else {
    doc = opts.format === 'v1' ? { version: '2.4' } : { name: opts.app };
    doc.services = services;
    if (Object.keys(top.networks).length) doc.networks = top.networks;
    if (Object.keys(top.volumes).length) doc.volumes = top.volumes;
  }
  const hasSecrets = containers.some((c) => c.spec.env.some((e) => maskUrlCredentials(maskEnvEntry(e, opts.secrets)) !== e));
  const head = opts.stack ? [
    `# ${opts.app}: a stack file written by releaseflow export-compose --swarm from the running containers (${containers.map((c) => c.name).join(', ')}).`,
    `# On a swarm manager whose nodes hold the images: docker stack deploy -c THIS_FILE --resolve-image never ${opts.app}`,
    ...(hasSecrets && !opts.reveal ? [`# Secret values are masked (${MASK}): releaseflow export-compose --swarm --write puts the real file on the host.`] : []),
  ] : [
    `# ${opts.app}: written by releaseflow export-compose from the running containers (${containers.map((c) => c.name).join(', ')}).`,
    '# Networks and volumes are external: compose uses the existing ones, with their data. Start with',
    '# `docker compose up -d` once the docker-run containers of the same names are stopped and renamed (docs/compose.md).',
    ...(hasSecrets && !opts.reveal ? [`# Secret values are masked (${MASK}): releaseflow export-compose --write puts the real file on the host.`] : []),
  ];
  return { text: `${head.join('\n')}\n${stringify(doc, { lineWidth: 0, nullStr: '{}', version: '1.1' })}`, warnings: w, hasSecrets };
}
