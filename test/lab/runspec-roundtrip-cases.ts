// Round-trip cases: each a hard combination of `docker create` options (see docs/fidelity.md).
import { type Case, dk, TMP } from './runspec-roundtrip-lib.ts';

export const IMG1 = 'rt-img:1';
export const IMG2 = 'rt-img:2';
export const EP = 'rt-ep:1';

/** A small seccomp profile (the CLI reads it from this file and sends it inline). */
export const SECCOMP = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['reboot'], action: 'SCMP_ACT_ERRNO' }] });

export const DOCKERFILES: Record<string, string> = {
  [IMG1]: `FROM ragflowauth-base:1
ENV IMG_A=one IMG_B="b one" SHARED=img1
LABEL rt.img=1 rt.keep=same rt.title="rt image one"
WORKDIR /srv/one
EXPOSE 7001 7002/udp
VOLUME /data1
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=11s --timeout=3s --retries=2 CMD ["true"]
USER nobody
CMD ["sleep", "3600"]
`,
  [IMG2]: `FROM ragflowauth-base:1
ENV IMG_A=two IMG_C=c2 SHARED=img2
LABEL rt.img=2 rt.keep=same rt.new=yes
WORKDIR /srv/two
EXPOSE 7003
VOLUME /data2
STOPSIGNAL SIGUSR2
HEALTHCHECK --interval=13s --timeout=4s CMD true
USER daemon
CMD ["sleep", "7200"]
`,
  [EP]: `FROM ragflowauth-base:1
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["exec sleep 3600"]
`,
};

const hostile = `sp ace "dq" 'sq' $HOME \`bt\` \\bs\ttab é✓ !x *? [a] {a,b} ~ ;|&<>()=eq`;

