// The dashboard end to end: `releaseflow ui` against the lab, driven by headless chromium; screenshots of each tab.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { loadConfig } from '../../src/core/config.ts';
import { launchChromium, readEventIds, screenshot, startUi, type UiServer } from '../web/harness.ts';
import { labExec } from './faults-lib.ts';
import { labInfo, labInspect, labScript, labSkip } from './lab.ts';

const RELEASE_MS = 180_000;

/** The text a reader sees: layout-aware, so table cells stay apart (textContent runs them together). */
// biome-ignore lint/performance/useDomNodeTextContent: this is playwright's Locator.innerText, not the DOM property
const seen = (l: Locator) => l.innerText();
const BACKEND = 'ragflowauth-backend';

describe('dashboard', labSkip(), () => {
  let ui: UiServer;
  let browser: Browser;
  let page: Page;
  const api = (path: string, init: RequestInit = {}) => fetch(`${ui.base}${path}${path.includes('?') ? '&' : '?'}token=${ui.token}`, init);
  const post = (path: string, body: unknown = {}) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const openPage = async () => {
    const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    p.on('pageerror', (e) => assert.fail(`error on the page: ${e.message}`));
    await p.goto(ui.url);
    return p;
  };
  const prodImage = (name: string) => labInspect('prod', name).Config.Image as string;
  const confirmText = async (p: Page) => {
    await p.locator('#confirm').waitFor();
    return (await seen(p.locator('#confirm'))).replace(/\s+/g, ' ');
  };

  before(async () => {
    labScript(['seed']);
    ui = await startUi(labInfo()!.config);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await ui?.stop();
  });

  test('every request needs the token from the printed URL (403 without it)', async () => {
    assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{20,}$/);
    for (const path of ['/', '/api/status', '/api/plan', '/api/events', `/s/${ui.token}x/app.js`, '/s/nope/app.js']) {
      const r = await fetch(`${ui.base}${path}`);
      assert.equal(r.status, 403, path);
      await r.body?.cancel();
    }
    const wrong = await fetch(`${ui.base}/api/status?token=${ui.token.slice(0, -1)}A`);
    assert.equal(wrong.status, 403);
    const release = await fetch(`${ui.base}/api/release`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(release.status, 403, 'a page elsewhere cannot start a release');
    assert.equal(prodImage(BACKEND), `${BACKEND}:v1`);
    const ok = await fetch(ui.url);
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), new RegExp(`s/${ui.token}/app\\.js`));
  });

  test("the page's answers share one SSH connection per host, kept open between requests", async () => {
    // the operator's TCP connections to PROD's sshd: a kept ControlMaster is one, the same one throughout
    const sshPeers = () =>
      labExec('prod', "ss -Htn state established '( sport = :22 )'")
        .split('\n')
        .map((l) => l.trim().split(/\s+/).at(-1) ?? '')
        .filter(Boolean);
    // connections left by earlier runs (a ControlMaster lingering after an earlier test file) are not the dashboard's
    const before = new Set(sshPeers());
    const seenPeers: string[][] = [];
    for (const path of ['/api/status', '/api/history', `/api/logs?host=prod&container=${BACKEND}`, '/api/plan', '/api/doctor', '/api/status']) {
      const r = await api(path);
      assert.equal(r.status, 200, `${path}: ${await r.text()}`);
      await r.body?.cancel().catch(() => undefined);
      seenPeers.push(sshPeers().filter((p) => !before.has(p)));
    }
    assert.deepEqual(seenPeers[0]?.length, 1, `one new connection to prod after the first answer: ${JSON.stringify(seenPeers)} (before: ${JSON.stringify([...before])})`);
    for (const peers of seenPeers) assert.deepEqual(peers, seenPeers[0], `the same connection after every answer: ${JSON.stringify(seenPeers)}`);
  });

  test('the plan shows; Release (confirmed) runs to success; a second page sees it; a second Release is refused', async () => {
    labScript(['seed']);
    page = await openPage();
    await page.locator('#plan-steps').waitFor({ timeout: 60_000 });
    const plan = await seen(page.locator('#plan'));
    assert.match(plan, /TEST 10\.213\.\d+\.11/);
    assert.match(plan, new RegExp(`${BACKEND}:v1[\\s\\S]*${BACKEND}:v2`));
    assert.match(plan, /transfer ragflowauth-frontend:v2/);
    assert.match(await seen(page.locator('#plan-bytes')), /2 image\(s\) to move, up to [\d.]+ MiB/);
    // the seed gives TEST and PROD different secrets: drift, named, values not shown
    const drift = await seen(page.locator('#plan-drift'));
    assert.match(drift, /ragflowauth-backend: env DB_PASSWORD: differs \(secret: values not shown\)/);
    assert.doesNotMatch(drift, /s3cr3t|test-Pa55/);
    const steps = await page.locator('#plan-steps > li').count();
    assert.ok(steps >= 6, `a plan of ${steps} steps`);
    await screenshot(page, 'release-plan');

    const second = await openPage();
    await page.locator('#release-button:enabled').click();
    const text = await confirmText(page);
    assert.match(text, /Release TEST → PROD\?/);
    assert.match(text, new RegExp(`${BACKEND}: ${BACKEND}:v1 → ${BACKEND}:v2`));
    await page.locator('#confirm-ok').click();

    await second.locator('#run [data-run]').waitFor({ timeout: 30_000 });
    const again = await post('/api/release');
    assert.equal(again.status, 409, 'one release at a time');
    assert.match((await again.json()).error.message, /still running/);

    for (const p of [page, second]) await p.locator('#run-result[data-result="released"]').waitFor({ timeout: RELEASE_MS });
    for (const p of [page, second]) {
      assert.match(await seen(p.locator('#run-progress')), new RegExp(`step ${steps}/${steps} health ragflowauth-frontend \\(ok\\)`));
      assert.equal(await p.locator('#run .step[data-status="ok"]').count(), steps);
      assert.equal(await p.locator('#run .step[data-status="failed"]').count(), 0);
      assert.match(await seen(p.locator('#run-log')), /result: released \(exit 0\)/);
    }
    assert.equal(prodImage(BACKEND), `${BACKEND}:v2`);
    assert.equal(prodImage('ragflowauth-frontend'), 'ragflowauth-frontend:v2');
    // the same log file as the CLI writes
    const log = readFileSync(loadConfig(labInfo()!.config).logFile, 'utf8');
    assert.match(log, /\[ReleaseFlow\] result: released \(exit 0\)/);
    await page.locator('#plan-uptodate').waitFor({ timeout: 60_000 });
    await screenshot(page, 'release');

    // a page opened afterwards replays the last release from memory
    const late = await openPage();
    await late.locator('#run-result[data-result="released"]').waitFor({ timeout: 10_000 });
    await Promise.all([second.close(), late.close()]);
  });

  test('the event stream resumes after Last-Event-ID', async () => {
    const state = (await (await api('/api/run')).json()).state;
    const url = `${ui.base}/api/events?token=${ui.token}`;
    assert.deepEqual(await readEventIds(url, {}, 3), [`${state.run}.1`, `${state.run}.2`, `${state.run}.3`]);
    assert.deepEqual(await readEventIds(url, { 'last-event-id': `${state.run}.5` }, 2), [`${state.run}.6`, `${state.run}.7`]);
  });

  test('Status shows both hosts side by side: mode, containers, images, health', async () => {
    await page.locator('#tabbtn-status').click();
    const prod = page.locator(`.host[data-host="prod"] tr[data-container="${BACKEND}"]`);
    await prod.waitFor({ timeout: 30_000 });
    assert.match(await seen(prod), new RegExp(`docker run\\s+running\\s+${BACKEND}:v2`));
    assert.match(await seen(prod), /URL ok/);
    assert.match(await seen(page.locator('.host[data-host="test"]')), /ragflowauth-frontend:v2[\s\S]*docker: healthy/);
    assert.match(await seen(page.locator('.host[data-host="prod"] .kept')), new RegExp(`${BACKEND}-rf-prev-`));
    await screenshot(page, 'status');
  });

  test('History lists the release with result, duration and versions, and opens its log', async () => {
    await page.locator('#tabbtn-history').click();
    const row = page.locator('#history-list tr[data-result="released"]').first();
    await row.waitFor({ timeout: 30_000 });
    assert.match(await seen(row), new RegExp(`promote[\\s\\S]*released[\\s\\S]*${BACKEND}: v1 → v2`));
    const id = await row.getAttribute('data-release');
    await row.locator('button').click();
    const log = page.locator('#history-log-text');
    await log.waitFor({ timeout: 30_000 });
    const text = await seen(log);
    assert.match(text, /\[ReleaseFlow\] ==== promote test -> prod ====/);
    assert.match(text, new RegExp(`release ${id} of app ragflowauth`));
    assert.match(text, /result: released/);
    await screenshot(page, 'history');
  });

  test('Diagnostics runs doctor with a fix per check, and shows a container log on demand', async () => {
    await page.locator('#tabbtn-diagnostics').click();
    await page.locator('#doctor-run').click();
    await page.locator('#doctor-summary').waitFor({ timeout: 60_000 });
    assert.match(await seen(page.locator('#doctor-summary')), /\d+ passed, 0 failed, \d+ warnings: OK/);
    assert.ok((await page.locator('.check[data-status="PASS"]').count()) >= 8);
    await page.locator('#logs-host').selectOption('prod');
    await page.locator('#logs-container').selectOption('ragflowauth-frontend');
    await page.locator('#logs-show').click();
    await page.locator('#container-logs:visible').waitFor({ timeout: 30_000 });
    assert.match(await seen(page.locator('#tab-diagnostics')), /docker logs --tail 200 ragflowauth-frontend/);
    await screenshot(page, 'diagnostics');
  });

  test('Rollback (confirmed) brings back the previous release', async () => {
    await page.locator('#tabbtn-release').click();
    await page.locator('#rollback-button:enabled').click();
    const text = await confirmText(page);
    assert.match(text, new RegExp(`Roll back PROD\\?.*${BACKEND}: ${BACKEND}:v2 → ${BACKEND}:v1`));
    await page.locator('#confirm-ok').click();
    await page.locator('#run-title', { hasText: 'rollback' }).waitFor({ timeout: 30_000 });
    await page.locator('#run-result[data-result="released"]').waitFor({ timeout: RELEASE_MS });
    assert.equal(prodImage(BACKEND), `${BACKEND}:v1`);
    assert.equal(labInspect('prod', BACKEND).State.Running, true);
  });

  test('a release while another process holds the PROD lock is refused, and PROD is untouched', async () => {
    labScript(['seed']);
    labScript(['exec', 'prod', 'sh', '-c', 'mkdir -p /var/lib/releaseflow/ragflowauth/lock && echo \'{"holder":"ops@elsewhere","kind":"promote","releaseId":"X","at":"now","pid":1}\' > /var/lib/releaseflow/ragflowauth/lock/info.json']);
    await page.reload();
    await page.locator('#release-button:enabled').click({ timeout: 60_000 });
    await confirmText(page);
    await page.locator('#confirm-ok').click();
    await page.locator('#run-result[data-result="failed"]').waitFor({ timeout: 60_000 });
    assert.match(await seen(page.locator('#run-result')), /another release holds the lock on prod[\s\S]*ops@elsewhere[\s\S]*fix:/);
    assert.equal(prodImage(BACKEND), `${BACKEND}:v1`);
  });

  test('a failing release (TEST on v3) shows the failed step and the automatic rollback', async () => {
    labScript(['seed', 'v3']);
    await page.reload();
    await page.locator('#plan-steps').waitFor({ timeout: 60_000 });
    assert.match(await seen(page.locator('#plan')), new RegExp(`${BACKEND}:v3`));
    await page.locator('#release-button:enabled').click();
    assert.match(await confirmText(page), new RegExp(`${BACKEND}: ${BACKEND}:v1 → ${BACKEND}:v3`));
    await page.locator('#confirm-ok').click();
    await page.locator('#run-result[data-result="rolled-back"]').waitFor({ timeout: RELEASE_MS });
    const failed = page.locator('.phase[data-phase="release"] .step[data-status="failed"]');
    assert.equal(await failed.count(), 1);
    assert.match(await seen(failed), new RegExp(`step \\d+/\\d+ health ${BACKEND}[\\s\\S]*not healthy`));
    const rollback = page.locator('.phase[data-phase="rollback"]');
    assert.match(await seen(rollback), /Automatic rollback/);
    assert.ok((await rollback.locator('.step[data-status="ok"]').count()) >= 2);
    assert.equal(await rollback.locator('.step[data-status="failed"]').count(), 0);
    assert.match(await seen(page.locator('#run-result')), /Failed, rolled back \(exit 1\)/);
    assert.equal(prodImage(BACKEND), `${BACKEND}:v1`);
    assert.equal(labInspect('prod', BACKEND).State.Running, true);
    await page.locator('#plan-steps').waitFor({ timeout: 60_000 });
    await screenshot(page, 'release-failed');
    labScript(['seed']);
  });
});
