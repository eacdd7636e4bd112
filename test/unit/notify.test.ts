import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { exportLines, notifyPayload, type ReleaseFacts, releaseEnv } from '../../src/core/release-facts.ts';
import { EventBus } from '../../src/events/bus.ts';
import { sendNotifications, webhookLabel } from '../../src/workflows/notify.ts';

const FAILED: ReleaseFacts = {
  kind: 'promote',
  app: 'ragflowauth',
  releaseId: '20261206T014500Z',
  from: 'test',
  to: 'prod',
  containers: [{ name: 'ragflowauth-backend', oldImage: 'ragflowauth-backend:v1', newImage: 'ragflowauth-backend:v3' }],
  result: 'rolled-back',
  exitCode: 1,
  durationMs: 12_345,
  failedStep: 'health ragflowauth-backend',
  error: 'health check failed: HTTP 500\nmore lines',
};

test('payload: result, exit code, images, the failing step and a Slack text', () => {
  const p = notifyPayload(FAILED);
  assert.equal(p.result, 'rolled-back');
  assert.equal(p.exitCode, 1);
  assert.equal(p.releaseId, '20261206T014500Z');
  assert.deepEqual(p.containers, FAILED.containers);
  assert.equal(p.failedStep, 'health ragflowauth-backend');
  assert.match(p.text, /^:warning: releaseflow promote ragflowauth test -> prod: rolled-back \(exit 1, 12\.3s\)/);
  assert.match(p.text, /ragflowauth-backend ragflowauth-backend:v1 -> ragflowauth-backend:v3/);
  assert.match(p.text, /failed at health ragflowauth-backend: health check failed: HTTP 500$/);
  const ok = notifyPayload({ ...FAILED, result: 'released', exitCode: 0, failedStep: undefined, error: undefined });
  assert.match(ok.text, /^:white_check_mark: /);
  assert.doesNotMatch(ok.text, /failed at/);
});

test('env: the facts as RELEASEFLOW_* variables, one pair per container', () => {
  const env = releaseEnv(FAILED, 'post');
  assert.equal(env.RELEASEFLOW_RESULT, 'rolled-back');
  assert.equal(env.RELEASEFLOW_EXIT_CODE, '1');
  assert.equal(env.RELEASEFLOW_RELEASE_ID, '20261206T014500Z');
  assert.equal(env.RELEASEFLOW_FROM, 'test');
  assert.equal(env.RELEASEFLOW_TO, 'prod');
  assert.equal(env.RELEASEFLOW_HOOK, 'post');
  assert.equal(env.RELEASEFLOW_OLD_IMAGE_RAGFLOWAUTH_BACKEND, 'ragflowauth-backend:v1');
  assert.equal(env.RELEASEFLOW_NEW_IMAGE_RAGFLOWAUTH_BACKEND, 'ragflowauth-backend:v3');
  assert.equal(env.RELEASEFLOW_FAILED_STEP, 'health ragflowauth-backend');
  // a pre hook runs before there is a result
  assert.equal(releaseEnv({ ...FAILED, result: undefined, exitCode: undefined }, 'pre').RELEASEFLOW_RESULT, undefined);
});

test('exports on a host: hostile values reach the script unchanged and run nothing', () => {
  const hostile = `it's $(touch /tmp/rf-pwned) \`id\` "x"\nline2; rm -rf /`;
  const script = `${exportLines(releaseEnv({ ...FAILED, error: hostile }))}\nprintf %s "$RELEASEFLOW_ERROR"`;
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, hostile);
  assert.doesNotMatch(exportLines({ 'BAD NAME=$(x)': 'v' }), /BAD/);
});

test('webhook: a local server receives the JSON POST; a failing one is retried, then a warning', async () => {
  const got: { body: any; type?: string }[] = [];
  let fails = 1;
  const server = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      if (req.url === '/flaky' && fails-- > 0) {
        res.statusCode = 503;
        res.end();
        return;
      }
      if (req.url === '/down') {
        res.statusCode = 500;
        res.end();
        return;
      }
      got.push({ body: JSON.parse(b), type: req.headers['content-type'] });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const bus = new EventBus();
    bus.redactor.add(['s3cr3t-value']);
    await sendNotifications({ webhooks: [`${base}/flaky`, `${base}/down`], timeoutMs: 2000 }, { ...FAILED, error: 'bad password s3cr3t-value' }, bus, [10, 10]);
    assert.equal(got.length, 1, 'the flaky hook got it on the second try');
    assert.equal(got[0]!.type, 'application/json');
    assert.equal(got[0]!.body.result, 'rolled-back');
    assert.equal(got[0]!.body.error, 'bad password ********');
    assert.doesNotMatch(JSON.stringify(got[0]!.body), /s3cr3t/);
    const warn = bus.history.filter((e) => e.type === 'warning');
    assert.equal(warn.length, 1);
    assert.match(warn[0]!.type === 'warning' ? warn[0]!.message : '', /failed after 3 tries: HTTP 500; the release's result is unchanged/);
    assert.doesNotMatch(JSON.stringify(bus.history), /\/down/, 'the URL path (often the secret) is not logged');
  } finally {
    server.close();
  }
});

test('notify command: gets the facts as env; a failing command is a warning', async () => {
  const bus = new EventBus();
  const out = `/tmp/rf-notify-${process.pid}.txt`;
  await sendNotifications({ webhooks: [], command: `printf '%s %s' "$RELEASEFLOW_RESULT" "$RELEASEFLOW_TO" > ${out}`, timeoutMs: 5000 }, FAILED, bus, []);
  const { readFileSync, rmSync } = await import('node:fs');
  assert.equal(readFileSync(out, 'utf8'), 'rolled-back prod');
  rmSync(out);
  await sendNotifications({ webhooks: [], command: 'echo nope >&2; exit 3', timeoutMs: 5000 }, FAILED, bus, [1]);
  assert.ok(bus.history.some((e) => e.type === 'warning' && /notify command failed after 2 tries: exit 3: nope/.test(e.message)));
});

test('webhook label: scheme and host only', () => {
  assert.equal(webhookLabel('https://hooks.slack.com/services/T0/B0/XYZ'), 'https://hooks.slack.com/…');
});
