import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderComposeFile, serviceName } from '../../src/core/compose-export.ts';
import { parseImageInspect, parseInspect } from '../../src/core/inspect.ts';
import { type RunSpec, toRunSpec } from '../../src/core/runspec.ts';
import { fixture } from './fixtures.ts';

const spec = (name: 'backend' | 'frontend') => toRunSpec(parseInspect(fixture(`prod-${name}-v1.inspect.json`)), parseImageInspect(fixture(`image-${name}-v1.inspect.json`))).spec;
const seed = () => [
  { name: 'ragflowauth-backend', image: 'ragflowauth-backend:v1', spec: spec('backend') },
  { name: 'ragflowauth-frontend', image: 'ragflowauth-frontend:v1', spec: spec('frontend') },
];
const opts = { app: 'ragflowauth', format: 'v2' as const, secrets: ['EXTRA_SECRET_NAME'], reveal: false };

test('service names drop the app prefix', () => {
  assert.equal(serviceName('ragflowauth-backend', 'ragflowauth'), 'backend');
  assert.equal(serviceName('other_DB', 'ragflowauth'), 'other_db');
  assert.equal(serviceName('ragflowauth-', 'ragflowauth'), 'ragflowauth-');
});

test("the seed's docker-run containers become services with the same settings, external network and volume", () => {
  const r = renderComposeFile(seed(), { ...opts, reveal: true });
  const doc = parse(r.text);
  assert.equal(doc.name, 'ragflowauth');
  assert.equal(doc.version, undefined);
  const b = doc.services.backend;
  assert.equal(b.image, 'ragflowauth-backend:v1');
  assert.equal(b.container_name, 'ragflowauth-backend');
  assert.equal(b.hostname, 'ragflow-backend');
  assert.deepEqual(b.ports, ['8001:8001']);
  assert.deepEqual(b.volumes, ['ragflowauth-data:/data', '/opt/ragflowauth/conf:/app/conf:ro']);
  assert.deepEqual(b.networks, { 'ragflowauth-net': { aliases: ['backend'] } });
  assert.equal(b.restart, 'unless-stopped');
  assert.equal(b.mem_limit, '256m');
  assert.deepEqual(b.logging, { options: { 'max-size': '10m' } });
  assert.deepEqual(b.labels, { note: 'a b', team: 'auth' });
  // compose interpolates $: a literal one is written $$
  assert.ok(b.environment.includes(`GREETING=hello "world" $$HOME it's`));
  assert.ok(b.environment.includes('DB_PASSWORD=s3cr3t-Pa55'));
  assert.deepEqual(doc.networks, { 'ragflowauth-net': { external: true } });
  assert.deepEqual(doc.volumes, { 'ragflowauth-data': { external: true } });
  assert.equal(doc.services.frontend.restart, 'always');
  assert.equal(r.hasSecrets, true);
  assert.deepEqual(r.warnings, []);
});

