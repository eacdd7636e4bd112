import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ComposeCli, buildComposeUpScript } from '../../src/core/compose.ts';
import { buildDriftCheckScript } from '../../src/core/compose-check.ts';
import { choosePin } from '../../src/core/compose-pin.ts';
import { pinnedRef } from '../../src/targets/compose/plan.ts';

const V1: ComposeCli = { flavor: 'v1', argv: ['docker-compose'], version: '1.29.2' };
const V2: ComposeCli = { flavor: 'v2', argv: ['sudo', '-n', 'docker', 'compose'], version: '2.26.1-4' };

test("default file names, no COMPOSE_FILE: compose's own override file, the .env is left alone", () => {
  assert.deepEqual(choosePin({ configFiles: ['/opt/a/docker-compose.yml'], workingDir: '/opt/a', overrides: [] }), { kind: 'override', overridePath: '/opt/a/docker-compose.override.yml' });
  assert.deepEqual(choosePin({ configFiles: ['compose.yaml'], workingDir: '/opt/a', overrides: [] }), { kind: 'override', overridePath: '/opt/a/compose.override.yaml' });
  // after a release the labels list our override too: still the override pin, same file
  assert.deepEqual(choosePin({ configFiles: ['docker-compose.yml', 'docker-compose.override.yml'], workingDir: '/opt/a', overrides: [{ name: 'docker-compose.override.yml', ours: true }] }), {
    kind: 'override',
    overridePath: '/opt/a/docker-compose.override.yml',
  });
});

test('COMPOSE_FILE in the .env, several files, a file of its own or an operator override: COMPOSE_FILE in the .env', () => {
  const env = (x: ReturnType<typeof choosePin>) => ('kind' in x && x.kind === 'env' ? x.composeFile : x);
  assert.equal(env(choosePin({ configFiles: ['docker-compose.yml'], workingDir: '/opt/a', envComposeFile: 'docker-compose.yml', overrides: [] })), 'docker-compose.yml:docker-compose.releaseflow.yml');
  assert.equal(env(choosePin({ configFiles: ['/opt/a/base.yml', '/opt/a/prod.yml'], workingDir: '/opt/a', overrides: [] })), 'base.yml:prod.yml:docker-compose.releaseflow.yml');
  assert.equal(env(choosePin({ configFiles: ['docker-compose.yml', 'docker-compose.override.yml'], workingDir: '/opt/a', overrides: [{ name: 'docker-compose.override.yml', ours: false }] })), 'docker-compose.yml:docker-compose.override.yml:docker-compose.releaseflow.yml');
  // the operator's override exists but the labels do not list it: compose would load it, ours cannot take its name
  assert.equal(env(choosePin({ configFiles: ['docker-compose.yml'], workingDir: '/opt/a', overrides: [{ name: 'compose.override.yml', ours: false }] })), 'docker-compose.yml:docker-compose.releaseflow.yml');
  assert.ok('error' in choosePin({ configFiles: ['/opt/a/a:b.yml'], workingDir: '/opt/a', overrides: [] }));
});

test('recreate command per compose version: v1 --no-deps, v2 without it (docker/compose#12069)', () => {
  assert.match(buildComposeUpScript(V1, '/opt/a', 'a', ['web']), /docker-compose -p a up -d --no-deps --no-build web$/);
  assert.match(buildComposeUpScript(V2, '/opt/a', 'a', ['web']), /sudo -n docker compose -p a up -d --no-build web$/);
});

test('drift check v2: --dry-run up -d; before up only the released containers may be recreated', () => {
  const before = buildDriftCheckScript(V2, '/opt/a', 'a', [{ container: 'a-web-1', service: 'web' }], 'before');
  assert.match(before, /sudo -n docker compose -p a --dry-run up -d --no-build/);
  assert.match(before, /allowed=' a-web-1 '/);
  assert.match(buildDriftCheckScript(V2, '/opt/a', 'a', [{ container: 'a-web-1', service: 'web' }], 'after'), /allowed=' {2}'/);
});

test('drift check v1: config --hash against every container of the project (no one-off run containers)', () => {
  const after = buildDriftCheckScript(V1, '/opt/a', 'a', [{ container: 'a_web_1', service: 'web' }], 'after');
  assert.match(after, /docker-compose -p a config --hash '\*'/);
  assert.match(after, /docker ps -a --filter label=com\.docker\.compose\.project=a --filter label=com\.docker\.compose\.oneoff=False/);
  assert.match(after, /mine=' web '/);
  assert.match(after, /^cd \/opt\/a && unset COMPOSE_FILE/);
});

test('a digest ref is pinned to a tag of its repository that names the release (a loaded image has no repo digest)', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  assert.equal(pinnedRef('ghcr.io/acme/api:5.1', d, '20261206T010203Z', 'api'), 'ghcr.io/acme/api:5.1');
  assert.equal(pinnedRef(`ghcr.io/acme/api@${d}`, d, '20261206T010203Z', 'api'), 'ghcr.io/acme/api:releaseflow-20261206t010203z');
  assert.equal(pinnedRef(`localhost:5000/api:5.1@${d}`, d, '20261206T010203Z', 'api'), 'localhost:5000/api:releaseflow-20261206t010203z');
  assert.equal(pinnedRef(d, d, '20261206T010203Z', 'Shop_API'), 'releaseflow/shop_api:20261206t010203z');
});

test('a restore under the COMPOSE_FILE pin passes the label files as -f when the restored .env names none', () => {
  const s = buildComposeUpScript(V1, '/opt/m', 'm', ['web'], { envPath: '/opt/m/.env', chain: ['base.yml', '/opt/m/prod.yml'] });
  assert.match(s, /set -- && \{ grep -q -E .*COMPOSE_FILE.* \/opt\/m\/\.env 2>\/dev\/null \|\| set -- -f base\.yml -f \/opt\/m\/prod\.yml; \} && docker-compose -p m "\$@" up -d --no-deps --no-build web$/);
  assert.doesNotMatch(buildComposeUpScript(V1, '/opt/m', 'm', ['web']), /set --/);
});
