// Bootstrap planning (pure): a container PROD lacks, built from TEST's inspect (captured from the lab) with PROD's overrides.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildRemoveCreatedScript, CREATED_BY, parsePublish, planBootstrapSpec } from '../../src/core/bootstrap.ts';
import { parseBootstrapObserveOutput } from '../../src/core/bootstrap-observe.ts';
import { parseConfig } from '../../src/core/config.ts';
import { type CreateOverrides, overridesFor } from '../../src/core/config-create.ts';
import { ConfigError, ReleaseflowError } from '../../src/core/errors.ts';
import type { ContainerInput, PromotionInput } from '../../src/core/plan.ts';
import { buildUndoScript, planUndoSteps } from '../../src/core/rollback-plan.ts';
import type { Plan } from '../../src/core/step.ts';
import { planRelease } from '../../src/targets/plan.ts';
import { runTarget } from '../../src/targets/run/index.ts';
import { bootstrapContainer } from '../../src/workflows/rebuild.ts';
import { fixture } from './fixtures.ts';

const testBackend = fixture('test-backend-v2.inspect.json');
const imgV2 = fixture('image-backend-v2.inspect.json');
// the lab's ragflowauth-net, as docker network inspect shows it
const labNet = fixture('prod-network.inspect.json');
// buildBootstrapObserveScript's output on the lab's prod (an env file with a comment, an indented and a pass-through name; one missing)
const observed = parseBootstrapObserveOutput(readFileSync(new URL('../fixtures/bootstrap-observe.prod.txt', import.meta.url), 'utf8'));
const TEST_SECRETS = ['test-Pa55-test', 'test-secret-value'];

const overrides = (o: Partial<CreateOverrides> = {}): CreateOverrides => ({
  env: { GREETING: `prod's "hi" $(id) \`x\``, EXTRA_SECRET_NAME: 'prod-extra' },
  envFile: '/opt/ragflowauth/prod.env',
  ports: ['8002:8001'],
  binds: { '/opt/ragflowauth/conf': '/opt/ragflowauth/prod-conf' },
  networks: { 'ragflowauth-net': 'rf-prod-net' },
  ...o,
});
const facts = { targetNetworks: ['bridge', 'host', 'none'], targetVolumes: [] as string[], sourceNetworks: new Map([['ragflowauth-net', labNet]]), envFileNames: observed.envFiles.get('/opt/ragflowauth/prod.env') };
const opts = { image: 'ragflowauth-backend:v2', releaseId: '20261206T071519Z', host: 'prod', secrets: ['EXTRA_SECRET_NAME'] };
const spec = (o = overrides(), f = facts) => planBootstrapSpec({ name: 'ragflowauth-backend', source: testBackend, sourceImage: imgV2 }, o, f, opts);

test('the observe output from the lab: networks, volumes, an env file by its names only, an unreadable one', () => {
  assert.deepEqual(observed.networks, ['bridge', 'host', 'none', 'ragflowauth-net']);
  assert.deepEqual(observed.volumes, ['ragflowauth-data']);
  assert.deepEqual(observed.envFiles.get('/opt/ragflowauth/prod.env'), ['DB_PASSWORD', 'API_TOKEN', 'PASSTHROUGH']);
  assert.equal(observed.envFiles.has('/opt/ragflowauth/missing.env'), true);
  assert.equal(observed.envFiles.get('/opt/ragflowauth/missing.env'), undefined);
});

test("TEST's settings with PROD's overrides: env, port, bind, network; TEST's secret values nowhere", () => {
  const b = spec();
  // GREETING from create.env; DB_PASSWORD left to PROD's env file; EXTRA_SECRET_NAME from create.env; TEST's secrets dropped
  // (APP_VERSION and PATH are the image's own: the new image's apply)
  assert.deepEqual(b.spec.env, [`GREETING=prod's "hi" $(id) \`x\``, 'EXTRA_SECRET_NAME=prod-extra']);
  assert.deepEqual(b.spec.publish, [{ containerPort: '8001/tcp', hostIp: '', hostPort: '8002' }]);
  assert.deepEqual(b.spec.binds, ['ragflowauth-data:/data', '/opt/ragflowauth/prod-conf:/app/conf:ro']);
  assert.deepEqual(b.spec.networks.map((n) => [n.name, n.aliases]), [['rf-prod-net', ['backend']]]);
  assert.deepEqual(b.secrets, [
    { name: 'DB_PASSWORD', from: 'create.envFile' },
    { name: 'EXTRA_SECRET_NAME', from: 'create.env' },
  ]);
  // a setting PROD does not override is TEST's
  assert.deepEqual(spec(overrides({ env: { EXTRA_SECRET_NAME: 'p' } })).spec.env, [`GREETING=hello "world" $HOME it's`, 'EXTRA_SECRET_NAME=p']);
  const all = JSON.stringify(b);
  for (const s of TEST_SECRETS) assert.ok(!all.includes(s), `TEST's secret ${s} must not reach PROD's spec`);
});

