// The dashboard server without hosts: the token guard on every path, the page and its assets, API errors with a fix.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { parseConfig } from '../../src/core/config.ts';
import { servedHostname } from '../../src/web/http.ts';
import { type Dashboard, startDashboard } from '../../src/web/server.ts';

const CONFIG = parseConfig('app: a\nhosts:\n  test: { address: 192.0.2.1 }\n  prod: { address: 192.0.2.2 }\ncontainers: [web]\nlog: { file: /nonexistent/rf.log }\n', '/tmp/releaseflow.yml');
let d: Dashboard;

before(async () => {
  d = await startDashboard({ config: CONFIG, port: 0, bind: '127.0.0.1' });
});
after(() => d.close());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${new URL(d.url).origin}${path}`, { headers });

test('the printed URL carries a random token; the server listens on 127.0.0.1', () => {
  assert.match(d.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  assert.equal(d.token, new URL(d.url).searchParams.get('token'));
});

test('every path answers 403 without the token, also API, SSE and assets', async () => {
  for (const p of ['/', '/index.html', '/api/run', '/api/events', '/api/plan', '/s/x/app.js', `/s/${d.token}/../app.js`, '/nope']) {
    const r = await get(p);
    assert.equal(r.status, 403, p);
    assert.match(await r.text(), /needs the token/);
  }
  const post = await fetch(`${new URL(d.url).origin}/api/release?token=wrong`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(post.status, 403);
});

test('with the token: the page names its assets under /s/<token>/, which are served with a strict CSP', async () => {
  const page = await get(`/?token=${d.token}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await page.text();
  assert.match(html, new RegExp(`src="s/${d.token}/app\\.js"`));
  for (const f of ['app.js', 'run.js', 'release.js', 'status.js', 'diagnostics.js', 'history.js', 'ui.js', 'style.css']) {
    const r = await get(`/s/${d.token}/${f}`);
    assert.equal(r.status, 200, f);
  }
  assert.equal((await get(`/s/${d.token}/server.ts`)).status, 404);
});

test('API errors come back as JSON with a fix', async () => {
  const run = await (await get(`/api/run?token=${d.token}`)).json();
  assert.deepEqual([run.state, run.config.from, run.config.to, run.config.containers], [null, 'test', 'prod', ['web']]);
  const bad = await get(`/api/logs?token=${d.token}&host=prod&container=sshd`);
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error.fix, /use one of: web/);
  const noType = await fetch(`${new URL(d.url).origin}/api/release?token=${d.token}`, { method: 'POST', body: '{}' });
  assert.equal(noType.status, 415);
  const badId = await get(`/api/history/log?token=${d.token}&releaseId=../../etc`);
  assert.equal(badId.status, 400);
});

/** A raw request with exactly these headers (fetch would set Host and Origin itself). */
function raw(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const u = new URL(d.url);
  return new Promise((resolve, reject) => {
    const r = request({ host: u.hostname, port: u.port, path, headers, setHost: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

test('a Host or Origin that is not the loopback address served is refused (DNS rebinding, cross-site), even with the token', async () => {
  const port = new URL(d.url).port;
  const ok = `/api/run?token=${d.token}`;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost:8080', `[::1]:${port}`]) {
    assert.equal((await raw(ok, { host })).status, 200, host);
  }
  assert.equal((await raw(ok, { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` })).status, 200);
  for (const headers of <Record<string, string>[]>[{ host: `evil.example:${port}` }, { host: `192.0.2.9:${port}` }, { host: `127.0.0.1:${port}`, origin: 'http://evil.example' }, { host: `127.0.0.1:${port}`, origin: 'null' }, { host: `127.0.0.1:${port}`, origin: `https://evil.example:${port}` }]) {
    const r = await raw(ok, headers);
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.match(r.body, /header does not name this dashboard/);
  }
  assert.equal(servedHostname('10.0.0.5', '10.0.0.5'), true, 'the address it was bound to');
  assert.equal(servedHostname('10.0.0.6', '0.0.0.0'), true, 'a wildcard bind: any IP literal');
  assert.equal(servedHostname('rebind.example', '0.0.0.0'), false, 'never a DNS name');
});

test('a malformed % in the path is 403 (no token), not 500', async () => {
  for (const p of ['/s/%E0%A4%A/app.js', '/s/%/app.js', `/s/${d.token}%ZZ/app.js`]) {
    const r = await get(p);
    assert.equal(r.status, 403, p);
  }
});


test('a fleet: Status, Diagnostics and History answer for the source and every target host; a host that cannot be reached is named, not hidden', async () => {
  const fleet = parseConfig('app: a\nhosts:\n  test: { address: 192.0.2.1 }\n  prod: { address: 192.0.2.2 }\n  prod2: { address: 192.0.2.3 }\n  prod3: { address: 192.0.2.4 }\nto: [prod, prod2, prod3]\ncontainers: [web]\nlog: { file: /nonexistent/rf.log }\nssh: { connectTimeout: 1s }\n', '/tmp/releaseflow.yml');
  const f = await startDashboard({ config: fleet, port: 0, bind: '127.0.0.1' });
  try {
    const api = async (path: string) => (await fetch(`${new URL(f.url).origin}${path}?token=${f.token}`)).json();
    const status = await api('/api/status');
    assert.deepEqual(status.hosts.map((h: { host: string; role: string; reachable: boolean }) => `${h.host} ${h.role} ${h.reachable}`), ['test from false', 'prod to false', 'prod2 to false', 'prod3 to false']);
    const doctor = await api('/api/doctor');
    assert.deepEqual([...new Set(doctor.checks.map((c: { host: string }) => c.host))], ['test', 'prod', 'prod2', 'prod3']);
    assert.equal(doctor.ok, false);
    const history = await api('/api/history');
    assert.deepEqual(history.hosts, ['prod', 'prod2', 'prod3']);
    assert.deepEqual(history.entries, []);
    assert.deepEqual(history.problems.map((p: { host: string }) => p.host).sort(), ['prod', 'prod2', 'prod3']);
  } finally {
    await f.close();
  }
});
