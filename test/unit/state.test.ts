import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { display, dockerNetworkConnect, dockerRename, dockerStop } from '../../src/core/docker.ts';
import { buildUndoScript } from '../../src/core/rollback-plan.ts';
import { makeReleaseId, parsePrevName, prevContainerName, prevImageTag, statePaths } from '../../src/core/state.ts';

test('release IDs sort by time and are safe in names and tags', () => {
  const id = makeReleaseId(new Date('2026-11-28T15:01:02.345Z'));
  assert.equal(id, '20261128T150102Z');
  assert.equal(prevContainerName('ragflowauth-backend', id), 'ragflowauth-backend-rf-prev-20261128T150102Z');
  assert.equal(prevImageTag('My.App', id), 'releaseflow-prev/my.app:20261128T150102Z');
  assert.equal(parsePrevName('ragflowauth-backend-rf-prev-20261128T150102Z', 'ragflowauth-backend'), id);
  assert.equal(parsePrevName('other-rf-prev-20261128T150102Z', 'ragflowauth-backend'), undefined);
  assert.equal(statePaths('/var/lib/releaseflow/', 'app', id).release, '/var/lib/releaseflow/app/releases/20261128T150102Z');
});

test('docker command builders', () => {
  assert.equal(display(dockerRename('web', 'web-prev')), 'docker rename web web-prev');
  assert.equal(display(dockerStop('web', 5)), 'docker stop -t 5 web');
  assert.equal(display(dockerNetworkConnect('net', 'web', { aliases: ['a b'], ipv4: '10.0.0.2' })), "docker network connect --alias 'a b' --ip 10.0.0.2 net web");
});

test('the undo script is valid sh and checks state before each change', () => {
  const s = buildUndoScript({ name: 'web', prevName: 'web-rf-prev-1', expectId: 'abc', restartPolicy: 'always', displaced: { remove: true }, wasRunning: true, dockerHealth: false, healthTimeoutMs: 1 });
  execFileSync('dash', ['-n', '-c', s]);
  assert.match(s, /if docker container inspect web-rf-prev-1 >\/dev\/null 2>&1; then/);
  assert.match(s, /docker rm -f web/);
  const r = buildUndoScript({ name: 'web', prevName: 'p', restartPolicy: 'no', displaced: { renameTo: 'web-keep' }, wasRunning: false, dockerHealth: false, healthTimeoutMs: 1 });
  execFileSync('dash', ['-n', '-c', r]);
  assert.match(r, /docker rename web web-keep/);
  assert.doesNotMatch(r, /docker start/);
});