test('networks and named volumes PROD lacks are created first, labelled with the release, idempotently', () => {
  const b = spec();
  assert.deepEqual(b.networks, [{ name: 'rf-prod-net', script: `docker network inspect rf-prod-net >/dev/null 2>&1 || docker network create --label ${CREATED_BY}=20261206T071519Z rf-prod-net >/dev/null` }]);
  assert.deepEqual(b.volumes, [{ name: 'ragflowauth-data', script: `docker volume inspect ragflowauth-data >/dev/null 2>&1 || docker volume create --label ${CREATED_BY}=20261206T071519Z ragflowauth-data >/dev/null` }]);
  // PROD has them: nothing to create
  const has = spec(overrides(), { ...facts, targetNetworks: [...facts.targetNetworks, 'rf-prod-net'], targetVolumes: ['ragflowauth-data'] });
  assert.deepEqual([has.networks, has.volumes], [[], []]);
  // without a network override TEST's name is used
  assert.deepEqual(spec(overrides({ networks: {} })).networks.map((n) => n.name), ['ragflowauth-net']);
});

test('a secret of TEST without a value for PROD is refused (exit 2), naming each and the fix', () => {
  const noFile = { ...facts, envFileNames: undefined };
  assert.throws(
    () => spec(overrides({ env: {}, envFile: undefined }), noFile),
    (e: unknown) =>
      e instanceof ReleaseflowError && e.exitCode === 2 && /secret env DB_PASSWORD, EXTRA_SECRET_NAME of the source is never copied/.test(e.message) && /create: env:/.test(e.detail.fix ?? '') && /envFile/.test(e.detail.fix ?? ''),
  );
  // one left without a value is still refused
  assert.throws(() => spec(overrides({ envFile: undefined }), noFile), /secret env DB_PASSWORD of the source/);
});

test('the docker create argv: our env file (values never in argv), then PROD\'s own env file', () => {
  const b = spec();
  const rb = bootstrapContainer('ragflowauth-backend', b.spec, 'ragflowauth-backend:v2', '/var/lib/releaseflow/ragflowauth/releases/R/ragflowauth-backend.env', ['EXTRA_SECRET_NAME'], undefined, '/opt/ragflowauth/prod.env');
  const i = rb.argv.indexOf('--env-file');
  assert.deepEqual(rb.argv.slice(i, i + 4), ['--env-file', '/var/lib/releaseflow/ragflowauth/releases/R/ragflowauth-backend.env', '--env-file', '/opt/ragflowauth/prod.env']);
  assert.ok(!rb.argv.some((a) => a.includes('prod-extra') || a.includes('$(id)')), 'env values go through the env file');
  assert.ok(rb.env.includes('EXTRA_SECRET_NAME=prod-extra'));
  assert.match(rb.runCommand, /-e 'EXTRA_SECRET_NAME=\*{8}'/);
  assert.match(rb.runCommand, /--publish 8002:8001/);
});

test('-p values: host port, host IP, IPv6, a range, udp', () => {
  assert.deepEqual(parsePublish('8002:8001'), { containerPort: '8001/tcp', hostIp: '', hostPort: '8002' });
  assert.deepEqual(parsePublish('127.0.0.1:80:8080/tcp'), { containerPort: '8080/tcp', hostIp: '127.0.0.1', hostPort: '80' });
  assert.deepEqual(parsePublish('[::1]:80:80'), { containerPort: '80/tcp', hostIp: '::1', hostPort: '80' });
  assert.deepEqual(parsePublish('7000-7002:7000-7002/udp'), { containerPort: '7000-7002/udp', hostIp: '', hostPort: '7000-7002' });
  assert.deepEqual(parsePublish('9000'), { containerPort: '9000/tcp', hostIp: '', hostPort: '' });
});

const releaseInput = (create?: ContainerInput['create']): PromotionInput => ({
  app: 'ragflowauth',
  releaseId: '20261206T071519Z',
  stateDir: '/var/lib/releaseflow',
  from: { name: 'test', address: '10.213.66.11' },
  to: { name: 'prod', address: '10.213.66.12' },
  containers: [{ name: 'ragflowauth-backend', healthUrl: 'http://127.0.0.1:8002/health', healthTimeoutMs: 30_000, source: testBackend, sourceImage: imgV2, targetMode: 'run', targetHasSourceImage: false, ...(create ? { create } : {}) }],
  intervalMs: 1000,
  rebuild: () => {
    throw new Error('a created container is not rebuilt from a target inspect');
  },
});
const planOf = (i: PromotionInput) => planRelease(i, [{ target: runTarget, observed: { facts: undefined, header: [], warnings: [] } }]);
const created = () => {
  const b = spec();
  return { networks: b.networks, volumes: b.volumes, notes: ['env DB_PASSWORD: secret'], rebuild: (envFile: string) => bootstrapContainer('ragflowauth-backend', b.spec, 'ragflowauth-backend:v2', envFile, [], undefined, '/opt/ragflowauth/prod.env') };
};

