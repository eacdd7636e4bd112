import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { healthUrlOn, loadConfig, locateConfig, parseConfig } from '../../src/core/config.ts';
import { ConfigError } from '../../src/core/errors.ts';

// The sample configuration of the foundation issue.
const SAMPLE = `app: ragflowauth
hosts:
  test:
    address: 192.168.1.10
    user: deploy
  prod:
    address: prod.example.com
    user: deploy
    port: 2222
    identityFile: keys/prod_ed25519
    sudo: true
from: test
to: prod
containers:
  - ragflowauth-backend
  - name: ragflowauth-frontend
    health: { url: "http://127.0.0.1:8080/", timeout: 2m }
health:
  url: http://127.0.0.1:8001/health
  timeout: 60s
  interval: 500ms
log:
  file: logs/releaseflow.log
secrets: [RAGFLOW_API_KEY]
keepReleases: 5
ssh:
  connectTimeout: 10s
`;

const FILE = '/etc/releaseflow/releaseflow.yml';

function configError(text: string): ConfigError {
  try {
    parseConfig(text, FILE);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    assert.equal(e.exitCode, 2);
    assert.ok(e.detail.fix, 'a ConfigError carries a fix');
    return e;
  }
  assert.fail('the config was accepted');
}

test('the sample config parses, with durations in ms, defaults, and per-container health', () => {
  const c = parseConfig(SAMPLE, FILE);
  assert.equal(c.app, 'ragflowauth');
  assert.equal(c.file, FILE);
  assert.equal(c.from, 'test');
  assert.equal(c.to, 'prod');
  assert.deepEqual(Object.keys(c.hosts), ['test', 'prod']);
  assert.equal(c.hosts.prod!.name, 'prod');
  assert.equal(c.hosts.prod!.port, 2222);
  assert.equal(c.hosts.prod!.sudo, true);
  assert.equal(c.hosts.test!.sudo, false);
  assert.equal(c.hosts.prod!.identityFile, '/etc/releaseflow/keys/prod_ed25519');
  assert.equal(c.hosts.test!.stateDir, '/var/lib/releaseflow');
  assert.deepEqual(c.containers, [
    { name: 'ragflowauth-backend', healthUrl: 'http://127.0.0.1:8001/health', healthTimeoutMs: 60_000 },
    { name: 'ragflowauth-frontend', healthUrl: 'http://127.0.0.1:8080/', healthTimeoutMs: 120_000 },
  ]);
  assert.deepEqual(c.health, { url: 'http://127.0.0.1:8001/health', timeoutMs: 60_000, intervalMs: 500 });
  assert.equal(c.logFile, '/etc/releaseflow/logs/releaseflow.log');
  assert.deepEqual(c.secrets, ['RAGFLOW_API_KEY']);
  assert.equal(c.keepReleases, 5);
  assert.equal(c.ssh.connectTimeoutMs, 10_000);
  assert.equal(c.ssh.commandTimeoutMs, 300_000);
});

test('a minimal config gets from: test, to: prod and the default timeouts', () => {
  const c = parseConfig('app: a\nhosts:\n  test: { address: t }\n  prod: { address: p }\ncontainers: [web]\n', FILE);
  assert.equal(c.from, 'test');
  assert.equal(c.to, 'prod');
  assert.equal(c.health.timeoutMs, 60_000);
  assert.equal(c.ssh.connectTimeoutMs, 10_000);
  assert.equal(c.logFile, '/etc/releaseflow/releaseflow.log');
});

test('a YAML syntax error names the file, line and column', () => {
  const e = configError(SAMPLE.replace('  timeout: 60s', '  timeout: [60s'));
  assert.match(e.message, /releaseflow\.yml:\d+:\d+: YAML syntax error/);
});

test('a missing required key is named', () => {
  assert.match(configError(SAMPLE.replace('app: ragflowauth\n', '')).message, /: app: is required/);
  assert.match(configError(SAMPLE.replace(/containers:\n( {2}- .*\n| {4}.*\n)+/, '')).message, /containers: list at least one container \(or a swarm service under services:\)/);
});

test('a value of the wrong type names its key path', () => {
  assert.match(configError(SAMPLE.replace('port: 2222', 'port: twenty')).message, /hosts\.prod\.port: .*expected number/);
  assert.match(configError(SAMPLE.replace('keepReleases: 5', 'keepReleases: [5]')).message, /keepReleases: /);
  assert.match(configError(SAMPLE.replace('sudo: true', 'sudo: "yes please"')).message, /hosts\.prod\.sudo: /);
  const carry = configError(SAMPLE.replace('keepReleases: 5', 'keepReleases: 5\ncarry: [ports:8001]'));
  assert.match(carry.message, /carry\.0: expected env:NAME/);
  assert.match(carry.detail.fix ?? "", /correct carry\.0/);
});

