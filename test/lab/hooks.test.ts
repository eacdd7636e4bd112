// Hooks and notifications against the lab: a failing pre hook changes nothing, a failing post hook
// rolls back, and a local HTTP server receives the webhook on success and on failure (issue 16, items 3-4).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { openSession } from '../../src/workflows/session.ts';
import { loadConfig } from '../../src/core/config.ts';
import { promote } from '../../src/workflows/promote.ts';
import { configCopy } from './faults-lib.ts';
import { labDocker, labInspect, labScript, labSkip } from './lab.ts';

const APP = ['ragflowauth-backend', 'ragflowauth-frontend'];
const prodIds = () => APP.map((n) => labInspect('prod', n).Id as string);
const prodImage = (n: string) => labInspect('prod', n).Config.Image as string;

/** promote in this process (the webhook server below must keep answering), confirmed. */
async function promoteWith(extra: string) {
  const config = loadConfig(configCopy(extra));
  const s = openSession(config, [config.from, config.to], { json: true, log: true });
  try {
    const r = await promote(s.ports, { assumeYes: true, signal: s.signal, confirm: async () => true });
    const text = s.events.map((e) => ('message' in e ? e.message : '')).join('\n');
    return { code: r.code, text };
  } finally {
    await s.close();
  }
}

describe('hooks and notifications', labSkip(), () => {
  const received: any[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ path: req.url, body: JSON.parse(body) });
      res.end('ok');
    });
  });
  let url = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  test('a failing pre hook: exit 1, nothing changed on PROD', async () => {
    labScript(['seed']);
    const ids = prodIds();
    const r = await promoteWith('hooks:\n  pre: "echo draining $RELEASEFLOW_TO; exit 7"\n');
    assert.equal(r.code, 1, r.text);
    assert.match(r.text, /pre hook failed on this machine \(exit 7/);
    assert.match(r.text, /draining prod/);
    assert.deepEqual(prodIds(), ids, 'the same containers');
  });

  test('a failing post hook on prod: rolled back, exit 1, PROD on v1; the rollback hook ran', async () => {
    labScript(['seed']);
    const r = await promoteWith('hooks:\n  post: { command: "echo checking $RELEASEFLOW_NEW_IMAGE_RAGFLOWAUTH_BACKEND on $(hostname); exit 1", on: prod }\n  rollback: "echo restored $RELEASEFLOW_RESULT"\n');
    assert.equal(r.code, 1, r.text);
    assert.match(r.text, /checking ragflowauth-backend:v2 on/);
    assert.match(r.text, /post hook failed on prod \(exit 1/);
    assert.match(r.text, /restored rolled-back/);
    assert.equal(prodImage('ragflowauth-backend'), 'ragflowauth-backend:v1');
    assert.equal(prodImage('ragflowauth-frontend'), 'ragflowauth-frontend:v1');
  });

  test('a migrate hook that fails: nothing is swapped, exit 1, PROD runs the same containers, the one-off is gone', async () => {
    labScript(['seed']);
    const ids = prodIds();
    const r = await promoteWith('hooks:\n  migrate: "echo migrating; exit 3"\n');
    assert.equal(r.code, 1, r.text);
    assert.match(r.text, /failed at step \d+\/\d+ migrate ragflowauth-backend/);
    assert.deepEqual(prodIds(), ids, 'the same containers');
    assert.equal(labDocker('prod', ['ps', '-a', '--filter', 'name=rf-migrate', '--format', '{{.Names}}']).trim(), '', 'no one-off container left');
  });

  test("a migrate hook runs before the swap in the new image, with the container's env and mounts", async () => {
    labScript(['seed']);
    const r = await promoteWith('hooks:\n  migrate: { command: \'test -n "$DB_PASSWORD" && echo "migrated to $APP_VERSION" >> /data/migrations.log\', container: ragflowauth-backend }\n');
    assert.equal(r.code, 0, r.text);
    const log = labDocker('prod', ['exec', 'ragflowauth-backend', 'cat', '/data/migrations.log']);
    assert.match(log, /^migrated to v2$/m, 'the new image (APP_VERSION v2), the data volume, and PROD\'s secret env');
    // the new container started after the migration: its boot line follows the migration in the volume
    const boot = labDocker('prod', ['exec', 'ragflowauth-backend', 'sh', '-c', 'stat -c %Y /data/migrations.log /data/boot.log']).trim().split('\n').map(Number);
    assert.ok(boot[0]! <= boot[1]!, 'migrated before the new container booted');
    assert.equal(labDocker('prod', ['ps', '-a', '--filter', 'name=rf-migrate', '--format', '{{.Names}}']).trim(), '', 'no one-off container left');
  });

  test('webhook on success and on failure (v3), with the expected payloads', async () => {
    labScript(['seed']);
    const ok = await promoteWith(`notify:\n  webhook: ${url}/ok\n`);
    assert.equal(ok.code, 0, ok.text);
    labScript(['seed', 'v3']);
    const bad = await promoteWith(`notify:\n  webhook: [${url}/bad]\n`);
    assert.equal(bad.code, 1, bad.text);
    assert.equal(prodImage('ragflowauth-backend'), 'ragflowauth-backend:v1');

    const [a, b] = [received.find((x) => x.path === '/ok')?.body, received.find((x) => x.path === '/bad')?.body];
    assert.ok(a && b, `both received: ${JSON.stringify(received.map((x) => x.path))}`);
    assert.equal(a.result, 'released');
    assert.equal(a.exitCode, 0);
    assert.equal(a.app, 'ragflowauth');
    assert.equal(a.from, 'test');
    assert.equal(a.to, 'prod');
    assert.match(a.releaseId, /^\d{8}T\d{6}Z/);
    assert.deepEqual(a.containers.find((c: any) => c.name === 'ragflowauth-backend'), { name: 'ragflowauth-backend', oldImage: 'ragflowauth-backend:v1', newImage: 'ragflowauth-backend:v2' });
    assert.ok(a.durationMs > 0);
    assert.equal(a.error, undefined);
    assert.match(a.text, /released \(exit 0/);

    assert.equal(b.result, 'rolled-back');
    assert.equal(b.exitCode, 1);
    assert.deepEqual(b.containers.find((c: any) => c.name === 'ragflowauth-backend'), { name: 'ragflowauth-backend', oldImage: 'ragflowauth-backend:v1', newImage: 'ragflowauth-backend:v3' });
    assert.match(b.failedStep, /ragflowauth-backend/);
    assert.ok(b.error.length > 0);
    assert.match(b.text, /rolled-back \(exit 1/);
    assert.match(b.text, /failed at /);
  });
});