test('without --create a container PROD lacks is refused (exit 2); the fix names --create and create:', () => {
  assert.throws(
    () => planOf(releaseInput()),
    (e: unknown) => e instanceof ReleaseflowError && e.exitCode === 2 && /not found on prod/.test(e.message) && /promote --create/.test(e.detail.fix ?? '') && /create: true/.test(e.detail.fix ?? ''),
  );
});

test('the plan of a bootstrap: a CREATE line, no snapshot of a container or previous tag, the create step in order', () => {
  const plan = planOf(releaseInput(created()));
  assert.match(plan.header.join('\n'), /container ragflowauth-backend: mode=run prod has no ragflowauth-backend: CREATE it from test's inspect with ragflowauth-backend:v2 \(280232770c68\), creating network rf-prod-net, volume ragflowauth-data first; rollback removes it and those networks \(once empty\), keeps volumes/);
  assert.deepEqual(plan.steps.map((s) => s.name), ['snapshot', 'transfer ragflowauth-backend:v2', 'tag images', 'create ragflowauth-backend', 'health ragflowauth-backend']);
  const tag = plan.steps[2]!;
  assert.ok(tag.kind === 'exec');
  assert.deepEqual(tag.commands.map((c) => c.argv?.join(' ')), [`docker tag ${testBackend.Image} ragflowauth-backend:v2`]);
  const step = plan.steps[3]!;
  assert.ok(step.kind === 'exec');
  assert.equal(step.act, 'create');
  const lines = step.commands.map((c) => c.argv?.join(' ') ?? c.script ?? '');
  assert.match(lines[0]!, /docker network create .* rf-prod-net/);
  assert.match(lines[1]!, /docker volume create .* ragflowauth-data/);
  assert.match(lines[3]!, /^docker create --name ragflowauth-backend /);
  assert.equal(lines.at(-1), 'docker start ragflowauth-backend');
  assert.deepEqual(plan.containers[0]!.created, { networks: ['rf-prod-net'], volumes: ['ragflowauth-data'] });
  assert.equal(plan.containers[0]!.changes, true);
});

test("a failed bootstrap's undo removes the container and the networks it created once empty; no health check, volumes untouched", () => {
  const plan: Plan = planOf(releaseInput(created()));
  const undo = runTarget.undo(undefined, { plan, containers: plan.containers, before: new Map([['ragflowauth-backend', undefined]]), intervalMs: 1000 });
  assert.deepEqual(undo.targets.map((t) => [t.name, t.created]), [['ragflowauth-backend', { releaseId: '20261206T071519Z', networks: ['rf-prod-net'] }]]);
  assert.deepEqual(undo.steps.map((s) => s.name), ['rollback: remove ragflowauth-backend']);
  const script = buildUndoScript(undo.targets[0]!);
  assert.equal(script, buildRemoveCreatedScript('ragflowauth-backend', ['rf-prod-net'], '20261206T071519Z'));
  assert.match(script, /if docker container inspect ragflowauth-backend >\/dev\/null 2>&1; then docker rm -f ragflowauth-backend >\/dev\/null; fi/);
  assert.match(script, /= '20261206T071519Z 0' \]; then docker network rm rf-prod-net/);
  assert.ok(!/volume/.test(script.replace(/volumes kept/, '')), 'the undo never touches a volume');
  assert.equal(planUndoSteps('prod', undo.targets, 1000, 'x').filter((s) => s.kind === 'health').length, 0);
});

