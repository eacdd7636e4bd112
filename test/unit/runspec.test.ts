import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type ContainerFacts, type ImageFacts, parseImageInspect, parseInspect } from '../../src/core/inspect.ts';
import { runSpecToArgv, type ToRunSpecOptions, toRunSpec, userEnv, userLabels } from '../../src/core/runspec.ts';

// Fixtures: inspect JSON captured from the lab (lab.sh fixtures, and RT_CAPTURE runs of test/lab/runspec-roundtrip.test.ts)
const dir = new URL('../fixtures/', import.meta.url);
const raw = (name: string): any => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
const images = readdirSync(dir)
  .filter((f) => /^(image|spec-image)-.*\.inspect\.json$/.test(f))
  .map((f) => parseImageInspect(raw(f)));
const imageOf = (facts: ContainerFacts): ImageFacts => images.find((i) => i.Id === facts.Image)!;
const V1: ToRunSpecOptions['daemon'] = { Name: 'test', LoggingDriver: 'json-file', DefaultRuntime: 'runc', CgroupVersion: '1' };

/** toRunSpec of a captured case, optionally tweaked first; returns the argv after `docker create --name x` and before the image. */
function spec(name: string, opts: ToRunSpecOptions = { daemon: V1 }, tweak?: (x: any) => void) {
  const json = raw(name.endsWith('.json') ? name : `spec-${name}.inspect.json`);
  if (tweak) tweak(json[0]);
  const facts = parseInspect(json);
  const r = toRunSpec(facts, imageOf(facts), opts);
  const argv = runSpecToArgv(r.spec, { mode: 'create', name: 'x', image: 'IMG', seccompFile: r.spec.seccompProfile ? '/s.json' : undefined }).argv;
  const img = argv.indexOf('IMG');
  return { ...r, facts, opts: argv.slice(4, img), args: argv.slice(img + 1) };
}

test('control: a container created with no options gives just the name and image', () => {
  const r = spec('control');
  assert.deepEqual([r.opts, r.args, r.warnings], [[], [], []]);
});

test('the seeded PROD backend keeps every operator value and nothing of the image', () => {
  const r = spec('prod-backend-v1.inspect.json', {});
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.spec.env, ['GREETING=hello "world" $HOME it\'s', 'DB_PASSWORD=s3cr3t-Pa55', 'EXTRA_SECRET_NAME=another-secret-value']);
  assert.deepEqual(r.spec.labels, { note: 'a b', team: 'auth' });
  assert.equal(r.spec.cmd, undefined);
  assert.equal(r.spec.workdir, undefined, 'image WORKDIR not pinned');
  assert.deepEqual(r.spec.networks, [{ name: 'ragflowauth-net', aliases: ['backend'] }], 'short ID and hostname aliases dropped');
  assert.ok(!r.opts.includes('--memory-swap'), 'MemorySwap = 2 × Memory is the daemon default');
  assert.ok(!r.opts.includes('--cgroupns') && !r.opts.includes('--ipc') && !r.opts.includes('--shm-size') && !r.opts.includes('--runtime'));
});

test('test-backend-v2 against its own image: nothing of v2 is pinned either', () => {
  const r = spec('test-backend-v2.inspect.json', {});
  assert.deepEqual(r.warnings, []);
  assert.ok(!r.opts.some((a) => a.includes('APP_VERSION') || a === '/app/start' || a.includes('org.opencontainers')));
});

test('userEnv: the image tail goes, values re-typed after the operator ones stay', () => {
  const img = ['PATH=/bin', 'A=1', 'B=2'];
  assert.deepEqual(userEnv(['PATH=/bin', 'A=1', 'B=2'], img), []);
  assert.deepEqual(userEnv(['X=1', 'PATH=/bin', 'A=1', 'B=2'], img), ['X=1']);
  assert.deepEqual(userEnv(['A=1', 'PATH=/bin', 'B=2'], img), ['A=1'], 'explicitly same as image, out of image order: kept');
  assert.deepEqual(userEnv(['B=3', 'PATH=/bin', 'A=1'], img), ['B=3'], 'override removes the image entry from the tail');
  assert.deepEqual(userEnv(['K', 'PATH=/bin', 'A=1', 'B=2'], img), ['K']);
  assert.deepEqual(userLabels({ a: '1', b: 'x', c: '3' }, { a: '1', b: '2' }), { b: 'x', c: '3' });
});

