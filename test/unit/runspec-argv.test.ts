import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ReleaseflowError } from '../../src/core/errors.ts';
import { parseImageInspect, parseInspect } from '../../src/core/inspect.ts';
import { fitsEnvFile, renderEnvFile, renderRunCommand, runSpecToArgv, toRunSpec } from '../../src/core/runspec.ts';
import { shQuote } from '../../src/core/quote.ts';
import { portSpecs } from '../../src/core/runspec-network.ts';
import { csvRecord, dockerBytes, dockerCpus, dockerDuration } from '../../src/core/runspec-util.ts';

const dir = new URL('../fixtures/', import.meta.url);
const raw = (name: string): any => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
const images = readdirSync(dir)
  .filter((f) => /^(image|spec-image)-.*\.inspect\.json$/.test(f))
  .map((f) => parseImageInspect(raw(f)));
function specOf(file: string) {
  const facts = parseInspect(raw(file.endsWith('.json') ? file : `spec-${file}.inspect.json`));
  return toRunSpec(facts, images.find((i) => i.Id === facts.Image)!, { daemon: { Name: 'test', CgroupVersion: '1' } }).spec;
}

test('PROD backend: create argv with an env file; the env goes to the file', () => {
  const spec = specOf('prod-backend-v1.inspect.json');
  const r = runSpecToArgv(spec, { mode: 'create', name: 'ragflowauth-backend', image: 'ragflowauth-backend:v2', envFile: '/var/lib/releaseflow/app/backend.env' });
  assert.deepEqual(r.argv, [
    'docker', 'create', '--name', 'ragflowauth-backend', '--hostname', 'ragflow-backend', '--env-file', '/var/lib/releaseflow/app/backend.env',
    '--label', 'note=a b', '--label', 'team=auth', '--publish', '8001:8001', '--network', 'ragflowauth-net', '--network-alias', 'backend',
    '--volume', 'ragflowauth-data:/data', '--volume', '/opt/ragflowauth/conf:/app/conf:ro', '--restart', 'unless-stopped', '--memory', '256m',
    '--log-opt', 'max-size=10m', 'ragflowauth-backend:v2',
  ]);
  assert.deepEqual(r.env, ['GREETING=hello "world" $HOME it\'s', 'DB_PASSWORD=s3cr3t-Pa55', 'EXTRA_SECRET_NAME=another-secret-value']);
  assert.deepEqual(r.extraNetworks, []);
  assert.equal(renderEnvFile(r.env), 'GREETING=hello "world" $HOME it\'s\nDB_PASSWORD=s3cr3t-Pa55\nEXTRA_SECRET_NAME=another-secret-value\n');
});

test('PROD backend: the readable docker run command, secrets masked, one option per line', () => {
  const spec = specOf('prod-backend-v1.inspect.json');
  const text = renderRunCommand(spec, { name: 'ragflowauth-backend', image: 'ragflowauth-backend:v2', secrets: ['EXTRA_SECRET_NAME'], reveal: false });
  assert.equal(
    text,
    `docker run -d \\
  --name ragflowauth-backend \\
  --hostname ragflow-backend \\
  -e 'GREETING=hello "world" $HOME it'\\''s' \\
  -e 'DB_PASSWORD=********' \\
  -e 'EXTRA_SECRET_NAME=********' \\
  --label 'note=a b' \\
  --label team=auth \\
  --publish 8001:8001 \\
  --network ragflowauth-net \\
  --network-alias backend \\
  --volume ragflowauth-data:/data \\
  --volume /opt/ragflowauth/conf:/app/conf:ro \\
  --restart unless-stopped \\
  --memory 256m \\
  --log-opt max-size=10m \\
  ragflowauth-backend:v2`,
  );
  const shown = renderRunCommand(spec, { name: 'b', image: 'i', secrets: [], reveal: true });
  assert.ok(shown.includes('DB_PASSWORD=s3cr3t-Pa55') && shown.includes('EXTRA_SECRET_NAME=another-secret-value'));
  assert.ok(renderRunCommand(spec, { name: 'b', image: 'i', secrets: [], reveal: false }).includes('EXTRA_SECRET_NAME=********'), 'built-in SECRET pattern');
});