test('config: create: true, create: { … } and a bad port (its key path named, exit 2)', () => {
  const base = (containers: string) => `app: a\nhosts:\n  test: { address: t }\n  prod: { address: p }\ncontainers:\n${containers}\n`;
  const c = parseConfig(
    base(`  - name: web\n    create: true\n  - name: api\n    create:\n      env: { A: "it's \\"x\\" $(id)", N: 5 }\n      envFile: /etc/api.env\n      ports: ["127.0.0.1:8002:8001"]\n      binds: { /srv/t: /srv/p }\n      networks: { tnet: pnet }\n  - db`),
    '/x/releaseflow.yml',
  );
  // overrides alone wait for --create; create: true and auto: true create without it
  assert.deepEqual(c.containers.map((x) => [x.name, x.createAllowed]), [['web', true], ['api', false], ['db', undefined]]);
  assert.equal(parseConfig(base('  - name: api\n    create: { auto: true, ports: [] }'), '/x/r.yml').containers[0]!.createAllowed, true);
  assert.deepEqual(c.containers[1]!.create, { env: { A: `it's "x" $(id)`, N: '5' }, envFile: '/etc/api.env', ports: ['127.0.0.1:8002:8001'], binds: { '/srv/t': '/srv/p' }, networks: { tnet: 'pnet' }, hosts: {} });
  assert.throws(() => parseConfig(base('  - name: api\n    create: { ports: ["80:80:80:80"] }'), '/x/r.yml'), (e: unknown) => e instanceof ConfigError && e.exitCode === 2 && /containers\.0\.create\.ports\.0: expected a docker -p value/.test(e.message));
  assert.throws(() => parseConfig(base('  - name: api\n    create: { envFile: relative.env }'), '/x/r.yml'), /containers\.0\.create\.envFile: expected an absolute path on the target host/);
  assert.throws(() => parseConfig(base('  - name: api\n    create: { enw: {} }'), '/x/r.yml'), /containers\.0\.create\.enw: unknown key/);
});

test('the migrate hook does not run for a container the release creates (a warning says so); ports: [] publishes none', () => {
  const plan = planOf({ ...releaseInput(created()), migrate: { container: 'ragflowauth-backend', command: 'migrate', build: () => assert.fail('no one-off from a container PROD lacks') } });
  assert.ok(!plan.steps.some((s) => s.act === 'migrate'));
  assert.match(plan.warnings.join('\n'), /hooks\.migrate: ragflowauth-backend is created by this release \(bootstrap\), so the migration does not run/);
  assert.deepEqual(spec(overrides({ ports: [] })).spec.publish, []);
});

test('per-host overrides (a fleet): create.hosts.<name> merged over the shared ones; an unknown host is a config error', () => {
  const text = `app: a
hosts:
  test: { address: t }
  prod1: { address: p1 }
  prod2: { address: p2 }
to: [prod1, prod2]
containers:
  - name: api
    create:
      env: { A: shared, B: shared }
      ports: ["8001:8001"]
      networks: { tnet: pnet }
      hosts:
        prod2: { env: { B: two }, envFile: /etc/two.env, ports: ["9001:8001"] }
`;
  const c = parseConfig(text, '/x/r.yml').containers[0]!.create;
  assert.deepEqual(overridesFor(c, 'prod1'), { env: { A: 'shared', B: 'shared' }, ports: ['8001:8001'], binds: {}, networks: { tnet: 'pnet' } });
  assert.deepEqual(overridesFor(c, 'prod2'), { env: { A: 'shared', B: 'two' }, envFile: '/etc/two.env', ports: ['9001:8001'], binds: {}, networks: { tnet: 'pnet' } });
  assert.throws(() => parseConfig(text.replace('prod2: { env', 'prod3: { env'), '/x/r.yml'), /containers\.0\.create\.hosts\.prod3: names host 'prod3', which is not under hosts/);
});

test('the undo script in a real sh: removes the container if there, the network only when this release labelled it and nothing is on it', () => {
  const shell = ['/bin/dash', '/bin/sh'].find((s) => existsSync(s))!;
  // docker stubbed: inspect answers from the environment, every change is logged on stderr (the script sends stdout to /dev/null)
  const stub = `docker() { case "$1 $2" in "container inspect") [ -n "$HAS" ];; "network inspect") [ -n "$LABEL" ] && echo "$LABEL $COUNT";; *) echo "ran: $*" >&2;; esac; }`;
  const run = (env: Record<string, string>) => spawnSync(shell, ['-c', `${stub}\n${buildRemoveCreatedScript('ragflowauth-backend', ['rf-prod-net'], '20261206T071519Z')}`], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  const ran = (env: Record<string, string>) => {
    const r = run(env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ragflowauth-backend removed \(release 20261206T071519Z created it\); its volumes kept/);
    return r.stderr.split('\n').filter((l) => l.startsWith('ran: '));
  };
  assert.deepEqual(ran({ HAS: '1', LABEL: '20261206T071519Z', COUNT: '0' }), ['ran: rm -f ragflowauth-backend', 'ran: network rm rf-prod-net']);
  assert.deepEqual(ran({ HAS: '', LABEL: '20261206T071519Z', COUNT: '0' }), ['ran: network rm rf-prod-net'], 'nothing to remove: still exit 0');
  assert.deepEqual(ran({ HAS: '', LABEL: '20261206T071519Z', COUNT: '1' }), [], 'a container is on it: kept');
  assert.deepEqual(ran({ HAS: '', LABEL: '20261101T000000Z', COUNT: '0' }), [], "another release's network: kept");
  assert.deepEqual(ran({ HAS: '', LABEL: '', COUNT: '' }), [], 'the network is gone: nothing to do');
});
