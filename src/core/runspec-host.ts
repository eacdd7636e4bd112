// HostConfig → runspec flags: restart, logging, resources, security, namespaces, devices; unknown fields warned.
import type { ContainerFacts } from './inspect.ts';
import { mapContainerRef } from './runspec-network.ts';
import type { Flag, RunSpec, ToRunSpecOptions } from './runspec-types.ts';
import { csvRecord, dockerBytes, dockerCpus, isEmpty } from './runspec-util.ts';

type H = Record<string, unknown>;
type Rule = (v: unknown, h: H, ctx: Ctx) => Flag[];
interface Ctx {
  opts: ToRunSpecOptions;
  spec: RunSpec;
  w: string[];
  containerNet: boolean;
}

const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const strs = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
const int = (flag: string): Rule => (v) => (num(v) !== 0 ? [[flag, String(v)]] : []);
const bytes = (flag: string): Rule => (v) => (num(v) > 0 ? [[flag, dockerBytes(num(v))]] : []);
const str = (flag: string): Rule => (v) => (typeof v === 'string' && v !== '' ? [[flag, v]] : []);
const bool = (flag: string): Rule => (v) => (v === true ? [[flag]] : []);
const list = (flag: string): Rule => (v) => strs(v).map((x) => [flag, x] as Flag);
const map = (flag: string): Rule => (v) => Object.entries((v ?? {}) as Record<string, string>).map(([k, x]) => [flag, `${k}=${x}`] as Flag);
const netList = (flag: string): Rule => (v, _h, ctx) => {
  if (ctx.containerNet && strs(v).length > 0) {
    ctx.w.push(`${flag} ${strs(v).join(' ')}: rejected with --network container:…; dropped`);
    return [];
  }
  return list(flag)(v, _h, ctx);
};
const ns = (flag: string, field: string): Rule => (v, _h, ctx) =>
  typeof v === 'string' && v !== '' ? [[flag, mapContainerRef(v, `HostConfig.${field}`, ctx.opts, ctx.w)]] : [];
const warnIfSet = (why: string): Rule => (v, _h, ctx) => {
  if (!isEmpty(v)) ctx.w.push(why.replace('$v', JSON.stringify(v)));
  return [];
};
const ignore: Rule = () => [];
const throttle = (flag: string, field: string): Rule => (v) =>
  ((v ?? []) as { Path: string; Rate?: number; Weight?: number }[]).map((d) => [flag, `${d.Path}:${d[field as 'Rate']}`] as Flag);