test('env equal to the image value is kept by position; image tail dropped', () => {
  const r = spec('env-same-as-image');
  assert.deepEqual(r.spec.env, ['PATH=/usr/local/bin:/usr/bin:/bin', 'IMG_A=one', 'X=1']);
});

test('env without a value is kept and warned about', () => {
  const r = spec('env-passthrough');
  assert.deepEqual(r.opts, ['-e', 'RT_SURELY_UNSET_VAR', '-e', 'B=2']);
  assert.match(r.warnings.join('\n'), /RT_SURELY_UNSET_VAR.*no value/);
});

test('labels: overrides of an image label kept, labels equal to the image dropped', () => {
  const r = spec('labels');
  assert.deepEqual(r.spec.labels, { 'com.example.x': 'y', empty: '', eq: 'a=b', nl: 'a\nb', q: `it's "x" $y`, 'rt.img': 'mine' });
});

test('ports: PortBindings (not runtime ports) with host IPs, random ports, ranges folded back', () => {
  const r = spec('ports-mixed');
  const p = r.opts.filter((_, i) => r.opts[i - 1] === '--publish');
  assert.deepEqual(p, ['127.0.0.1:18080:80', '18081:80', '127.0.0.1::81', '82', '17000-17010:90', '19000-19002:9000-9002/udp']);
});

test('ports: IPv6 host IPs in brackets, -P kept, --expose only beyond the image and published ports', () => {
  const r = spec('ports-v6-publish-all');
  assert.deepEqual(r.spec.publish.map((x) => x.hostIp), ['::1', '0.0.0.0']);
  assert.ok(r.opts.includes('[::1]:18443:443') && r.opts.includes('--publish-all'));
  assert.deepEqual(r.spec.expose, ['5000/tcp', '5001/tcp', '5002/tcp', '6000/udp']);
});

test('networks: aliases without the daemon-added short ID and hostname; static IPs', () => {
  const r = spec('user-net-static');
  assert.deepEqual(r.spec.networks, [{ name: 'rt-net2', aliases: ['web', 'www.example'], ipv4: '172.30.1.50', ipv6: 'fd00:30::50' }]);
  assert.equal(r.spec.hostname, 'rthost');
});

test('networks: API ≥ 1.45 aliases (no short ID) come through unchanged', () => {
  const r = spec('user-net-static', { daemon: V1 }, (x) => {
    x.NetworkSettings.Networks['rt-net2'].Aliases = ['web', 'www.example'];
  });
  assert.deepEqual(r.spec.networks[0]?.aliases, ['web', 'www.example']);
});

test('container: namespaces map to the peer name when known, else keep the ID with a warning', () => {
  const facts = parseInspect(raw('spec-net-container.inspect.json'));
  const peer = facts.HostConfig.NetworkMode!.slice('container:'.length);
  const named = toRunSpec(facts, imageOf(facts), { names: { [peer]: '/rt-peer' } });
  assert.equal(named.spec.networkMode, 'container:rt-peer');
  assert.deepEqual(named.spec.flags.filter(([f]) => f === '--pid' || f === '--ipc'), [['--pid', 'container:rt-peer'], ['--ipc', 'container:rt-peer']]);
  assert.equal(named.spec.hostname, undefined, 'hostname copied from the peer is dropped');
  assert.deepEqual(named.warnings, []);
  const unnamed = toRunSpec(facts, imageOf(facts));
  assert.equal(unnamed.spec.networkMode, `container:${peer}`);
  assert.equal(unnamed.warnings.length, 3);
});

