import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import {
  buildEnvEditScript,
  buildRestoreFilesScript,
  buildSnapshotFilesScript,
  chooseComposeCli,
  composeFileValue,
  ENV_MARKER,
  majorOf,
  renderOverride,
} from '../../src/core/compose.ts';
import { parseComposeObserveOutput, projectEnvPath } from '../../src/targets/compose/observe.ts';
import { detectMode } from '../../src/core/mode.ts';

const sh = (script: string) => execFileSync('sh', ['-c', script], { encoding: 'utf8' });

test('majorOf reads v1, v2 and plugin version strings', () => {
  assert.equal(majorOf('1.29.2'), 1);
  assert.equal(majorOf('2.26.1-4'), 2);
  assert.equal(majorOf('v2.29.7'), 2);
  assert.equal(majorOf(''), undefined);
  assert.equal(majorOf(undefined), undefined);
});

test('the compose CLI follows the version that created the containers', () => {
  const both = { plugin: '2.26.1-4', standalone: '1.29.2' };
  assert.deepEqual(chooseComposeCli(both, '1.29.2').cli, { flavor: 'v1', argv: ['docker-compose'], version: '1.29.2' });
  assert.deepEqual(chooseComposeCli(both, '2.26.1').cli, { flavor: 'v2', argv: ['docker', 'compose'], version: '2.26.1-4' });
  assert.deepEqual(chooseComposeCli(both, undefined).cli?.argv, ['docker', 'compose']);
  // a v2 standalone docker-compose counts as v2
  assert.equal(chooseComposeCli({ standalone: '2.26.1' }, '2.26.1').cli?.flavor, 'v2');
  const other = chooseComposeCli({ plugin: '2.26.1-4' }, '1.29.2');
  assert.equal(other.cli?.flavor, 'v2');
  assert.match(other.warning ?? '', /created by compose 1\.29\.2.*hashes configurations differently/);
  assert.deepEqual(chooseComposeCli({}, '2.26.1'), {});
  assert.deepEqual(chooseComposeCli(both, '2.26.1', true).cli?.argv, ['sudo', '-n', 'docker', 'compose']);
});

test("compose v1 is not used on Docker 25+ (KeyError 'ContainerConfig' on recreate, measured on 26.1 and 28.5); v2 is", () => {
  const both = { plugin: '2.26.1-4', standalone: '1.29.2' };
  assert.equal(chooseComposeCli({ ...both, engine: '20.10.24+dfsg1' }, '1.29.2').cli?.flavor, 'v1');
  const refused = chooseComposeCli({ ...both, engine: '26.1.5+dfsg1' }, '1.29.2');
  assert.equal(refused.cli, undefined);
  assert.match(refused.refused ?? '', /docker-compose 1\.29\.2 \(v1\) cannot recreate containers on Docker 26\.1\.5\+dfsg1 .*ContainerConfig.*docker compose up -d --force-recreate/);
  assert.equal(chooseComposeCli({ ...both, engine: '28.5.2' }, '2.26.1').cli?.flavor, 'v2', 'a v2 project on a new engine is fine');
});

test('COMPOSE_FILE lists the label files, then the override, relative to the working dir when inside it', () => {
  const o = '/opt/app/docker-compose.releaseflow.yml';
  assert.equal(composeFileValue(['/opt/app/docker-compose.yml'], '/opt/app', o), 'docker-compose.yml:docker-compose.releaseflow.yml');
  // compose v1 labels hold relative names; a later release finds the override already listed
  assert.equal(composeFileValue(['docker-compose.yml', 'docker-compose.releaseflow.yml'], '/opt/app', o), 'docker-compose.yml:docker-compose.releaseflow.yml');
  assert.equal(composeFileValue(['/opt/app/docker-compose.yml', '/opt/app/docker-compose.releaseflow.yml'], '/opt/app', o), 'docker-compose.yml:docker-compose.releaseflow.yml');
  assert.equal(composeFileValue(['/opt/app/a.yml', '/etc/app/prod.yml'], '/opt/app', o, ';'), 'a.yml;/etc/app/prod.yml;docker-compose.releaseflow.yml');
  assert.equal(composeFileValue(['/opt/my app/a.yml'], '/opt/my app', '/opt/my app/x.yml'), 'a.yml:x.yml');
  assert.equal(composeFileValue(['/opt/app/a.yml', '/srv/my app/b.yml'], '/opt/app', o), undefined);
  assert.equal(composeFileValue(['/opt/app/a:b.yml'], '/opt/app', o), undefined);
});

