// export-compose --swarm: a compose service as `docker stack deploy` takes it (pure). Stack files are read
// by the docker CLI's own loader against the 3.x schema: keys swarm has no use for (restart, mem_limit,
// container_name, network_mode, …) are either refused or silently ignored there, so they become deploy.*
// keys or are dropped with a warning that says what swarm does instead.
import type { Service } from './compose-export-flags.ts';
import type { PortSpec } from './runspec-types.ts';

/** The stack file format: 3.8 is read by every docker CLI from 19.03 to today's (the 3.x schema refuses unknown keys). */
export const STACK_VERSION = '3.8';

/** Service keys of the 3.8 schema that swarm applies to its tasks. */
const KEPT = new Set([
  'image', 'command', 'entrypoint', 'environment', 'env_file', 'labels', 'hostname', 'domainname', 'user', 'working_dir',
  'healthcheck', 'stop_signal', 'stop_grace_period', 'logging', 'init', 'read_only', 'tty', 'stdin_open', 'cap_add',
  'cap_drop', 'sysctls', 'ulimits', 'dns', 'dns_search', 'extra_hosts', 'expose', 'tmpfs', 'volumes', 'isolation',
]);

/** Why swarm has no use for a key (the rest: "not in the stack file format"). */
const WHY: Record<string, string> = {
  container_name: 'swarm names each task <stack>_<service>.<slot>.<id>',
  links: 'use the service name on a shared network',
  external_links: 'use the service name on a shared network',
  privileged: 'swarm services cannot run privileged',
  security_opt: 'docker stack deploy ignores security_opt',
  devices: 'docker stack deploy ignores devices',
  cgroup_parent: 'docker stack deploy ignores cgroup_parent',
  userns_mode: 'docker stack deploy ignores userns_mode',
  mac_address: 'swarm assigns the address',
  pid: 'swarm services share no pid namespace with the host',
  ipc: 'docker stack deploy ignores ipc',
};

function restartPolicy(v: string): Record<string, unknown> {
  const [mode, n] = v.split(':');
  if (mode === 'no') return { condition: 'none' };
  if (mode === 'on-failure') return { condition: 'on-failure', ...(n ? { max_attempts: Number(n) } : {}) };
  // always, unless-stopped: swarm restarts the task whatever ended it
  return { condition: 'any' };
}

/** A published port in the long syntax (swarm's ingress routing mesh): the host IP has no place in it. */
function port(p: PortSpec, name: string, w: string[]): Record<string, unknown> | string {
  const [target, protocol = 'tcp'] = p.containerPort.split('/');
  if (p.hostIp && p.hostIp !== '0.0.0.0' && p.hostIp !== '::') w.push(`${name}: port ${p.hostIp}:${p.hostPort}: swarm publishes on every node's addresses (the routing mesh), not on ${p.hostIp}; restrict it with a firewall`);
  if (!/^\d+$/.test(target ?? '') || (p.hostPort && !/^\d+$/.test(p.hostPort))) return p.hostPort ? `${p.hostPort}:${p.containerPort}` : p.containerPort;
  return { target: Number(target), ...(p.hostPort ? { published: Number(p.hostPort) } : {}), protocol, mode: 'ingress' };
}

/** The compose service `s` (rendered for a single host) as a stack service. `publish`: its ports as the runspec has them. */
export function stackService(s: Service, publish: readonly PortSpec[], name: string, w: string[]): Service {
  const out: Service = {};
  const deploy: Record<string, unknown> = { replicas: 1 };
  const limits: Record<string, unknown> = {};
  const reservations: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (KEPT.has(k)) out[k] = v;
    else if (k === 'restart') deploy.restart_policy = restartPolicy(String(v));
    else if (k === 'mem_limit') limits.memory = String(v);
    else if (k === 'cpus') limits.cpus = String(v);
    else if (k === 'mem_reservation') reservations.memory = String(v);
    else if (k === 'ports') out.ports = publish.map((p) => port(p, name, w));
    else if (k === 'networks') out.networks = stackNetworks(v as Record<string, Record<string, unknown> | null>, name, w);
    else if (k === 'network_mode') {
      if (v === 'host') out.networks = { hostnet: {} };
      else if (v !== 'bridge') w.push(`${name}: network_mode ${String(v)} has no swarm equivalent; dropped (the service joins the stack's default network)`);
    } else w.push(`${name}: ${k} dropped: ${WHY[k] ?? 'not in the stack file format (docker stack deploy)'}`);
  }
  const binds = ((s.volumes as unknown[] | undefined) ?? []).filter((v) => (typeof v === 'string' ? v.startsWith('/') : (v as { type?: string }).type === 'bind'));
  if (binds.length) w.push(`${name}: bind mounts (${binds.map((b) => (typeof b === 'string' ? b.split(':')[0] : (b as { source?: string }).source)).join(', ')}) must exist on every node that may run the service`);
  if (Object.keys(limits).length || Object.keys(reservations).length) deploy.resources = { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(reservations).length ? { reservations } : {}) };
  out.deploy = deploy;
  return out;
}

/** A service's networks: aliases stay; fixed addresses and driver options are the network's business in swarm. */
function stackNetworks(nets: Record<string, Record<string, unknown> | null>, name: string, w: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [net, ep] of Object.entries(nets)) {
    const aliases = ep?.aliases;
    const dropped = Object.keys(ep ?? {}).filter((k) => k !== 'aliases' && k !== 'priority');
    if (dropped.length) w.push(`${name}: on network ${net}, ${dropped.join(', ')} dropped (swarm assigns addresses on an overlay network)`);
    out[net] = aliases ? { aliases } : null;
  }
  return out;
}

/** The top-level networks and volumes of a stack: the host's bridge networks become the stack's overlay networks; volumes stay external. */
export function stackTop(networks: Record<string, unknown>, volumes: Record<string, unknown>, hostNetwork: boolean, w: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const nets: Record<string, unknown> = {};
  for (const n of Object.keys(networks)) {
    nets[n] = { driver: 'overlay', attachable: true };
    w.push(`network ${n}: a network of this host; in the stack it is an overlay network the stack creates (<stack>_${n})`);
  }
  if (hostNetwork) nets.hostnet = { external: true, name: 'host' };
  if (Object.keys(nets).length) out.networks = nets;
  if (Object.keys(volumes).length) {
    out.volumes = volumes;
    w.push(`volumes ${Object.keys(volumes).join(', ')}: external, so each must exist on every node that may run the service (or use a volume driver shared by the nodes)`);
  }
  return out;
}