test('env file: values with a newline or a trailing CR, and pass-through names, stay in argv as -e', () => {
  const spec = specOf('env-file-newline');
  const r = runSpecToArgv(spec, { mode: 'create', name: 'x', image: 'i', envFile: '/e' });
  assert.deepEqual(r.env, ['SPACED= lead and trail ', 'DB_PASSWORD=p@ss w0rd', spec.env[2]]);
  assert.deepEqual(r.argv.slice(4, 9), ['--env-file', '/e', '-e', 'ML=line1\nline2\n', '-e']);
  assert.equal(r.argv[9], 'CR=ends\r');
  assert.deepEqual([fitsEnvFile('K'), fitsEnvFile('#K=1'), fitsEnvFile('K K=1'), fitsEnvFile('K=a\tb')], [false, false, false, true]);
  assert.throws(() => renderEnvFile(['A=1\n2']), /cannot be written to an env file/);
  const dup = runSpecToArgv({ ...spec, env: ['K=a\nb', 'K=1', 'L=2'] }, { mode: 'create', name: 'x', image: 'i', envFile: '/e' });
  assert.deepEqual([dup.env, dup.argv.slice(4, 10)], [['L=2'], ['--env-file', '/e', '-e', 'K=a\nb', '-e', 'K=1']], 'all of K stays in argv, in order');
  assert.equal(renderEnvFile([]), '');
});

test('duplicate env keys (env-file lines plus -e of the same name): every entry kept, each key in its order', () => {
  // what docker makes of it: the --env-file lines first, then each -e, nothing merged
  const configEnv = (r: { argv: string[]; env: string[] }) => [...r.env, ...r.argv.flatMap((a, i) => (r.argv[i - 1] === '-e' ? [a] : []))];
  const byKey = (env: readonly string[]) => {
    const m = new Map<string, string[]>();
    for (const e of env) m.set(e.split('=')[0]!, [...(m.get(e.split('=')[0]!) ?? []), e]);
    return [...m.entries()].sort();
  };
  const base = specOf('env-file-newline');
  for (const env of [
    ['K=1', 'K=2', 'L=x=y=z', 'K=3'],
    ['K=1', 'ML=a\nb', 'K=2', 'DB_PASSWORD=one', 'DB_PASSWORD=two'],
    ['K=1', 'K=a\nb', 'K=3', 'L=1', 'L=1'],
    [...base.env, 'SPACED=again', 'ML=again'],
  ]) {
    const spec = { ...base, env };
    const r = runSpecToArgv(spec, { mode: 'create', name: 'x', image: 'i', envFile: '/e' });
    assert.equal(configEnv(r).length, env.length, 'no entry dropped');
    assert.deepEqual(byKey(configEnv(r)), byKey(env), 'each key keeps all its values, in order');
    // run-command prints every entry, in order
    const shown = renderRunCommand(spec, { name: 'x', image: 'i', secrets: [], reveal: true });
    let at = 0;
    for (const e of env) {
      at = shown.indexOf(`-e ${shQuote(e)}`, at);
      assert.ok(at >= 0, `run-command shows ${JSON.stringify(e)} in its place`);
      at += 1;
    }
  }
});

test('several networks: API < 1.44 creates with the first and connects the rest; API ≥ 1.44 uses one create', () => {
  const spec = specOf('multi-net');
  const old = runSpecToArgv(spec, { mode: 'create', name: 'x', image: 'i', apiVersion: '1.41' });
  assert.deepEqual(old.argv.slice(4, -3), ['--network', 'rt-net1', '--network-alias', 'a1', '--ip', '172.30.0.60', '--link', 'rt-peer:pp']);
  assert.deepEqual(old.extraNetworks, [{ name: 'rt-net2', aliases: ['b1', 'b2'], ipv4: '172.30.1.61', ipv6: 'fd00:30::61' }]);
  const neu = runSpecToArgv(spec, { mode: 'create', name: 'x', image: 'i', apiVersion: '1.47' });
  assert.deepEqual(neu.argv.slice(4, -3), ['--network', 'name=rt-net1,alias=a1,ip=172.30.0.60', '--network', 'name=rt-net2,alias=b1,alias=b2,ip=172.30.1.61,ip6=fd00:30::61', '--link', 'rt-peer:pp']);
  assert.deepEqual(neu.extraNetworks, []);
  const text = renderRunCommand(spec, { name: 'x', image: 'i', secrets: [], reveal: false });
  assert.match(text, /\ndocker network connect --alias b1 --alias b2 --ip 172\.30\.1\.61 --ip6 fd00:30::61 rt-net2 x$/);
});

