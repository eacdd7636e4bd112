import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ComposeCli } from '../../src/core/compose.ts';
import { composePart, composeTarget, observed } from '../../src/targets/compose/index.ts';
import { type ComposeObservation, type ComposeProjectTarget, planComposeRestoreSteps } from '../../src/targets/compose/plan.ts';
import { planRelease } from '../../src/targets/plan.ts';
import { runTarget } from '../../src/targets/run/index.ts';
import type { ContainerInput, PromotionInput } from '../../src/core/plan.ts';
import { renderPlan } from '../../src/core/render-plan.ts';
import { rebuildContainer } from '../../src/workflows/rebuild.ts';
import { fixture } from './fixtures.ts';

/** The release plan with the run and compose targets, compose having observed `obs`. */
const planWithCompose = (i: PromotionInput, obs: ComposeObservation) =>
  planRelease(i, [
    { target: runTarget, observed: { facts: undefined, header: [], warnings: [] } },
    { target: composeTarget, observed: observed(obs) },
  ]);

const V2: ComposeCli = { flavor: 'v2', argv: ['docker', 'compose'], version: '2.26.1-4' };

/** A PROD container as compose v2 would have created it: the fixture plus compose labels. */
function composed(name: string, service: string) {
  const c = structuredClone(fixture(`prod-${name}-v1.inspect.json`));
  Object.assign(c.Config.Labels, {
    'com.docker.compose.project': 'ragflowauth',
    'com.docker.compose.project.config_files': '/opt/ragflowauth/docker-compose.yml',
    'com.docker.compose.project.working_dir': '/opt/ragflowauth',
    'com.docker.compose.service': service,
    'com.docker.compose.version': '2.26.1',
  });
  return c;
}

const project: ComposeProjectTarget = {
  project: 'ragflowauth',
  workingDir: '/opt/ragflowauth',
  configFiles: ['/opt/ragflowauth/docker-compose.yml'],
  composePath: '/opt/ragflowauth/docker-compose.yml',
  envPath: '/opt/ragflowauth/.env',
  overridePath: '/opt/ragflowauth/docker-compose.releaseflow.yml',
  cli: V2,
  pin: 'env',
  composeFile: 'docker-compose.yml:docker-compose.releaseflow.yml',
};

function container(name: 'backend' | 'frontend', mode: 'compose' | 'run', over: Partial<ContainerInput> = {}): ContainerInput {
  return {
    name: `ragflowauth-${name}`,
    healthUrl: name === 'backend' ? 'http://127.0.0.1:8001/health' : 'http://127.0.0.1:8080/',
    healthTimeoutMs: 30_000,
    source: fixture(`test-${name}-v2.inspect.json`),
    sourceImage: name === 'backend' ? fixture('image-backend-v2.inspect.json') : { Id: fixture('test-frontend-v2.inspect.json').Image, Config: { Healthcheck: { Test: ['CMD-SHELL', 'wget'] } } },
    target: mode === 'compose' ? composed(name, name) : fixture(`prod-${name}-v1.inspect.json`),
    targetImage: fixture(`image-${name}-v1.inspect.json`),
    targetMode: mode,
    targetHasSourceImage: false,
    ...over,
  };
}

function input(containers: ContainerInput[]): PromotionInput {
  return {
    app: 'ragflowauth',
    releaseId: '20261128T150102Z',
    stateDir: '/var/lib/releaseflow',
    from: { name: 'test', address: '10.213.7.11' },
    to: { name: 'prod', address: '10.213.7.12' },
    containers,
    intervalMs: 1000,
    rebuild: (c, image, envFile) => rebuildContainer(c, image, envFile, ['EXTRA_SECRET_NAME']),
  };
}

function observation(names: string[], extra: Partial<ComposeObservation> = {}): ComposeObservation {
  return {
    targets: new Map(names.map((n) => [`ragflowauth-${n}`, { service: n, project }])),
    warnings: [],
    header: ['compose_path: /opt/ragflowauth/docker-compose.yml (project ragflowauth, working_dir /opt/ragflowauth)', 'env_path: /opt/ragflowauth/.env'],
    ...extra,
  };
}

