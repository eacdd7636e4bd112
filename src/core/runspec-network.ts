// Networks, endpoint settings, legacy links and published ports of a runspec.
import type { ContainerFacts, EndpointFacts, PortBindingFacts } from './inspect.ts';
import type { NetworkEndpoint, PortSpec, RunSpec, ToRunSpecOptions } from './runspec-types.ts';
import { isEmpty } from './runspec-util.ts';

const BUILTIN = new Set(['bridge', 'host', 'none', 'default']);
// endpoint fields we read, and the runtime ones the daemon fills in (never requested)
const ENDPOINT_KNOWN = new Set([
  'IPAMConfig', 'Links', 'Aliases', 'DriverOpts', 'MacAddress', 'NetworkID', 'EndpointID', 'Gateway', 'IPAddress',
  'IPPrefixLen', 'IPv6Gateway', 'GlobalIPv6Address', 'GlobalIPv6PrefixLen', 'DNSNames',
]);

/** `container:<64-hex ID>` → `container:<name>` when the name is known; the ID (still valid while that container lives) otherwise. */
export function mapContainerRef(value: string, field: string, opts: ToRunSpecOptions, w: string[]): string {
  if (!value.startsWith('container:')) return value;
  const ref = value.slice('container:'.length);
  if (!/^[0-9a-f]{64}$/.test(ref)) return value;
  const name = opts.names?.[ref];
  if (name) return `container:${name.replace(/^\//, '')}`;
  w.push(`${field}=container:${ref.slice(0, 12)}…: the peer's name is unknown, so its ID is kept; it breaks if that container is recreated`);
  return value;
}

// engines before 26 (API < 1.45) add the short ID and the hostname to every endpoint's Aliases
function endpoint(name: string, ep: EndpointFacts, added: string[], w: string[]): NetworkEndpoint {
  const out: NetworkEndpoint = { name, aliases: (ep.Aliases ?? []).filter((a) => !added.includes(a)) };
  const ipam = ep.IPAMConfig ?? {};
  if (ipam.IPv4Address) out.ipv4 = ipam.IPv4Address;
  if (ipam.IPv6Address) out.ipv6 = ipam.IPv6Address;
  if (!isEmpty(ipam.LinkLocalIPs)) out.linkLocalIps = [...(ipam.LinkLocalIPs ?? [])];
  if (!isEmpty(ep.Links)) out.links = [...(ep.Links ?? [])];
  if (!isEmpty(ep.DriverOpts)) out.driverOpts = { ...ep.DriverOpts };
  for (const [k, v] of Object.entries(ipam)) {
    if (!['IPv4Address', 'IPv6Address', 'LinkLocalIPs'].includes(k) && !isEmpty(v)) w.push(`NetworkSettings.Networks.${name}.IPAMConfig.${k} is not understood; dropped`);
  }
  for (const [k, v] of Object.entries(ep)) {
    if (!ENDPOINT_KNOWN.has(k) && !isEmpty(v)) w.push(`NetworkSettings.Networks.${name}.${k}=${JSON.stringify(v)} is not understood; dropped`);
  }
  if (BUILTIN.has(name)) {
    const extra = out.aliases.length > 0 || out.ipv4 || out.ipv6 || out.linkLocalIps || out.links;
    if (extra) w.push(`network ${name}: aliases, static IPs and links only work on user-defined networks; dropped`);
    return { name, aliases: [], ...(out.driverOpts ? { driverOpts: out.driverOpts } : {}) };
  }
  return out;
}