test('--mount, --network and --gpus values are CSV-quoted', () => {
  const m = runSpecToArgv(specOf('mount-csv'), { mode: 'create', name: 'x', image: 'i' }).argv.filter((_, i, a) => a[i - 1] === '--mount');
  assert.deepEqual(m, [
    'type=bind,"source=/srv/rt a,b",target=/m1,readonly',
    'type=bind,source=/srv/rt-ro,target=/m2,bind-nonrecursive=true',
    'type=volume,source=rt-vopt,target=/m3,volume-nocopy,volume-label=a=b,volume-label=c=d e,volume-driver=local,volume-opt=device=tmpfs,"volume-opt=o=size=10m,uid=1000",volume-opt=type=tmpfs',
  ]);
  const g = runSpecToArgv(specOf('gpus'), { mode: 'create', name: 'x', image: 'i' }).argv.filter((_, i, a) => a[i - 1] === '--gpus');
  assert.deepEqual(g, ['"device=0,1"', 'count=all,"capabilities=compute,utility"']);
  const n = runSpecToArgv(specOf('user-net-link-driveropt'), { mode: 'create', name: 'x', image: 'i' }).argv;
  assert.ok(n.includes('name=rt-net1,driver-opt=com.example.opt=1'));
  assert.equal(csvRecord(['a', 'b,c', 'd"e', ' f']), 'a,"b,c","d""e"," f"');
});

test('--entrypoint "" and a seccomp profile that needs a file', () => {
  const reset = runSpecToArgv(specOf('entrypoint-reset'), { mode: 'run', name: 'x', image: 'i' }).argv;
  assert.deepEqual(reset, ['docker', 'run', '--detach', '--name', 'x', '--entrypoint', '', 'i', 'sleep', '3600']);
  assert.match(renderRunCommand(specOf('entrypoint-reset'), { name: 'x', image: 'i', secrets: [], reveal: false }), /--entrypoint '' \\/);
  const sec = specOf('systempaths-seccomp');
  assert.throws(() => runSpecToArgv(sec, { mode: 'create', name: 'x', image: 'i' }), (e: unknown) => e instanceof ReleaseflowError && /seccompFile/.test(e.detail.fix ?? ''));
  assert.ok(runSpecToArgv(sec, { mode: 'create', name: 'x', image: 'i', seccompFile: '/p.json' }).argv.includes('seccomp=/p.json'));
});

test('the rendered command runs through sh to exactly the argv (quoting round trip)', () => {
  for (const f of ['everything-web', 'env-file-newline', 'labels', 'log-json-opts', 'entrypoint-user-workdir', 'mount-csv', 'health-full', 'multi-net']) {
    const spec = specOf(f);
    const text = renderRunCommand(spec, { name: 'x y', image: 'img:1', secrets: [], reveal: true });
    const out = execFileSync('sh', ['-c', `docker() { for a in "$@"; do printf '%s\\0' "$a"; done; printf '\\1\\0'; }\n${text}`], { encoding: 'utf8' });
    const calls = out.split('\u0001\u0000').filter(Boolean).map((c) => c.split('\u0000').slice(0, -1));
    const r = runSpecToArgv(spec, { mode: 'run', name: 'x y', image: 'img:1' });
    assert.deepEqual(calls[0], ['run', '-d', ...r.argv.slice(3)], f);
    assert.equal(calls.length, 1 + r.extraNetworks.length, f);
  }
});

test('everything-web: secrets masked by pattern and by the secrets list', () => {
  const text = renderRunCommand(specOf('everything-web'), { name: 'web', image: 'rt-img:2', secrets: ['ML'], reveal: false });
  assert.ok(text.includes(`-e 'ML=********'`) && text.includes(`-e 'DB_PASSWORD=********'`) && text.includes(`-e 'API_TOKEN=********'`));
  assert.ok(!text.includes('t$k') && !text.includes('x y'));
  assert.ok(text.split('\n').every((l, i, a) => i === a.length - 1 || l.endsWith(' \\')));
});

test('units: bytes, durations, cpus, ports', () => {
  assert.deepEqual([dockerBytes(268435456), dockerBytes(1073741824), dockerBytes(1536 * 1024), dockerBytes(1000)], ['256m', '1g', '1536k', '1000']);
  assert.deepEqual([dockerDuration(30e9), dockerDuration(90e9), dockerDuration(120e9), dockerDuration(1.5e9), dockerDuration(7)], ['30s', '90s', '2m', '1500ms', '7ns']);
  assert.deepEqual([dockerCpus(1.5e9), dockerCpus(2e9), dockerCpus(1e6)], ['1.5', '2', '0.001']);
  const p = portSpecs({
    '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '::1', HostPort: '' }],
    '81/tcp': [{ HostIp: '', HostPort: '8081' }],
    '82/tcp': [{ HostIp: '', HostPort: '8082' }],
    '83/tcp': [{ HostIp: '', HostPort: '9000' }],
    '53/udp': null,
  });
  assert.deepEqual(p.map((x) => [x.containerPort, x.hostIp, x.hostPort]), [
    ['80/tcp', '', '8080'], ['80/tcp', '::1', ''], ['81-82/tcp', '', '8081-8082'], ['83/tcp', '', '9000'], ['53/udp', '', ''],
  ]);
});