const commands = (plan: ReturnType<typeof planWithCompose>, name: string) => {
  const s = plan.steps.find((x) => x.name === name);
  assert.ok(s?.kind === 'exec', `step ${name}`);
  return s.commands.map((c) => c.script ?? c.argv!.join(' '));
};

test('PROD in compose mode: snapshot, transfers, tags, compose files, compose up, health; no docker run swap', () => {
  const plan = planWithCompose(input([container('backend', 'compose'), container('frontend', 'compose')]), observation(['backend', 'frontend']));
  assert.ok(composePart(plan));
  assert.deepEqual(
    plan.steps.map((s) => s.name),
    ['snapshot', 'transfer ragflowauth-backend:v2', 'transfer ragflowauth-frontend:v2', 'tag images', 'compose files ragflowauth', 'compose up ragflowauth', 'health ragflowauth-backend', 'health ragflowauth-frontend'],
  );
  assert.ok(plan.containers.every((c) => c.mode === 'compose' && c.runCommand === undefined));
  const files = commands(plan, 'compose files ragflowauth');
  assert.match(files[0]!, /^umask 022 && printf '%s' '# Written by releaseflow[\s\S]*services:\n {2}backend:\n {4}image: ragflowauth-backend:v2\n {2}frontend:\n {4}image: ragflowauth-frontend:v2\n' > \/opt\/ragflowauth\/docker-compose\.releaseflow\.yml\.releaseflow-tmp && mv /);
  assert.match(files[1]!, /COMPOSE_FILE=docker-compose\.yml:docker-compose\.releaseflow\.yml/);
  const up = commands(plan, 'compose up ragflowauth');
  // v2: no --no-deps (it corrupts the config hash of a service with depends_on on 2.26, docker/compose#12069)
  assert.equal(up[0], 'cd /opt/ragflowauth && unset COMPOSE_FILE COMPOSE_PATH_SEPARATOR COMPOSE_PROJECT_NAME && docker compose -p ragflowauth up -d --no-build backend frontend');
  assert.match(up[1]!, /ragflowauth-backend\)" = sha256:/);
  assert.match(up[2]!, /docker compose -p ragflowauth --dry-run up -d --no-build/);
  assert.match(files[2]!, /this release does not recreate it/, 'the pre-check runs before anything is recreated');
  const snap = commands(plan, 'snapshot');
  assert.ok(snap.some((c) => c.includes('cp -p /opt/ragflowauth/.env /var/lib/releaseflow/ragflowauth/releases/20261128T150102Z/compose/1-ragflowauth.dotenv')));
  assert.ok(plan.header.includes('mode on prod: compose via docker compose 2.26.1-4 (v2)'));
  assert.ok(plan.header.includes('mode on test: run'));
  assert.ok(plan.header.includes('env_path: /opt/ragflowauth/.env'));
  const text = renderPlan(plan);
  assert.doesNotMatch(text, /s3cr3t|another-secret-value/);
  assert.doesNotMatch(text, /docker create/);
});

test('an unchanged compose service stays pinned to what it runs, so neither release nor a later up recreates it', () => {
  const frontend = container('frontend', 'compose');
  frontend.source = { ...frontend.source!, Image: frontend.target!.Image };
  const plan = planWithCompose(input([container('backend', 'compose'), frontend]), observation(['backend', 'frontend']));
  assert.ok(composePart(plan));
  const svc = composePart(plan)!.projects[0]!.services;
  assert.deepEqual(svc.map((s) => [s.service, s.image, s.changes]), [['backend', 'ragflowauth-backend:v2', true], ['frontend', 'ragflowauth-frontend:v1', false]]);
  assert.match(commands(plan, 'compose up ragflowauth')[0]!, / backend$/);
  assert.ok(!plan.steps.some((s) => s.name === 'health ragflowauth-frontend'));
});