test('secrets are masked unless revealed', () => {
  const r = renderComposeFile(seed(), opts);
  assert.doesNotMatch(r.text, /s3cr3t-Pa55|another-secret-value/);
  assert.match(r.text, /DB_PASSWORD=\*{8}/);
  assert.match(r.text, /# Secret values are masked/);
});

test('format v1 is file format 2.4 without a project name; keys 2.4 lacks are dropped with a warning', () => {
  const s = spec('backend');
  const custom: RunSpec = { ...s, flags: [...s.flags, ['--uts', 'host'], ['--cap-add', 'NET_ADMIN']] };
  const r = renderComposeFile([{ name: 'ragflowauth-backend', image: 'x:1', spec: custom }], { ...opts, format: 'v1' });
  const doc = parse(r.text);
  assert.equal(doc.version, '2.4');
  assert.equal(doc.name, undefined);
  assert.equal(doc.services.backend.uts, undefined);
  assert.deepEqual(doc.services.backend.cap_add, ['NET_ADMIN']);
  assert.ok(r.warnings.some((w) => /uts is not in file format 2\.4/.test(w)));
});

test('flags map to compose keys; those without one are warned about', () => {
  const base = spec('frontend');
  const custom: RunSpec = {
    ...base,
    networkMode: 'host',
    entrypoint: ['/bin/sh'],
    cmd: ['-c', 'echo $X'],
    healthcheck: { cmd: 'true', interval: 2_000_000_000, retries: 3 },
    tmpfs: { '/run': 'size=1m' },
    mounts: [{ Type: 'volume', Source: 'cache', Target: '/cache', ReadOnly: true, VolumeOptions: { NoCopy: true } }],
    flags: [['--ulimit', 'nofile=1024:2048'], ['--ulimit', 'nproc=64'], ['--sysctl', 'net.core.somaxconn=1024'], ['--device-read-bps', '/dev/sda:1048576'], ['--cpus', '1.5'], ['--init'], ['--gpus', 'all'], ['--memory-swap', '-1']],
    stopTimeout: 20,
  };
  const r = renderComposeFile([{ name: 'web', image: 'web:1', spec: custom }], opts);
  const w = parse(r.text).services.web;
  assert.equal(w.network_mode, 'host');
  assert.equal(w.networks, undefined);
  assert.deepEqual(w.entrypoint, ['/bin/sh']);
  assert.deepEqual(w.command, ['-c', 'echo $$X']);
  assert.deepEqual(w.healthcheck, { test: ['CMD-SHELL', 'true'], interval: '2s', retries: 3 });
  assert.deepEqual(w.tmpfs, ['/run:size=1m']);
  assert.deepEqual(w.volumes, [{ type: 'volume', source: 'cache', target: '/cache', read_only: true, volume: { nocopy: true } }]);
  assert.deepEqual(w.ulimits, { nofile: { soft: 1024, hard: 2048 }, nproc: 64 });
  assert.deepEqual(w.sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(w.blkio_config, { device_read_bps: [{ path: '/dev/sda', rate: 1048576 }] });
  assert.equal(w.cpus, 1.5);
  assert.equal(w.init, true);
  assert.equal(w.memswap_limit, -1);
  assert.equal(w.stop_grace_period, '20s');
  assert.deepEqual(parse(r.text).volumes, { cache: { external: true } });
  assert.ok(r.warnings.some((x) => x.includes('--gpus all')));
});

test('--swarm: a stack file (3.8) with deploy.* instead of restart, mem_limit, container_name; host-only settings dropped with a warning', () => {
  const r = renderComposeFile(seed(), { ...opts, reveal: true, stack: true });
  const doc = parse(r.text);
  assert.equal(doc.version, '3.8');
  assert.equal(doc.name, undefined, 'the 3.x schema has no top-level name');
  const b = doc.services.backend;
  for (const k of ['container_name', 'restart', 'mem_limit', 'cpus', 'network_mode']) assert.equal(b[k], undefined, k);
  assert.deepEqual(b.deploy, { replicas: 1, restart_policy: { condition: 'any' }, resources: { limits: { memory: '256m' } } });
  assert.deepEqual(b.ports, [{ target: 8001, published: 8001, protocol: 'tcp', mode: 'ingress' }]);
  assert.deepEqual(b.networks, { 'ragflowauth-net': { aliases: ['backend'] } });
  assert.deepEqual(doc.networks, { 'ragflowauth-net': { driver: 'overlay', attachable: true } });
  assert.deepEqual(doc.volumes, { 'ragflowauth-data': { external: true } });
  assert.equal(b.hostname, 'ragflow-backend');
  assert.deepEqual(b.logging, { options: { 'max-size': '10m' } });
  assert.match(r.text, /docker stack deploy -c THIS_FILE --resolve-image never ragflowauth/);
  assert.ok(r.warnings.some((w) => /ragflowauth-backend: container_name dropped: swarm names each task/.test(w)), r.warnings.join('\n'));
  assert.ok(r.warnings.some((w) => /bind mounts \(\/opt\/ragflowauth\/conf\) must exist on every node/.test(w)), r.warnings.join('\n'));
  assert.ok(r.warnings.some((w) => /network ragflowauth-net: .* overlay network the stack creates/.test(w)));
  // every service key is one the 3.8 schema allows
  const allowed = new Set(['image', 'command', 'entrypoint', 'environment', 'labels', 'hostname', 'domainname', 'user', 'working_dir', 'healthcheck', 'stop_signal', 'stop_grace_period', 'logging', 'init', 'read_only', 'tty', 'stdin_open', 'cap_add', 'cap_drop', 'sysctls', 'ulimits', 'dns', 'dns_search', 'extra_hosts', 'expose', 'tmpfs', 'volumes', 'isolation', 'ports', 'networks', 'deploy']);
  for (const [name, s] of Object.entries(doc.services as Record<string, object>)) for (const k of Object.keys(s)) assert.ok(allowed.has(k), `${name}.${k}`);
});

test('--swarm: restart policies and a host IP on a port', () => {
  const [b] = seed();
  const one = (restart: string, hostIp = '') => {
    const spec = { ...b!.spec, flags: [...b!.spec.flags.filter((f) => f[0] !== '--restart'), ['--restart', restart] as const], publish: b!.spec.publish.map((p) => ({ ...p, hostIp })) };
    return renderComposeFile([{ ...b!, spec }], { ...opts, stack: true });
  };
  assert.deepEqual(parse(one('no').text).services.backend.deploy.restart_policy, { condition: 'none' });
  assert.deepEqual(parse(one('on-failure:3').text).services.backend.deploy.restart_policy, { condition: 'on-failure', max_attempts: 3 });
  const ip = one('always', '127.0.0.1');
  assert.deepEqual(parse(ip.text).services.backend.deploy.restart_policy, { condition: 'any' });
  assert.ok(ip.warnings.some((w) => /port 127\.0\.0\.1:8001: swarm publishes on every node/.test(w)), ip.warnings.join('\n'));
});