test('host namespaces: no hostname with --uts host; cgroupns kept only when not the daemon default', () => {
  const r = spec('privileged-host-ns');
  assert.deepEqual(r.opts, ['--privileged', '--userns', 'host', '--pid', 'host', '--ipc', 'host', '--uts', 'host', '--cgroupns', 'private']);
  assert.ok(!spec('privileged-host-ns', { daemon: { CgroupVersion: '2' } }).opts.includes('--cgroupns'));
  assert.ok(!spec('privileged-host-ns', {}).opts.includes('--cgroupns'), 'without daemon facts the default is unknown: not pinned');
  const injected = spec('privileged-host-ns', { daemon: V1 }, (x) => {
    x.HostConfig.SecurityOpt = ['label=disable'];
  });
  assert.ok(!injected.opts.includes('label=disable'), 'label=disable injected by SELinux daemons for privileged is dropped');
});

test('network host: the host name is not pinned when the daemon name is known', () => {
  assert.equal(spec('net-host').spec.hostname, undefined);
  assert.equal(spec('net-host', {}).spec.hostname, 'test', 'unknown daemon: kept (same value on the same host)');
  assert.equal(spec('net-host').spec.networkMode, 'host');
});

test('seccomp profile: carried as JSON; systempaths=unconfined from empty MaskedPaths', () => {
  const r = spec('systempaths-seccomp');
  assert.deepEqual(JSON.parse(r.spec.seccompProfile!).defaultAction, 'SCMP_ACT_ALLOW');
  assert.deepEqual(r.opts, ['--security-opt', 'label=disable', '--security-opt', 'systempaths=unconfined', '--security-opt', 'seccomp=/s.json']);
});

test('volumes: named stay named; anonymous ones (-v and image VOLUME) reused by name, or fresh under "new"', () => {
  const r = spec('volumes');
  const mounts = r.facts.Mounts;
  const anon = (d: string) => mounts.find((m) => m.Destination === d)!.Name;
  assert.deepEqual(r.spec.binds, ['rt-vol:/named', 'rt-vol2:/named2:nocopy', `${anon('/anon')}:/anon`, `${anon('/anon2')}:/anon2`, `${anon('/data1')}:/data1`]);
  assert.equal(r.warnings.filter((w) => /reused by name/.test(w)).length, 3);
  const fresh = spec('volumes', { anonymousVolumes: 'new' });
  assert.deepEqual(fresh.spec.binds, ['rt-vol:/named', 'rt-vol2:/named2:nocopy', '/anon', '/anon2']);
  assert.deepEqual(fresh.warnings, []);
});

test('anonymous --mount type=volume gets its volume name as source under "reuse"', () => {
  const r = spec('mount-tmpfs-anon');
  const m = r.spec.mounts.find((x) => x.Target === '/anonmount')!;
  assert.equal(m.Source, r.facts.Mounts.find((x) => x.Destination === '/anonmount')!.Name);
});

test('healthcheck: field-wise against the image; --no-healthcheck; exec-form test warned', () => {
  assert.deepEqual(spec('health-partial').spec.healthcheck, { interval: 7_000_000_000, retries: 9 });
  assert.deepEqual(spec('no-healthcheck').spec.healthcheck, { disable: true });
  assert.deepEqual(spec('health-full').spec.healthcheck, {
    cmd: `test -n "$HOME" && echo 'ok' | grep -q ok`, interval: 7e9, timeout: 1.5e9, startPeriod: 90e9, retries: 4,
  });
  const exec = spec('health-full', { daemon: V1 }, (x) => {
    x.Config.Healthcheck.Test = ['CMD', 'wget', '-q', 'http://x/a b'];
  });
  assert.equal(exec.spec.healthcheck?.cmd, "wget -q 'http://x/a b'");
  assert.match(exec.warnings.join(), /exec form/);
});