test('mixed target: backend by compose, frontend by docker run', () => {
  const plan = planWithCompose(input([container('backend', 'compose'), container('frontend', 'run')]), observation(['backend']));
  assert.deepEqual(
    plan.steps.map((s) => s.name),
    ['snapshot', 'transfer ragflowauth-backend:v2', 'transfer ragflowauth-frontend:v2', 'tag images', 'swap ragflowauth-frontend', 'health ragflowauth-frontend', 'compose files ragflowauth', 'compose up ragflowauth', 'health ragflowauth-backend'],
  );
  assert.ok(plan.header.some((h) => /^mode on prod: mixed \(compose: ragflowauth-backend; the rest run\)/.test(h)));
  assert.ok(plan.containers.find((c) => c.name === 'ragflowauth-frontend')?.runCommand);
});

test('fallback: compose labels but no usable project plans docker run, with the warning in the plan', () => {
  const warning = 'ragflowauth-backend on prod: the compose labels name /opt/ragflowauth/docker-compose.yml, which is missing on prod; releasing it in run mode (docker run) instead';
  const plan = planWithCompose(input([{ ...container('backend', 'compose'), targetMode: 'run' }]), observation([], { warnings: [warning] }));
  assert.ok(!composePart(plan));
  assert.ok(plan.steps.some((s) => s.name === 'swap ragflowauth-backend'));
  assert.ok(plan.warnings.includes(warning));
  assert.match(renderPlan(plan), /warning: ragflowauth-backend on prod: the compose labels name .* missing on prod; releasing it in run mode/);
});

test('up to date in compose mode: no steps, header still names the compose files', () => {
  const b = container('backend', 'compose');
  b.source = { ...b.source!, Image: b.target!.Image };
  const plan = planWithCompose(input([b]), observation(['backend']));
  assert.equal(plan.upToDate, true);
  assert.equal(plan.steps.length, 0);
  assert.ok(plan.header.some((h) => h.startsWith('compose_path: /opt/ragflowauth/docker-compose.yml')));
});

test('a restore puts the files back, re-tags the old refs (never an image ID) and brings the services up', () => {
  const plan = planWithCompose(input([container('backend', 'compose'), container('frontend', 'compose')]), observation(['backend', 'frontend']));
  assert.ok(composePart(plan));
  const p = composePart(plan)!.projects[0]!;
  const steps = planComposeRestoreSteps('prod', p, [
    { container: 'ragflowauth-backend', service: 'backend', ref: 'ragflowauth-backend:v1', id: 'sha256:aaa' },
    { container: 'ragflowauth-frontend', service: 'frontend', ref: 'sha256:bbb', id: 'sha256:bbb' },
  ], plan.steps, 'because');
  assert.deepEqual(steps.map((s) => s.name), ['rollback: restore compose files ragflowauth', 'rollback: compose up ragflowauth', 'rollback: health ragflowauth-backend', 'rollback: health ragflowauth-frontend']);
  const up = steps[1]!;
  assert.ok(up.kind === 'exec');
  const lines = up.commands.map((c) => c.script ?? c.argv!.join(' '));
  assert.equal(lines[0], 'docker tag sha256:aaa ragflowauth-backend:v1');
  assert.match(lines[1]!, /up -d --no-build backend frontend$/);
  assert.match(lines[2]!, /ragflowauth-backend\)" = sha256:aaa/);
});

test('TEST runs a digest ref: the tag step and the override use a tag of the repository that names the release', () => {
  const src = structuredClone(fixture('test-backend-v2.inspect.json'));
  src.Config.Image = `ghcr.io/acme/backend@sha256:${'b'.repeat(64)}`;
  const plan = planWithCompose(input([container('backend', 'compose', { source: src })]), observation(['backend']));
  assert.ok(composePart(plan));
  const ref = 'ghcr.io/acme/backend:releaseflow-20261128t150102z';
  assert.ok(commands(plan, 'tag images').some((c) => c === `docker tag ${src.Image} ${ref}`));
  assert.ok(!commands(plan, 'tag images').some((c) => c.includes('@sha256')));
  assert.match(commands(plan, 'compose files ragflowauth')[0]!, new RegExp(`image: ${ref.replace(/\./g, '\\.')}`));
});
