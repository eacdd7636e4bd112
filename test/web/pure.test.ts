// Pure parts of the dashboard: the token guard, SSE IDs, a release's block of the log, the plan for the page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/core/config.ts';
import type { Plan } from '../../src/core/step.ts';
import { logsRedactor } from '../../src/web/api.ts';
import { requestToken, tokenMatches } from '../../src/web/http.ts';
import { toPlanView } from '../../src/web/plan-view.ts';
import { findReleaseBlock, splitLogBlocks } from '../../src/web/release-log.ts';
import { eventId, frame, parseEventId } from '../../src/web/sse.ts';
import { fixture } from '../unit/fixtures.ts';

test('the token is taken from ?token= or the /s/<token>/ prefix, and compared exactly', () => {
  const u = (s: string) => new URL(s, 'http://x');
  assert.equal(requestToken(u('/api/plan?token=abc')), 'abc');
  assert.equal(requestToken(u('/s/abc/app.js')), 'abc');
  assert.equal(requestToken(u('/api/plan')), null);
  assert.equal(tokenMatches('abc', 'abc'), true);
  for (const bad of ['ab', 'abcd', 'abC', '', null, undefined]) assert.equal(tokenMatches(bad, 'abc'), false, String(bad));
});

test('SSE IDs name the run and the sequence number; foreign IDs mean "from the start"', () => {
  assert.equal(eventId(3, 17), '3.17');
  assert.deepEqual(parseEventId('3.17'), { run: 3, seq: 17 });
  for (const bad of ['', '17', 'x.1', '3.17.1', null]) assert.equal(parseEventId(bad), undefined, String(bad));
  assert.equal(frame('release', { a: 1 }, '1.2'), 'id: 1.2\nevent: release\ndata: {"a":1}\n\n');
  assert.equal(frame('state', null), 'event: state\ndata: null\n\n');
});

const LOG = [
  '2026-01-01T10:00:00.000Z [ReleaseFlow] ==== promote test -> prod ====',
  '2026-01-01T10:00:00.000Z [ReleaseFlow] release 20260101T095959Z of app a',
  '2026-01-01T10:00:09.000Z [ReleaseFlow] result: released (exit 0) in 9.0s: released',
  '2026-01-01T11:00:01.000Z [ReleaseFlow] ==== rollback prod ====',
  '2026-01-01T11:00:01.000Z [ReleaseFlow] rollback 20260101T110000Z of app a on prod (p): undo release 20260101T095959Z',
  '2026-01-01T11:00:05.000Z [ReleaseFlow] result: released (exit 0) in 4.0s: rolled back',
  '2026-01-01T12:00:03.000Z [ReleaseFlow] ==== promote test -> prod ====',
  '2026-01-01T12:00:03.000Z [ReleaseFlow] hosts: test -> prod',
  '2026-01-01T12:00:03.000Z [ReleaseFlow] result: failed (exit 1) in 1.0s: error: unreachable',
  '',
].join('\n');

test("a release's lines are its block of the log: by the ID in its first header line, else by start time", () => {
  const blocks = splitLogBlocks(`garbage before the first run\n${LOG}`);
  assert.equal(blocks.length, 3);
  assert.equal(findReleaseBlock(blocks, '20260101T095959Z')?.lines.length, 3, 'the promote, not the rollback that names it');
  assert.match(findReleaseBlock(blocks, '20260101T110000Z')!.lines[2]!, /rolled back/);
  assert.match(findReleaseBlock(blocks, '20260101T120002Z', '2026-01-01T12:00:02.000Z')!.lines[2]!, /unreachable/);
  assert.equal(findReleaseBlock(blocks, '20990101T000000Z', '2099-01-01T00:00:00.000Z'), undefined);
});

test('the plan for the page carries no stdin contents and scrubs secret values', () => {
  const plan: Plan = {
    kind: 'promote',
    releaseId: 'R',
    app: 'a',
    from: { name: 'test', address: 't' },
    to: { name: 'prod', address: 'p' },
    header: ['release R of app a', 'env DB_PASSWORD=hunter22'],
    containers: [{ name: 'web', mode: 'run', fromRef: 'web:v2', fromId: 'sha256:2', toRef: 'web:v1', toId: 'sha256:1', prevName: 'web-rf-prev-R', prevTag: 'p:R', changes: true, runCommand: 'docker run -e DB_PASSWORD=hunter22 web:v2' }],
    steps: [
      { kind: 'exec', act: 'swap', name: 'swap web', host: 'prod', cause: 'c', commands: [{ script: 'cat > /env', stdin: 'DB_PASSWORD=hunter22\n', stdinNote: 'env file (1 entries, mode 0600)' }] },
      { kind: 'transfer', act: 'transfer', name: 'transfer web:v2', host: 'prod', cause: 'c', from: 'test', to: 'prod', imageId: 'sha256:2', ref: 'web:v2', bytes: 2048 },
    ],
    upToDate: false,
    warnings: [],
  };
  const v = toPlanView(plan, (s) => s.replaceAll('hunter22', '********'));
  const text = JSON.stringify(v);
  assert.doesNotMatch(text, /hunter22/);
  assert.match(v.steps[0]!.lines.join('\n'), /\$ cat > \/env {2}< env file \(1 entries, mode 0600\)/);
  assert.deepEqual([v.bytes, v.transfers.length, v.steps.length], [2048, 1, 2]);
});

test("a container's logs are scrubbed with the secrets of that host's containers, and URL credentials", () => {
  const config = parseConfig('app: ragflowauth\nhosts:\n  test: { address: 192.0.2.1 }\n  prod: { address: 192.0.2.2 }\ncontainers: [ragflowauth-backend]\nsecrets: [GREETING]\n', '/tmp/releaseflow.yml');
  const prev = { Name: '/ragflowauth-backend-rf-prev-1', Config: { Image: 'ragflowauth-backend:v0', Env: ['API_TOKEN=old-token-value', 'PEM_PRIVATE=-----BEGIN KEY-----\nb64-line-of-key\n-----END KEY-----'] } };
  const redact = logsRedactor(config, [fixture('prod-backend-v1.inspect.json'), prev, undefined], ['test', 'prod']);
  const logs = [
    'starting ragflowauth-backend with DB_PASSWORD=s3cr3t-Pa55 and another-secret-value',
    'greeting: hello "world" $HOME it\'s',
    'old token old-token-value; key line b64-line-of-key',
    'db at postgres://app:pg-pw-77@db/app',
  ].join('\n');
  assert.equal(
    redact(logs),
    ['starting ragflowauth-backend with DB_PASSWORD=******** and ********', 'greeting: ********', 'old token ********; key line ********', 'db at postgres://app:********@db/app'].join('\n'),
  );
});