test('the override pins each service image, repeats the main file version and escapes $', () => {
  const text = renderOverride(
    [
      { service: 'backend', image: 'ragflowauth-backend:v2' },
      { service: 'web', image: 'reg.example:5000/web$x:1' },
    ],
    { version: '2.4', releaseId: '20261128T150102Z', from: 'test' },
  );
  assert.match(text, /^# Written by releaseflow, release 20261128T150102Z/);
  assert.deepEqual(parse(text), { version: '2.4', services: { backend: { image: 'ragflowauth-backend:v2' }, web: { image: 'reg.example:5000/web$$x:1' } } });
  assert.deepEqual(Object.keys(parse(renderOverride([{ service: 'a', image: 'a:1' }], { releaseId: 'r', from: 't' }))), ['services']);
});

test('the .env edit keeps every other line and the mode, replaces COMPOSE_FILE, and creates a missing file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-env-'));
  const env = join(dir, '.env');
  writeFileSync(env, 'A=1\nexport COMPOSE_FILE=old.yml\nSECRET=p$ss "x"\n# releaseflow: old marker\nB=2', { mode: 0o600 });
  sh(buildEnvEditScript(env, 'docker-compose.yml:docker-compose.releaseflow.yml'));
  assert.equal(readFileSync(env, 'utf8'), `A=1\nSECRET=p$ss "x"\nB=2\n${ENV_MARKER}\nCOMPOSE_FILE=docker-compose.yml:docker-compose.releaseflow.yml\n`);
  assert.equal(statSync(env).mode & 0o777, 0o600);
  // a second release: still one COMPOSE_FILE line
  sh(buildEnvEditScript(env, 'x.yml'));
  assert.equal(readFileSync(env, 'utf8').match(/COMPOSE_FILE=/g)?.length, 1);
  const fresh = join(dir, 'new.env');
  sh(buildEnvEditScript(fresh, 'a.yml'));
  assert.equal(readFileSync(fresh, 'utf8'), `${ENV_MARKER}\nCOMPOSE_FILE=a.yml\n`);
});

test('snapshot and restore put files back, and remove those that did not exist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-snap-'));
  const files = [
    { path: join(dir, '.env'), snapshot: join(dir, 's-env') },
    { path: join(dir, 'override.yml'), snapshot: join(dir, 's-override') },
  ];
  writeFileSync(files[0]!.path, 'A=1\n', { mode: 0o640 });
  sh(buildSnapshotFilesScript(files));
  assert.ok(existsSync(`${files[1]!.snapshot}.absent`));
  writeFileSync(files[0]!.path, 'A=1\nCOMPOSE_FILE=x\n');
  writeFileSync(files[1]!.path, 'services: {}\n');
  const out = sh(buildRestoreFilesScript(files));
  assert.match(out, /restored .*\.env/);
  assert.match(out, /removed .*override\.yml \(it did not exist before\)/);
  assert.equal(readFileSync(files[0]!.path, 'utf8'), 'A=1\n');
  assert.equal(statSync(files[0]!.path).mode & 0o777, 0o640);
  assert.ok(!existsSync(files[1]!.path));
  // no snapshot at all (the release failed before taking it): nothing is touched
  const none = [{ path: join(dir, 'keep'), snapshot: join(dir, 'never') }];
  writeFileSync(none[0]!.path, 'x');
  assert.match(sh(buildRestoreFilesScript(none)), /no snapshot/);
  assert.equal(readFileSync(none[0]!.path, 'utf8'), 'x');
});

test('observation output parses tools, file states, .env COMPOSE_* values and the file version', () => {
  const m = '@@rf-x';
  const out = [
    'motd banner',
    `${m} begin tools`,
    'plugin 2.26.1-4',
    'standalone 1.29.2',
    `${m} end tools 0`,
    `${m} begin files0`,
    'readable',
    'missing',
    `${m} end files0 0`,
    `${m} begin env0`,
    'present',
    'COMPOSE_FILE="a.yml:b.yml" # pinned',
    'COMPOSE_PATH_SEPARATOR=;',
    `${m} end env0 0`,
    `${m} begin version0`,
    "'2.4'",
    `${m} end version0 0`,
    `${m} begin ovr0`,
    '1 /opt/a/docker-compose.override.yml',
    `${m} end ovr0 0`,
  ].join('\n');
  const r = parseComposeObserveOutput(out, m, [{ paths: ['/opt/a/a.yml', '/opt/a/b.yml'] }]);
  assert.deepEqual(r.tools, { plugin: '2.26.1-4', standalone: '1.29.2' });
  assert.deepEqual(r.projects[0], {
    files: [
      { path: '/opt/a/a.yml', status: 'readable' },
      { path: '/opt/a/b.yml', status: 'missing' },
    ],
    envExists: true,
    envComposeFile: 'a.yml:b.yml',
    pathSeparator: ';',
    fileVersion: '2.4',
    overrides: [{ name: 'docker-compose.override.yml', ours: true }],
  });
  const none = parseComposeObserveOutput(`${m} begin tools\nplugin \nstandalone \n${m} end tools 0`, m, []);
  assert.deepEqual(none.tools, {});
});

test('the env file is the environment_file label when compose v2 set one, else .env in the working dir', () => {
  const labels = { 'com.docker.compose.project': 'p', 'com.docker.compose.project.working_dir': '/opt/p' };
  const mode = detectMode(labels);
  assert.ok(mode.mode === 'compose');
  assert.equal(projectEnvPath(mode, labels), '/opt/p/.env');
  assert.equal(projectEnvPath(mode, { ...labels, 'com.docker.compose.project.environment_file': '/etc/p.env' }), '/etc/p.env');
});