/** `/db:/web/alias` (inspect's form of `--link db:alias`) → `db:alias`. */
export function legacyLink(link: string): string {
  const [target = '', alias = ''] = link.split(':');
  const name = target.replace(/^\//, '');
  const a = alias.slice(alias.lastIndexOf('/') + 1);
  return a && a !== name ? `${name}:${a}` : name;
}

interface Flat extends PortBindingFacts {
  port: number;
  proto: string;
  single: boolean;
}

/** HostConfig.PortBindings → `-p` specs, consecutive single bindings folded back into ranges. */
export function portSpecs(bindings: Record<string, PortBindingFacts[] | null>): PortSpec[] {
  const flat: Flat[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const [p = '', proto = 'tcp'] = key.split('/');
    const items = list && list.length > 0 ? list : [{ HostIp: '', HostPort: '' }];
    for (const b of items) flat.push({ port: Number(p), proto, HostIp: b.HostIp ?? '', HostPort: b.HostPort ?? '', single: items.length === 1 });
  }
  flat.sort((a, b) => a.proto.localeCompare(b.proto) || a.port - b.port);
  const out: PortSpec[] = [];
  let g: { start: Flat; end: Flat } | undefined;
  const flush = () => {
    if (!g) return;
    const { start, end } = g;
    const range = (a: string, b: string) => (a === b ? a : `${a}-${b}`);
    out.push({
      containerPort: `${range(String(start.port), String(end.port))}/${start.proto}`,
      hostIp: start.HostIp,
      hostPort: start.HostPort === '' ? '' : range(start.HostPort, end.HostPort),
    });
    g = undefined;
  };
  for (const f of flat) {
    const numeric = /^\d+$/;
    const joins =
      g?.end.single && f.single && g.end.proto === f.proto && g.end.HostIp === f.HostIp && f.port === g.end.port + 1 &&
      ((g.end.HostPort === '' && f.HostPort === '') ||
        (numeric.test(g.end.HostPort) && numeric.test(f.HostPort) && Number(f.HostPort) === Number(g.end.HostPort) + 1));
    if (g && joins) g.end = f;
    else {
      flush();
      g = { start: f, end: f };
    }
  }
  flush();
  return out;
}

/** Fill networkMode, networks, links and ports of the spec. */
export function networkSpec(facts: ContainerFacts, opts: ToRunSpecOptions, spec: RunSpec, w: string[]): void {
  const h = facts.HostConfig;
  const mode = h.NetworkMode || 'default';
  const bindings = h.PortBindings ?? {};
  if (mode.startsWith('container:')) {
    spec.networkMode = mapContainerRef(mode, 'HostConfig.NetworkMode', opts, w);
    if (!isEmpty(bindings) || h.PublishAllPorts) w.push('HostConfig.PortBindings/PublishAllPorts: rejected with --network container:…; dropped');
    if (!isEmpty(h.Links)) w.push('HostConfig.Links: rejected with --network container:…; dropped');
    return;
  }
  spec.publish = portSpecs(bindings);
  spec.publishAll = h.PublishAllPorts === true;
  if (mode === 'host' || mode === 'none') {
    spec.networkMode = mode;
    for (const n of Object.keys(facts.NetworkSettings.Networks)) {
      if (n !== mode) w.push(`network ${n}: a container on --network ${mode} cannot join other networks; dropped`);
    }
    if (!isEmpty(h.Links)) w.push(`HostConfig.Links: rejected with --network ${mode}; dropped`);
    return;
  }
  const primary = mode === 'default' ? 'bridge' : mode;
  const nets = facts.NetworkSettings.Networks;
  const names = Object.keys(nets).sort();
  if (names.length > 0 && !names.includes(primary)) {
    w.push(`HostConfig.NetworkMode=${primary} but the container is not attached to it (disconnected later); ${names[0]} becomes the primary network`);
  }
  const ordered = names.includes(primary) ? [primary, ...names.filter((n) => n !== primary)] : names;
  const added = [facts.Id.slice(0, 12), facts.Config.Hostname ?? ''].filter(Boolean);
  spec.networks = ordered.map((n) => endpoint(n, nets[n] ?? {}, added, w));
  if (spec.networks.length === 0) spec.networks = [{ name: primary, aliases: [] }];
  spec.links = (h.Links ?? []).map(legacyLink);
}
