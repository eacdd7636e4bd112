import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeFilePaths, describeMode, detectMode } from '../../src/core/mode.ts';

const compose = {
  'com.docker.compose.project': 'ragflowauth',
  'com.docker.compose.project.config_files': '/opt/ragflowauth/docker-compose.yml,/opt/ragflowauth/docker-compose.prod.yml',
  'com.docker.compose.project.working_dir': '/opt/ragflowauth',
  'com.docker.compose.service': 'backend',
  'org.opencontainers.image.title': 'ragflowauth-backend',
};

test('compose labels give compose mode with project, files, working dir and service', () => {
  assert.deepEqual(detectMode(compose), {
    mode: 'compose',
    project: 'ragflowauth',
    configFiles: ['/opt/ragflowauth/docker-compose.yml', '/opt/ragflowauth/docker-compose.prod.yml'],
    workingDir: '/opt/ragflowauth',
    service: 'backend',
  });
});

test('null, empty and non-compose labels mean docker run', () => {
  assert.deepEqual(detectMode(null), { mode: 'run' });
  assert.deepEqual(detectMode(undefined), { mode: 'run' });
  assert.deepEqual(detectMode({}), { mode: 'run' });
  assert.deepEqual(detectMode({ 'org.opencontainers.image.version': 'v2', maintainer: 'x' }), { mode: 'run' });
});

test('an empty or blank project label means docker run', () => {
  assert.deepEqual(detectMode({ 'com.docker.compose.project': '' }), { mode: 'run' });
  assert.deepEqual(detectMode({ 'com.docker.compose.project': '  ', 'com.docker.compose.service': 'web' }), { mode: 'run' });
});

test('missing optional compose labels become empty values, not errors', () => {
  assert.deepEqual(detectMode({ 'com.docker.compose.project': 'p' }), { mode: 'compose', project: 'p', configFiles: [], workingDir: '', service: '' });
});

test('config_files splits on commas, trims and drops empty entries', () => {
  const m = detectMode({ 'com.docker.compose.project': 'p', 'com.docker.compose.project.config_files': ' a.yml, ,b.yml,' });
  assert.equal(m.mode, 'compose');
  assert.deepEqual(m.mode === 'compose' && m.configFiles, ['a.yml', 'b.yml']);
});

test('composeFilePaths resolves compose v1 relative names against working_dir', () => {
  const m = detectMode({ ...compose, 'com.docker.compose.project.config_files': 'docker-compose.yml,/etc/extra.yml' });
  assert.ok(m.mode === 'compose');
  assert.deepEqual(composeFilePaths(m), ['/opt/ragflowauth/docker-compose.yml', '/etc/extra.yml']);
  assert.deepEqual(composeFilePaths({ ...m, workingDir: '' }), ['docker-compose.yml', '/etc/extra.yml']);
});

test('describeMode says how the container was started', () => {
  assert.equal(describeMode({ mode: 'run' }), 'docker run (no compose labels)');
  assert.match(describeMode(detectMode(compose)), /^docker compose \(project ragflowauth, service backend, files \/opt\/ragflowauth\/docker-compose.yml, .*working_dir \/opt\/ragflowauth\)$/);
});