test('an unknown key is named at its own path, with a fix', () => {
  const top = configError(`${SAMPLE}helath: {}\n`);
  assert.match(top.message, /: helath: unknown key/);
  assert.match(top.detail.fix!, /remove helath/);
  assert.match(configError(SAMPLE.replace('    user: deploy\n    port', '    usr: deploy\n    port')).message, /hosts\.prod\.usr: unknown key/);
  assert.match(configError(SAMPLE.replace('  interval: 500ms', '  intervall: 500ms')).message, /health\.intervall: unknown key/);
});

test('from: or to: naming an unknown host says which hosts exist', () => {
  const e = configError(SAMPLE.replace('from: test', 'from: staging'));
  assert.match(e.message, /from: names host 'staging', which is not under hosts \(known: test, prod\)/);
  assert.match(e.detail.fix!, /from:/);
  assert.match(configError(SAMPLE.replace('to: prod', 'to: prdo')).message, /to: names host 'prdo'/);
  assert.match(configError(SAMPLE.replace('to: prod', 'to: test')).message, /to: is the same host as from/);
});

test('host names are own keys only: from: toString, to: constructor, __proto__ are unknown hosts', () => {
  assert.match(configError(SAMPLE.replace('from: test', 'from: toString')).message, /from: names host 'toString', which is not under hosts/);
  assert.match(configError(SAMPLE.replace('to: prod', 'to: constructor')).message, /to: names host 'constructor'/);
  assert.match(configError(SAMPLE.replace('to: prod', 'to: __proto__')).message, /to: names host '__proto__'/);
  // what the CLI and the dashboard look up by name (host=constructor) finds nothing that is not configured
  const hosts = parseConfig(SAMPLE, FILE).hosts;
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) assert.equal(hosts[name], undefined, name);
  assert.deepEqual(Object.keys(hosts), ['test', 'prod']);
});

test('a bad duration names its key path', () => {
  assert.match(configError(SAMPLE.replace('timeout: 60s', 'timeout: soon')).message, /health\.timeout: expected a duration/);
  assert.match(configError(SAMPLE.replace('connectTimeout: 10s', 'connectTimeout: -3')).message, /ssh\.connectTimeout: expected a duration/);
  assert.match(configError(SAMPLE.replace('timeout: 2m', 'timeout: 2 minutes')).message, /containers\.1\.health\.timeout: expected a duration/);
});

test('an address with quotes, $(...), spaces or a leading dash is refused', () => {
  for (const bad of [`"prod'; reboot; '"`, '"$(reboot)"', '"`id`"', '"prod host"', '"-oProxyCommand=x"', '"a\\"b"']) {
    const e = configError(SAMPLE.replace('address: prod.example.com', `address: ${bad}`));
    assert.match(e.message, /hosts\.prod\.address: expected an IP, DNS name/, bad);
  }
});

test('a health URL with quotes or spaces is refused', () => {
  assert.match(configError(SAMPLE.replace('url: http://127.0.0.1:8001/health', `url: "http://x/$(id)"`)).message, /health\.url: expected an http/);
  assert.match(configError(SAMPLE.replace('url: http://127.0.0.1:8001/health', 'url: ftp://x/')).message, /health\.url: /);
});

test('a container listed twice or with a bad name is refused with its index', () => {
  assert.match(configError(SAMPLE.replace('  - ragflowauth-backend', '  - ragflowauth-backend\n  - ragflowauth-backend')).message, /containers\.1: lists 'ragflowauth-backend' twice/);
  assert.match(configError(SAMPLE.replace('  - ragflowauth-backend', '  - "-rm"')).message, /containers\.0/);
});

test('a config that is not a mapping is refused', () => {
  assert.match(configError('- a\n- b\n').message, /expected a mapping/);
});

