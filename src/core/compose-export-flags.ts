// The runspec's `docker run` flags as compose service keys (export-compose); a flag without a key is warned about.
import type { Flag } from './runspec-types.ts';

/** A compose service being built: keys as the compose specification names them. */
export type Service = Record<string, unknown>;

type Put = (s: Service, v: string, w: string[]) => void;

/** The value under `key`, created by `init` when absent. */
function slot<T>(s: Record<string, unknown>, key: string, init: () => T): T {
  if (s[key] === undefined) s[key] = init();
  return s[key] as T;
}

const set = (key: string): Put => (s, v) => {
  s[key] = v;
};
const num = (key: string): Put => (s, v) => {
  s[key] = Number(v);
};
const yes = (key: string): Put => (s) => {
  s[key] = true;
};
const add = (key: string): Put => (s, v) => {
  slot<string[]>(s, key, () => []).push(v);
};
const kv = (key: string): Put => (s, v) => {
  const i = v.indexOf('=');
  const m = slot<Record<string, string>>(s, key, () => ({}));
  m[i < 0 ? v : v.slice(0, i)] = i < 0 ? '' : v.slice(i + 1);
};
const blkio = (s: Service) => slot<Record<string, unknown>>(s, 'blkio_config', () => ({}));
// `/dev/sda:1048576` → { path, rate } (or weight)
const device = (key: string, field: 'rate' | 'weight'): Put => (s, v) => {
  const i = v.lastIndexOf(':');
  slot<unknown[]>(blkio(s), key, () => []).push({ path: v.slice(0, i), [field]: Number(v.slice(i + 1)) });
};
const drop = (why: string): Put => (_s, v, w) => {
  w.push(why.replace('$v', v));
};

const FLAGS: Record<string, Put> = {
  '--restart': set('restart'),
  '--rm': drop('--rm has no compose key (compose keeps its containers); dropped'),
  '--dns': add('dns'),
  '--dns-search': add('dns_search'),
  '--dns-option': add('dns_opt'),
  '--add-host': add('extra_hosts'),
  '--privileged': yes('privileged'),
  '--cap-add': add('cap_add'),
  '--cap-drop': add('cap_drop'),
  '--security-opt': add('security_opt'),
  '--read-only': yes('read_only'),
  '--init': yes('init'),
  '--init=false': (s) => {
    s.init = false;
  },
  '--group-add': add('group_add'),
  '--userns': set('userns_mode'),
  '--pid': set('pid'),
  '--ipc': set('ipc'),
  '--uts': set('uts'),
  '--cgroupns': set('cgroup'),
  '--cgroup-parent': set('cgroup_parent'),
  '--runtime': set('runtime'),
  '--isolation': set('isolation'),
  '--memory': set('mem_limit'),
  '--memory-reservation': set('mem_reservation'),
  '--memory-swap': (s, v) => {
    s.memswap_limit = v === '-1' ? -1 : v;
  },
  '--memory-swappiness': num('mem_swappiness'),
  '--kernel-memory': drop('--kernel-memory $v has no compose key (and engines with API 1.42+ ignore it); dropped'),
  '--oom-kill-disable': yes('oom_kill_disable'),
  '--oom-score-adj': num('oom_score_adj'),
  '--pids-limit': num('pids_limit'),
  '--cpus': (s, v) => {
    s.cpus = Number(v);
  },
  '--cpu-shares': num('cpu_shares'),
  '--cpu-period': num('cpu_period'),
  '--cpu-quota': num('cpu_quota'),
  '--cpu-rt-period': num('cpu_rt_period'),
  '--cpu-rt-runtime': num('cpu_rt_runtime'),
  '--cpuset-cpus': set('cpuset'),
  '--cpuset-mems': drop('--cpuset-mems $v has no compose key; dropped'),
  '--blkio-weight': (s, v) => {
    blkio(s).weight = Number(v);
  },
  '--blkio-weight-device': device('weight_device', 'weight'),
  '--device-read-bps': device('device_read_bps', 'rate'),
  '--device-write-bps': device('device_write_bps', 'rate'),
  '--device-read-iops': device('device_read_iops', 'rate'),
  '--device-write-iops': device('device_write_iops', 'rate'),
  '--ulimit': (s, v) => {
    const [name = '', limits = ''] = v.split('=');
    const [soft, hard = soft] = limits.split(':');
    const m = slot<Record<string, unknown>>(s, 'ulimits', () => ({}));
    m[name] = soft === hard ? Number(soft) : { soft: Number(soft), hard: Number(hard) };
  },
  '--sysctl': kv('sysctls'),
  '--shm-size': set('shm_size'),
  '--device': add('devices'),
  '--device-cgroup-rule': add('device_cgroup_rules'),
  '--gpus': drop('--gpus $v: write it as deploy.resources.reservations.devices by hand; dropped'),
  '--storage-opt': kv('storage_opt'),
  '--annotation': kv('annotations'),
  '--volume-driver': set('volume_driver'),
  '--tty': yes('tty'),
  '--interactive': yes('stdin_open'),
};

/** Put each runspec flag on the service; warn about those compose cannot express. */
export function applyFlags(s: Service, flags: readonly Flag[], w: string[]): void {
  for (const [flag, value] of flags) {
    const put = FLAGS[flag];
    if (put) put(s, value ?? '', w);
    else w.push(`${flag}${value === undefined ? '' : ` ${value}`} has no compose equivalent known to releaseflow; dropped`);
  }
}
