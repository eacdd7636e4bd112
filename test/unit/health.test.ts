import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { buildHealthProbeScript, judgeHealth, parseHealthProbe } from '../../src/core/health.ts';

test('probe output parses into state, docker health and http', () => {
  const p = parseHealthProbe('state=running healthy 0\nhttp=ok\n');
  assert.deepEqual([p.state, p.health, p.restarts, p.http], ['running', 'healthy', 0, 'ok']);
  const f = parseHealthProbe('state=running none 2\nhttp=fail curl: (22) The requested URL returned error: 404\n');
  assert.equal(f.http, 'fail');
  assert.match(f.detail, /404/);
});

test('judgement: exited fails at once, starting waits, healthy passes', () => {
  assert.equal(judgeHealth(parseHealthProbe('state=exited none 0\nhttp=fail x'), false).verdict, 'failed');
  assert.equal(judgeHealth(parseHealthProbe('state=running starting 0\nhttp=ok'), true).verdict, 'waiting');
  assert.equal(judgeHealth(parseHealthProbe('state=running starting 0\nhttp=ok'), false).verdict, 'healthy');
  assert.equal(judgeHealth(parseHealthProbe('state=running none 0\nhttp=fail'), false).verdict, 'waiting');
  assert.equal(judgeHealth(parseHealthProbe('state=restarting none 3\nhttp=fail'), false).verdict, 'waiting');
  assert.equal(judgeHealth(parseHealthProbe('state=running none 0\nhttp=no-client'), false).verdict, 'failed');
});

test('the probe script is valid POSIX sh and quotes a hostile URL', () => {
  const script = buildHealthProbeScript("we'ird$(touch /tmp/pwn)", "http://127.0.0.1:1/x'$(id)");
  execFileSync('dash', ['-n', '-c', script]);
  assert.match(script, /'http:\/\/127\.0\.0\.1:1\/x'\\''\$\(id\)'/);
});