test('loadConfig reads a file; a missing file is a ConfigError naming where the path came from', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-config-'));
  const file = join(dir, 'releaseflow.yml');
  writeFileSync(file, SAMPLE);
  assert.equal(loadConfig(file).logFile, join(dir, 'logs/releaseflow.log'));
  assert.equal(locateConfig(undefined, {}, dir), file);
  assert.equal(locateConfig(undefined, { RELEASEFLOW_CONFIG: file }, '/'), file);
  assert.throws(() => locateConfig('nope.yml', {}, dir), (e: unknown) => e instanceof ConfigError && /from --config/.test(e.message) && e.exitCode === 2);
  assert.throws(() => locateConfig(undefined, { RELEASEFLOW_CONFIG: '/nope.yml' }, dir), /from RELEASEFLOW_CONFIG/);
});

test('transfer: direct is off by default; directSsh takes an address, port, user and an absolute key path on the target', () => {
  const min = 'app: a\nhosts:\n  test: { address: t }\n  prod: { address: p }\ncontainers: [web]\n';
  assert.deepEqual(parseConfig(min, FILE).transfer, { direct: false, relay: false, directSsh: {} });
  const c = parseConfig(`${min}transfer:\n  direct: true\n  directSsh: { address: 10.0.0.11, port: 2222, user: deploy, identityFile: /root/.ssh/id_rf }\n`, FILE);
  assert.deepEqual(c.transfer, { direct: true, relay: false, directSsh: { address: '10.0.0.11', port: 2222, user: 'deploy', identityFile: '/root/.ssh/id_rf' } });
  // relay alone: one read of the source through this machine; with direct, the hosts pass the image on
  assert.deepEqual(parseConfig(`${min}transfer: { relay: true }\n`, FILE).transfer, { direct: false, relay: true, directSsh: {} });
  assert.match(configError(`${min}transfer:\n  directSsh: { identityFile: keys/id }\n`).message, /transfer\.directSsh\.identityFile: expected an absolute path on the target host/);
  assert.match(configError(`${min}transfer:\n  directSsh: { address: "$(reboot)" }\n`).message, /transfer\.directSsh\.address: /);
  assert.match(configError(`${min}transfer:\n  drect: true\n`).message, /transfer\.drect: unknown key/);
});