export const CASES: Case[] = [
  { name: 'control', args: [], cmd: null },
  { name: 'env-hostile', args: ['-e', `A=${hostile}`, '-e', 'JSON={"a":[1,2],"b":"c d"}', '-e', 'URL=https://u:p@h/p?q=1&r=2#f', '-e', 'EMPTY='] },
  { name: 'env-file-newline', envFile: true, args: ['-e', 'ML=line1\nline2\n', '-e', 'CR=ends\r', '-e', 'SPACED= lead and trail ', '-e', 'DB_PASSWORD=p@ss w0rd', '-e', `Q=${hostile}`] },
  { name: 'env-same-as-image', image: IMG1, args: ['-e', 'IMG_A=one', '-e', 'X=1', '-e', 'PATH=/usr/local/bin:/usr/bin:/bin'] },
  { name: 'env-passthrough', args: ['-e', 'RT_SURELY_UNSET_VAR', '-e', 'B=2'], warns: [/RT_SURELY_UNSET_VAR/] },
  { name: 'env-dup-keys', envFile: true, args: ['-e', 'K=1', '-e', 'K=2', '-e', 'L=x=y=z'] },
  { name: 'labels', image: IMG1, args: ['--label', `q=it's "x" $y`, '--label', 'empty=', '--label', 'eq=a=b', '--label', 'nl=a\nb', '--label', 'rt.img=mine', '--label', 'rt.keep=same', '--label', 'com.example.x=y'] },
  { name: 'ports-mixed', args: ['-p', '127.0.0.1:18080:80', '-p', '18081:80', '-p', '127.0.0.1::81', '-p', '82', '-p', '19000-19002:9000-9002/udp', '-p', '17000-17010:90'] },
  { name: 'ports-sctp-unstarted', start: false, args: ['-p', '18082:83/sctp', '-p', '127.0.0.1:18083-18085:84-86/sctp'] },
  { name: 'ports-v6-publish-all', image: IMG1, args: ['-P', '--expose', '5000-5002', '--expose', '6000/udp', '-p', '[::1]:18443:443', '-p', '0.0.0.0:18444:444'] },
  { name: 'user-net-static', args: ['--network', 'rt-net2', '--network-alias', 'web', '--network-alias', 'www.example', '--ip', '172.30.1.50', '--ip6', 'fd00:30::50', '--hostname', 'rthost'] },
  {
    name: 'multi-net',
    args: ['--network', 'rt-net1', '--network-alias', 'a1', '--ip', '172.30.0.60', '--link', 'rt-peer:pp'],
    after: (n) => {
      dk(['network', 'connect', '--alias', 'b1', '--alias', 'b2', '--ip', '172.30.1.61', '--ip6', 'fd00:30::61', 'rt-net2', n]);
    },
  },
  { name: 'bridge-dns-hosts', args: ['--link', 'rt-peer:db', '--dns', '10.0.0.53', '--dns', '10.0.0.54', '--dns-search', 'example.com', '--dns-option', 'ndots:2', '--dns-option', 'timeout:1', '--add-host', 'db.local:10.1.1.1', '--add-host', 'db.local:10.1.1.2', '--add-host', 'v6.local:fd00::1', '--add-host', 'gw:host-gateway'] },
  { name: 'net-host', args: ['--network', 'host', '-p', '18090:80'] },
  { name: 'net-none-readonly', args: ['--network', 'none', '--read-only', '--tmpfs', '/run:rw,noexec,nosuid,size=64m', '--tmpfs', '/scratch'] },
  { name: 'net-container', args: ['--network', 'container:rt-peer', '--pid', 'container:rt-peer', '--ipc', 'container:rt-peer', '--volumes-from', 'rt-peer:ro'] },
  { name: 'binds', args: ['-v', '/srv/rt dir/with space:/a', '-v', '/srv/rt-ro:/b:ro,z', '-v', '/etc/hostname:/d/hostname:ro', '-v', '/srv/ünï cødé:/e'] },
  { name: 'volumes', image: IMG1, args: ['-v', 'rt-vol:/named', '-v', 'rt-vol2:/named2:nocopy', '-v', '/anon', '-v', '/anon2'] },
  { name: 'binds-propagation-unstarted', start: false, args: ['-v', '/srv/rt-slave:/c:rslave', '-v', '/srv/rt-ro:/s:rshared,ro', '--mount', 'type=bind,"source=/srv/rt a,b",target=/m1,readonly,bind-propagation=rslave'] },
  { name: 'volumes-new-policy', image: IMG1, anon: 'new', args: ['-v', 'rt-vol:/named', '-v', '/anon'] },
  {
    name: 'mount-csv',
    args: [
      '--mount', 'type=bind,"source=/srv/rt a,b",target=/m1,readonly',
      '--mount', 'type=bind,source=/srv/rt-ro,target=/m2,bind-nonrecursive',
      '--mount', 'type=volume,source=rt-vopt,target=/m3,volume-nocopy,volume-label=a=b,volume-label=c=d e,volume-driver=local,volume-opt=type=tmpfs,volume-opt=device=tmpfs,"volume-opt=o=size=10m,uid=1000"',
    ],
  },
  { name: 'mount-tmpfs-anon', args: ['--mount', 'type=tmpfs,target=/t1,tmpfs-size=10m,tmpfs-mode=1770', '--mount', 'type=volume,target=/anonmount', '--tmpfs', '/t2:size=1m'] },
  { name: 'resources', args: ['--memory', '300m', '--memory-reservation', '100m', '--memory-swap', '1g', '--cpus', '1.5', '--cpu-shares', '512', '--cpuset-cpus', '0', '--cpuset-mems', '0', '--pids-limit', '100', '--oom-score-adj', '100', '--shm-size', '128m'] },
  { name: 'cpu-quota-ulimits', args: ['--cpu-period', '100000', '--cpu-quota', '50000', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=512', '--ulimit', 'core=-1', '--memory', '64m', '--oom-kill-disable'] },
  { name: 'restart-stop-init', image: IMG1, args: ['--restart', 'on-failure:3', '--stop-signal', 'SIGUSR2', '--stop-timeout', '5', '--init'] },
  { name: 'restart-always-noinit', args: ['--restart', 'always', '--init=false', '--runtime', 'runc', '--memory', '128m', '--memory-swap', '256m'] },
  { name: 'health-full', args: ['--health-cmd', `test -n "$HOME" && echo 'ok' | grep -q ok`, '--health-interval', '7s', '--health-timeout', '1500ms', '--health-start-period', '1m30s', '--health-retries', '4'] },
  { name: 'no-healthcheck', image: IMG1, args: ['--no-healthcheck'] },
  { name: 'health-partial', image: IMG1, args: ['--health-interval', '7s', '--health-retries', '9'] },
  { name: 'entrypoint-user-workdir', args: ['--entrypoint', '/bin/sh', '--user', '1000:1000', '--workdir', '/tmp/w d'], cmd: ['-c', `echo "$HOME" 'it''s' && exec sleep 3600`] },
  { name: 'entrypoint-reset', image: EP, args: ['--entrypoint', ''], cmd: ['sleep', '3600'] },
  { name: 'ep-args-only', image: EP, args: [], cmd: ['exec sleep 1000'] },
  { name: 'ep-args-equal-image', image: EP, args: [], cmd: ['exec sleep 3600'] },
  { name: 'ep-first-element', image: EP, args: ['--entrypoint', '/bin/sh'], cmd: ['-c', 'exec sleep 3600'] },
  { name: 'ep-same-no-args', image: EP, args: ['--entrypoint', '/bin/sh'], cmd: null, start: false },
  { name: 'caps-secopts', args: ['--cap-add', 'NET_ADMIN', '--cap-add', 'sys_time', '--cap-drop', 'MKNOD', '--cap-drop', 'CAP_CHOWN', '--security-opt', 'no-new-privileges', '--group-add', '123', '--group-add', '4567'] },
  { name: 'privileged-host-ns', start: false, args: ['--privileged', '--pid', 'host', '--uts', 'host', '--ipc', 'host', '--userns', 'host', '--cgroupns', 'private'] },
  { name: 'systempaths-seccomp', args: ['--security-opt', 'systempaths=unconfined', '--security-opt', `seccomp=${TMP}/seccomp.json`, '--security-opt', 'label=disable'] },
  { name: 'devices', args: ['--device', '/dev/null:/dev/mynull:r', '--device', '/dev/zero', '--device', '/dev/urandom:/dev/urandom:rw', '--device-cgroup-rule', 'c 1:3 mr', '--device-cgroup-rule', 'b 7:* rmw'] },
  { name: 'sysctls', args: ['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'net.core.somaxconn=1024', '--sysctl', 'kernel.msgmax=65536'] },
  { name: 'log-local', args: ['--log-driver', 'local', '--log-opt', 'max-size=5m', '--log-opt', 'max-file=2'] },
  { name: 'log-json-opts', args: ['--log-opt', 'tag={{.Name}}/{{.ID}} x', '--log-opt', 'labels=a,b', '--log-opt', 'env-regex=^(A|B)$', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=3', '--label', 'a=1'] },
  { name: 'log-none', args: ['--log-driver', 'none'] },
  { name: 'tty-hostname-ipc', args: ['-t', '-i', '--hostname', 'h1', '--domainname', 'example.org', '--ipc', 'shareable', '--cgroup-parent', '/rt-parent'] },
  { name: 'rm-cidfile', args: ['--rm', '--cidfile', '/tmp/rt-cidfile-test'], start: false, warns: [/AutoRemove/] },
  { name: 'gpus', args: ['--gpus', '"device=0,1"', '--gpus', 'count=all,"capabilities=compute,utility"'], start: false },
  { name: 'volume-driver', args: ['--volume-driver', 'local', '-v', 'rt-drv:/d', '--read-only'] },
  { name: 'readonly-user-tmpfs', args: ['--read-only', '--tmpfs', '/tmp:mode=1777', '--user', 'nobody', '--workdir', '/tmp'] },
  { name: 'user-net-link-driveropt', args: ['--network', 'name=rt-net1,driver-opt=com.example.opt=1', '--network-alias', 'dr', '--link', 'rt-peer2:p2'] },
  { name: 'expose-and-publish', image: IMG1, args: ['--expose', '7001', '--expose', '7100', '-p', '7100:7100', '-p', '17001:7001'] },
  { name: 'stopped-cmd-equals-image', image: IMG1, args: ['-e', 'A=1'], cmd: ['sleep', '3600'], start: false },
  { name: 'blkio-swappiness', args: ['--blkio-weight', '300', '--memory', '64m', '--memory-swappiness', '10', '--kernel-memory', '0'] },
  { name: 'mac-address-cli20', cli: '/usr/bin/docker', args: ['--network', 'rt-net1', '--mac-address', '02:aa:bb:cc:dd:ee'] },
  { name: 'link-noalias-limits', args: ['--link', 'rt-peer', '--memory', '64m', '--memory-swap', '-1', '--pids-limit', '-1', '--oom-score-adj', '250', '--stop-signal', '9', '--shm-size', '64m', '--restart', 'no'] },
  {
    name: 'disconnected-primary',
    args: ['--network', 'rt-net1', '--network-alias', 'gone'],
    after: (n) => {
      dk(['network', 'connect', '--alias', 'stays', 'rt-net2', n]);
      dk(['network', 'disconnect', 'rt-net1', n]);
    },
    warns: [/not attached/],
    compare: 'networks-only',
  },
  {
    name: 'bridge-plus-user-net',
    args: ['-p', '18200:80', '--link', 'rt-peer:pp'],
    after: (n) => {
      dk(['network', 'connect', '--alias', 'z1', '--link', 'rt-peer2:p2', 'rt-net1', n]);
    },
  },
  { name: 'host-net-hostname', args: ['--network', 'host', '--hostname', 'hh', '--add-host', 'x:10.9.9.9'] },
  { name: 'entrypoint-with-space', start: false, args: ['--entrypoint', '/bin/echo hi there', '-w', '/'], cmd: ['a b', "c'd"] },
  { name: 'tmpfs-opts', args: ['--tmpfs', '/run:rw,size=1g,mode=1777,uid=1000,gid=1000', '--tmpfs', '/var/cache:noexec,nosuid,nodev', '--mount', 'type=tmpfs,dst=/t3,tmpfs-size=1048576'] },
  { name: 'blkio-throttle', args: ['--device-read-bps', '/dev/vda:1mb', '--device-write-bps', '/dev/vda:2mb', '--device-read-iops', '/dev/vda:100', '--device-write-iops', '/dev/vda:200', '--blkio-weight-device', '/dev/vda:300'] },
  { name: 'everything-web', image: IMG1, envFile: true, args: ['-e', 'DB_PASSWORD=x y', '-e', 'API_TOKEN=t$k', '-e', 'ML=a\nb', '--label', 'team=web', '-p', '127.0.0.1:18100:7001', '--network', 'rt-net1', '--network-alias', 'web', '--ip', '172.30.0.70', '-v', 'rt-vol:/data', '-v', '/srv/rt-ro:/conf:ro', '--tmpfs', '/run', '--restart', 'unless-stopped', '--memory', '256m', '--cpus', '0.5', '--log-opt', 'max-size=10m', '--hostname', 'web1', '--user', '1000', '--read-only', '--cap-drop', 'ALL', '--cap-add', 'NET_BIND_SERVICE', '--security-opt', 'no-new-privileges:true', '--health-cmd', 'wget -qO- http://127.0.0.1:7001/ || exit 1', '--init', '--stop-timeout', '20'] },
];