// in the order flags appear in the output; fields handled elsewhere (mounts, network) are `ignore` here
const RULES: [string, Rule][] = [
  ['RestartPolicy', (v) => {
    const r = (v ?? {}) as { Name?: string; MaximumRetryCount?: number };
    if (!r.Name || r.Name === 'no') return [];
    return [['--restart', r.Name === 'on-failure' && r.MaximumRetryCount ? `on-failure:${r.MaximumRetryCount}` : r.Name]];
  }],
  ['AutoRemove', (v, _h, ctx) => {
    if (v === true) ctx.w.push('HostConfig.AutoRemove (--rm): the previous container is deleted when it stops, so rollback cannot restart it');
    return v === true ? [['--rm']] : [];
  }],
  ['LogConfig', (v, _h, ctx) => {
    const l = (v ?? {}) as { Type?: string; Config?: Record<string, string> | null };
    if (l.Type && l.Type !== (ctx.opts.daemon?.LoggingDriver ?? 'json-file')) ctx.spec.logDriver = l.Type;
    ctx.spec.logOpts = { ...(l.Config ?? {}) };
    return [];
  }],
  ['Dns', netList('--dns')],
  ['DnsSearch', netList('--dns-search')],
  ['DnsOptions', netList('--dns-option')],
  ['ExtraHosts', netList('--add-host')],
  ['Privileged', bool('--privileged')],
  ['CapAdd', list('--cap-add')],
  ['CapDrop', list('--cap-drop')],
  ['SecurityOpt', securityOpts],
  ['MaskedPaths', ignore], // with ReadonlyPaths: see securityOpts
  ['ReadonlyPaths', ignore],
  ['ReadonlyRootfs', bool('--read-only')],
  ['Init', (v) => (v === true ? [['--init']] : v === false ? [['--init=false']] : [])],
  ['GroupAdd', list('--group-add')],
  ['UsernsMode', str('--userns')],
  ['PidMode', ns('--pid', 'PidMode')],
  ['IpcMode', (v, h, ctx) => (v === 'private' || v === '' ? [] : ns('--ipc', 'IpcMode')(v, h, ctx))],
  ['UTSMode', str('--uts')],
  // the default is `host` on cgroup v1 and `private` on v2: without daemon facts neither is pinned
  ['CgroupnsMode', (v, _h, ctx) => {
    const version = ctx.opts.daemon?.CgroupVersion;
    const dflt = version === '1' ? ['host'] : version === '2' ? ['private'] : ['host', 'private'];
    return typeof v !== 'string' || v === '' || dflt.includes(v) ? [] : [['--cgroupns', v]];
  }],
  ['CgroupParent', str('--cgroup-parent')],
  ['Cgroup', warnIfSet('HostConfig.Cgroup=$v has no docker run flag (API only); dropped')],
  ['Runtime', (v, _h, ctx) => (typeof v === 'string' && v !== '' && v !== (ctx.opts.daemon?.DefaultRuntime ?? 'runc') ? [['--runtime', v]] : [])],
  ['Isolation', (v) => (typeof v === 'string' && v !== '' && v !== 'default' ? [['--isolation', v]] : [])],
  ['Memory', bytes('--memory')],
  ['MemoryReservation', bytes('--memory-reservation')],
  ['MemorySwap', (v, h) => {
    const s = num(v);
    return s === 0 || s === 2 * num(h.Memory) ? [] : [['--memory-swap', s < 0 ? '-1' : dockerBytes(s)]];
  }],
  ['MemorySwappiness', (v) => (typeof v === 'number' && v >= 0 ? [['--memory-swappiness', String(v)]] : [])],
  ['KernelMemory', (v, h, ctx) => {
    if (num(v) > 0) ctx.w.push('HostConfig.KernelMemory (--kernel-memory) is deprecated and ignored by engines with API ≥ 1.42');
    return bytes('--kernel-memory')(v, h, ctx);
  }],
  ['KernelMemoryTCP', warnIfSet('HostConfig.KernelMemoryTCP=$v has no docker run flag; dropped')],
  ['OomKillDisable', bool('--oom-kill-disable')],
  ['OomScoreAdj', int('--oom-score-adj')],
  ['PidsLimit', (v) => (num(v) > 0 ? [['--pids-limit', String(v)]] : [])],
  ['NanoCpus', (v) => (num(v) > 0 ? [['--cpus', dockerCpus(num(v))]] : [])],
  ['CpuShares', int('--cpu-shares')],
  ['CpuPeriod', int('--cpu-period')],
  ['CpuQuota', int('--cpu-quota')],
  ['CpuRealtimePeriod', int('--cpu-rt-period')],
  ['CpuRealtimeRuntime', int('--cpu-rt-runtime')],
  ['CpusetCpus', str('--cpuset-cpus')],
  ['CpusetMems', str('--cpuset-mems')],
  ['CpuCount', warnIfSet('HostConfig.CpuCount=$v is Windows-only; dropped')],
  ['CpuPercent', warnIfSet('HostConfig.CpuPercent=$v is Windows-only; dropped')],
  ['IOMaximumIOps', warnIfSet('HostConfig.IOMaximumIOps=$v is Windows-only; dropped')],
  ['IOMaximumBandwidth', warnIfSet('HostConfig.IOMaximumBandwidth=$v is Windows-only; dropped')],
  ['BlkioWeight', int('--blkio-weight')],
  ['BlkioWeightDevice', throttle('--blkio-weight-device', 'Weight')],
  ['BlkioDeviceReadBps', throttle('--device-read-bps', 'Rate')],
  ['BlkioDeviceWriteBps', throttle('--device-write-bps', 'Rate')],
  ['BlkioDeviceReadIOps', throttle('--device-read-iops', 'Rate')],
  ['BlkioDeviceWriteIOps', throttle('--device-write-iops', 'Rate')],
  ['Ulimits', (v) =>
    ((v ?? []) as { Name: string; Soft: number; Hard: number }[]).map((u) => ['--ulimit', `${u.Name}=${u.Soft === u.Hard ? u.Soft : `${u.Soft}:${u.Hard}`}`] as Flag)],
  ['Sysctls', map('--sysctl')],
  ['ShmSize', (v) => (num(v) > 0 && num(v) !== 64 * 1024 * 1024 ? [['--shm-size', dockerBytes(num(v))]] : [])],
  ['Devices', (v) =>
    ((v ?? []) as { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[]).map((d) => {
      const perms = d.CgroupPermissions && d.CgroupPermissions !== 'rwm' ? `:${d.CgroupPermissions}` : '';
      const inside = d.PathInContainer && (d.PathInContainer !== d.PathOnHost || perms) ? `:${d.PathInContainer}` : '';
      return ['--device', `${d.PathOnHost}${inside}${perms}`] as Flag;
    })],
  ['DeviceCgroupRules', list('--device-cgroup-rule')],
  ['DeviceRequests', deviceRequests],
  ['StorageOpt', map('--storage-opt')],
  ['Annotations', map('--annotation')],
  ['VolumeDriver', str('--volume-driver')],
  ['ContainerIDFile', (v, _h, ctx) => {
    // kept: the plan removes the retired container's file just before `docker create` writes the new one
    if (typeof v === 'string' && v) ctx.spec.cidfile = v;
    return [];
  }],
  ['Capabilities', warnIfSet('HostConfig.Capabilities=$v has no docker run flag (API only); dropped')],
  // handled by the network and mount modules, or runtime-only
  ...['NetworkMode', 'PortBindings', 'PublishAllPorts', 'Links', 'Binds', 'Mounts', 'Tmpfs', 'VolumesFrom', 'ConsoleSize'].map(
    (k) => [k, ignore] as [string, Rule],
  ),
];
const KNOWN = new Set(RULES.map(([k]) => k));

function securityOpts(v: unknown, h: H, ctx: Ctx): Flag[] {
  const out: Flag[] = [];
  const injectsLabel = h.Privileged === true || h.PidMode === 'host' || h.IpcMode === 'host';
  for (const o of strs(v)) {
    if (o === 'label=disable' && injectsLabel) continue; // added by the daemon on SELinux hosts
    const seccomp = /^seccomp[=:](.*)$/s.exec(o)?.[1];
    if (seccomp?.trimStart().startsWith('{')) ctx.spec.seccompProfile = seccomp;
    else out.push(['--security-opt', o]);
  }
  const unconfined = Array.isArray(h.MaskedPaths) && h.MaskedPaths.length === 0 && Array.isArray(h.ReadonlyPaths) && h.ReadonlyPaths.length === 0;
  if (unconfined && h.Privileged !== true) out.push(['--security-opt', 'systempaths=unconfined']);
  return out;
}

function deviceRequests(v: unknown, _h: H, ctx: Ctx): Flag[] {
  const out: Flag[] = [];
  type Req = { Driver?: string; Count?: number; DeviceIDs?: string[] | null; Capabilities?: string[][] | null; Options?: Record<string, string> | null };
  for (const r of (v ?? []) as Req[]) {
    if (r.Driver === 'cdi') {
      for (const id of r.DeviceIDs ?? []) out.push(['--device', id]);
      continue;
    }
    const fields: string[] = [];
    if (r.Driver) fields.push(`driver=${r.Driver}`);
    if (!isEmpty(r.DeviceIDs)) fields.push(`device=${(r.DeviceIDs ?? []).join(',')}`);
    if (r.Count === -1) fields.push('count=all');
    else if (r.Count && (r.Count !== 1 || !isEmpty(r.DeviceIDs))) fields.push(`count=${r.Count}`);
    const caps = r.Capabilities ?? [];
    if (caps.length > 1) ctx.w.push(`HostConfig.DeviceRequests capabilities ${JSON.stringify(caps)}: --gpus takes one set; only the first is kept`);
    const first = (caps[0] ?? ['gpu']).filter((c) => c !== 'gpu');
    if (first.length > 0) fields.push(`capabilities=${first.join(',')}`);
    if (!isEmpty(r.Options)) fields.push(`options=${csvRecord(Object.entries(r.Options ?? {}).map(([k, x]) => `${k}=${x}`))}`);
    out.push(['--gpus', fields.length === 0 ? 'count=1' : csvRecord(fields)]);
  }
  return out;
}

/** Fill spec.flags (and logging, seccomp) from HostConfig; warn about every set field it does not understand. */
export function hostFlags(facts: ContainerFacts, opts: ToRunSpecOptions, spec: RunSpec, w: string[]): void {
  const h = facts.HostConfig as H;
  const ctx: Ctx = { opts, spec, w, containerNet: String(h.NetworkMode ?? '').startsWith('container:') };
  for (const [key, rule] of RULES) spec.flags.push(...rule(h[key], h, ctx));
  for (const [k, v] of Object.entries(h)) {
    if (!KNOWN.has(k) && !isEmpty(v)) w.push(`HostConfig.${k}=${JSON.stringify(v)} is not understood by releaseflow; dropped`);
  }
}