/** loadConfig's ConfigError for `file`. */
function loadError(file: string): ConfigError {
  try {
    loadConfig(file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    assert.equal(e.exitCode, 2);
    return e;
  }
  assert.fail(`${file} was accepted`);
}

test('--config of a device, a FIFO, a folder or a huge file is a config error at once (no hang, no read)', { timeout: 10_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-config-'));
  assert.match(loadError('/dev/zero').message, /\/dev\/zero is not a regular file/);
  assert.match(loadError(dir).message, /is not a regular file/);
  const fifo = join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  assert.match(loadError(fifo).message, /is not a regular file/); // opened without waiting for a writer
  const big = join(dir, 'big.yml');
  writeFileSync(big, `app: a\n#${'x'.repeat(1024 * 1024)}\n`);
  assert.match(loadError(big).message, /bytes; a releaseflow config is at most 1048576 bytes/);
  assert.match(loadError(join(dir, 'nope.yml')).message, /cannot read config file .*ENOENT/);
});

test('a YAML alias bomb is a config error (exit 2), not an internal error', () => {
  const levels = 'abcdefghi'.split('');
  const bomb = levels.map((l, i) => `${l}: &${l} [${Array(9).fill(i === 0 ? '"x"' : `*${levels[i - 1]}`).join(', ')}]`).join('\n');
  const e = configError(`${bomb}\n`);
  assert.match(e.message, /not a usable YAML config/);
});

test('a file that is not a config echoes at most one short key of it (--config /etc/shadow)', () => {
  const shadow = Array.from({ length: 30 }, (_, i) => `user${i}:$6$saltsalt$${'h'.repeat(80)}:20228:0:99999:7:::`).join('\n');
  const e = configError(`${shadow}\n`);
  assert.doesNotMatch(e.message, /user\d+/, e.message);
  assert.match(e.message, /\(a key that is no config key\): unknown key/);
  assert.doesNotMatch(e.message, /h{40}/, 'no hash');
  assert.match(e.message, /\(and 29 more unknown keys\)/);
  // a short word-like key (a typo) is still named, once
  const typo = configError(SAMPLE.replace('keepReleases: 5', 'keepReleases: 5\nkeepRelease: 5\nfoo: 1\nbar: 2'));
  assert.match(typo.message, /: keepRelease: unknown key \(and 2 more unknown keys\)/);
  assert.doesNotMatch(typo.message, /foo|bar/);
  assert.ok(e.message.length < 300, e.message);
});


test('to: a list of hosts is a fleet; rollout: canary, batch, pause', () => {
  const c = parseConfig(SAMPLE.replace('to: prod', 'to: [prod, prod2, prod3]').replace(/hosts:\n/, 'hosts:\n  prod2: { address: 10.0.0.22 }\n  prod3: { address: 10.0.0.23 }\n') + 'rollout: { canary: 1, batch: 50%, pause: 30s }\n', FILE);
  assert.equal(c.to, 'prod');
  assert.deepEqual(c.fleet, ['prod', 'prod2', 'prod3']);
  assert.deepEqual(c.rollout, { canary: 1, batch: '50%', pauseMs: 30_000 });
  assert.match(configError(SAMPLE.replace('to: prod', 'to: [prod, prod]')).message, /to\.1: lists 'prod' twice/);
  assert.match(configError(SAMPLE.replace('to: prod', 'to: [prod, test]')).message, /to\.1: is the same host as from/);
  assert.match(configError(SAMPLE.replace('to: prod', 'to: [prod, nowhere]')).message, /to\.1: names host 'nowhere', which is not under hosts/);
  assert.match(configError(`${SAMPLE}rollout: { batch: 0% }\n`).message, /rollout\.batch/);
});

test("a host's own health URLs (a fleet host whose app answers elsewhere): by container, else the container's, else the global one", () => {
  const c = parseConfig(SAMPLE.replace('to: prod', 'to: [prod, prod2]').replace(/hosts:\n/, 'hosts:\n  prod2:\n    address: 10.0.0.22\n    health: { ragflowauth-backend: "http://127.0.0.1:9001/health" }\n'), FILE);
  assert.equal(healthUrlOn(c, 'ragflowauth-backend', 'prod2'), 'http://127.0.0.1:9001/health');
  assert.equal(healthUrlOn(c, 'ragflowauth-backend', 'prod'), 'http://127.0.0.1:8001/health');
  assert.equal(healthUrlOn(c, 'ragflowauth-frontend', 'prod2'), 'http://127.0.0.1:8080/');
  assert.equal(healthUrlOn(c, 'toString', 'prod2'), undefined);
  const bad = configError(SAMPLE.replace(/hosts:\n/, 'hosts:\n  prod2:\n    address: 10.0.0.22\n    health: { ragflowauth-db: "http://x/" }\n'));
  assert.match(bad.message, /hosts\.prod2\.health\.ragflowauth-db: names container 'ragflowauth-db', which is not under containers: \(known: ragflowauth-backend, ragflowauth-frontend\)/);
  assert.match(configError(SAMPLE.replace(/hosts:\n/, 'hosts:\n  prod2:\n    address: 10.0.0.22\n    health: { ragflowauth-backend: "http://x/$(id)" }\n')).message, /hosts\.prod2\.health\.ragflowauth-backend: expected an http/);
});

test('services: swarm services, each from TEST\'s container of its name or container:, as containers: entries with service:', () => {
  const min = 'app: a\nhosts:\n  test: { address: t }\n  prod: { address: p }\nhealth: { url: "http://127.0.0.1:8001/health" }\n';
  const c = parseConfig(`${min}services:\n  - ragflowauth-backend\n  - { name: ragflowauth_frontend, container: ragflowauth-frontend, health: { url: "http://127.0.0.1:8080/", timeout: 20s } }\n`, FILE);
  assert.deepEqual(c.containers, [
    { name: 'ragflowauth-backend', service: 'ragflowauth-backend', healthUrl: 'http://127.0.0.1:8001/health', healthTimeoutMs: 60_000 },
    { name: 'ragflowauth-frontend', service: 'ragflowauth_frontend', healthUrl: 'http://127.0.0.1:8080/', healthTimeoutMs: 20_000 },
  ]);
  // with containers: too, both are released as one
  assert.deepEqual(parseConfig(`${min}containers: [db]\nservices: [web]\n`, FILE).containers.map((x) => `${x.name}:${x.service ?? '-'}`), ['db:-', 'web:web']);
  assert.match(configError(`${min}containers: [web]\nservices: [web]\n`).message, /services\.0: takes container 'web', which is also under containers: \(list it once\)/);
  assert.match(configError(`${min}services: [a_web, { name: b_web, container: a_web }]\n`).message, /services\.1: takes container 'a_web' twice/);
  assert.match(configError(`${min}services: ["$(reboot)"]\n`).message, /services\.0: expected a swarm service name/);
  assert.match(configError(`${min}services: [{ name: web, image: x }]\n`).message, /services\.0.*image/);
});