test('entrypoint and command: reset, same-as-image, explicit args, multi-element', () => {
  assert.deepEqual([spec('entrypoint-reset').spec.entrypoint, spec('entrypoint-reset').spec.cmd], [[], ['sleep', '3600']]);
  const same = spec('ep-same-no-args');
  assert.deepEqual([same.spec.entrypoint, same.spec.cmd], [['/bin/sh'], []], 'explicit entrypoint keeps the image CMD away');
  assert.deepEqual(spec('ep-first-element').args, ['-c', 'exec sleep 3600']);
  const uw = spec('entrypoint-user-workdir');
  assert.deepEqual(uw.opts, ['--user', '1000:1000', '--workdir', '/tmp/w d', '--entrypoint', '/bin/sh']);
  const sameAsImage = spec('entrypoint-reset', { daemon: V1 }, (x) => {
    x.Config.Entrypoint = ['/bin/sh', '-c'];
    x.Config.Cmd = ['exec sleep 1'];
  });
  assert.deepEqual([sameAsImage.opts, sameAsImage.args], [[], ['exec sleep 1']], 'image entrypoint inherited, args kept');
  const multi = spec('control', { daemon: V1 }, (x) => {
    x.Config.Entrypoint = ['/bin/sh', '-c'];
    x.Config.Cmd = ['exec sleep 1'];
  });
  assert.deepEqual([multi.opts, multi.args], [['--entrypoint', '/bin/sh'], ['-c', 'exec sleep 1']]);
  assert.match(multi.warnings.join(), /2 elements/);
});

test('daemon defaults are not pinned, operator values are', () => {
  const r = spec('restart-always-noinit');
  assert.deepEqual(r.opts, ['--restart', 'always', '--init=false', '--memory', '128m'], 'runc, 2×memory swap dropped');
  const local = spec('log-local', { daemon: { ...V1, LoggingDriver: 'local' } });
  assert.deepEqual(local.opts, ['--log-opt', 'max-file=2', '--log-opt', 'max-size=5m']);
  const tweaked = spec('control', { daemon: V1 }, (x) => {
    Object.assign(x.HostConfig, { Runtime: 'runsc', ShmSize: 134217728, IpcMode: 'shareable', MemorySwappiness: 0 });
  });
  assert.deepEqual(tweaked.opts, ['--ipc', 'shareable', '--runtime', 'runsc', '--memory-swappiness', '0', '--shm-size', '128m']);
});

test('anything not understood is warned about by name, never dropped silently', () => {
  const r = spec('control', { daemon: V1 }, (x) => {
    x.HostConfig.Frobnicate = ['x'];
    x.Config.NewThing = 'y';
    x.HostConfig.CpuCount = 2;
    x.NetworkSettings.Networks.bridge.GwPriority = 5;
    x.HostConfig.Mounts = [{ Type: 'bind', Source: '/a', Target: '/b', ClusterOptions: { x: 1 }, BindOptions: { CreateMountpoint: true } }];
    x.Config.Labels = { ...x.Config.Labels, 'com.docker.compose.project': 'p' };
  });
  const w = r.warnings.join('\n');
  for (const re of [/HostConfig\.Frobnicate/, /Config\.NewThing/, /CpuCount.*Windows/, /bridge\.GwPriority/, /Mounts\[0\]\.ClusterOptions/, /CreateMountpoint/, /compose/]) assert.match(w, re);
});

test('MAC: an operator MAC is kept, a daemon-generated one (02:42 + IP) is not', () => {
  assert.equal(spec('mac-address-cli20').spec.macAddress, '02:aa:bb:cc:dd:ee');
  const gen = spec('user-net-static', { daemon: V1 }, (x) => {
    x.Config.MacAddress = '02:42:ac:1e:01:32';
  });
  assert.equal(gen.spec.macAddress, undefined);
  assert.match(gen.warnings.join(), /generated/);
});

test('--rm and --cidfile: both kept (--rm with a rollback warning; the plan removes the old cidfile at the swap)', () => {
  const r = spec('rm-cidfile');
  assert.deepEqual(r.opts, ['--cidfile', '/tmp/rt-cidfile-test', '--rm']);
  assert.equal(r.spec.cidfile, '/tmp/rt-cidfile-test');
  assert.equal(r.warnings.length, 1);
  assert.doesNotMatch(r.warnings[0]!, /cidfile/);
});
