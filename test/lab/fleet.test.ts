// A fleet of PROD hosts released as one (rollout.ts), on a lab of its own: TEST and three PRODs.
// A canary first, then batches; a failing host stops the rollout and every host already released
// is rolled back, newest first; a transfer reaches every host before any swap.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startReleaseflow } from './faults-lib.ts';
import { launchChromium, startUi } from '../web/harness.ts';
import { labDocker, labInfo, labScript, releaseflow } from './lab.ts';

const DIR = '/tmp/rfl-fleet';
// the engine of the run (npm run test:engines sets LAB_ENGINE for its whole-suite runs; 20.10 otherwise)
const ENV: NodeJS.ProcessEnv = { LAB_PREFIX: 'rff', LAB_NET: '10.213.58', LAB_HOSTS: 'test prod prod2 prod3', LAB_ENGINE: process.env.LAB_ENGINE ?? '', LAB_CLI: '' };
const PRODS = ['prod', 'prod2', 'prod3'];
const APP = ['ragflowauth-backend', 'ragflowauth-frontend'];

function skip(): string | false {
  if (process.getuid?.() !== 0) {
    if (process.env.CI === 'true') throw new Error('the fleet lab needs root and CI=true: lab tests must not skip');
    return 'needs root (the lab makes namespaces)';
  }
  return false;
}

const lab = (args: string[]) => labScript(args, { dir: DIR, env: ENV });
const dk = (host: string, args: string[]) => labDocker(host, args, undefined, DIR).trim();
const imageOf = (host: string, c: string) => dk(host, ['inspect', '-f', '{{.Config.Image}}', c]);
const idsOf = (host: string) => APP.map((c) => dk(host, ['inspect', '-f', '{{.Id}}', c]));
/** The host holds this image ID (a transfer loads it untagged; the release tags it). */
const hasId = (host: string, id: string) => dk(host, ['image', 'ls', '-q', '--no-trunc']).split('\n').includes(id);
const testId = (ref: string) => dk('test', ['image', 'inspect', '-f', '{{.Id}}', ref]);
const historyOf = (host: string) =>
  labScript(['exec', host, 'sh', '-c', 'cat /var/lib/releaseflow/ragflowauth/history.jsonl 2>/dev/null || true'], { dir: DIR, env: ENV })
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

/** The lab's config with the three PRODs as one fleet, and `extra` YAML appended. */
function fleetConfig(extra = ''): string {
  const text = readFileSync(labInfo(DIR)!.config, 'utf8').replace(/^to: .*$/m, `to: [${PRODS.join(', ')}]`);
  const file = join(mkdtempSync(join(tmpdir(), 'rf-fleet-')), 'releaseflow.yml');
  writeFileSync(file, `${text}${extra}`);
  return file;
}
/** Wait until no release on the host is still `started` (its crash guard restored it, or it ended). */
async function waitJournals(host: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  const states = () => labScript(['exec', host, 'sh', '-c', 'cat /var/lib/releaseflow/ragflowauth/releases/*/state 2>/dev/null; true'], { dir: DIR, env: ENV });
  while (/started/.test(states())) {
    if (Date.now() > deadline) throw new Error(`a release on ${host} is still started`);
    await sleep(300);
  }
}
const rf = (args: string[], cfg: string) => releaseflow(args, { labDir: DIR, env: { RELEASEFLOW_CONFIG: cfg } });

describe('a fleet of three PROD hosts', { skip: skip() }, () => {
  before(() => {
    if (existsSync(`${DIR}/lab.env`)) lab(['down']);
    lab(['demo-up']);
  });
  after(() => lab(['down']));

  test('plan shows every host; promote releases the canary, then the batches; each host records the release', () => {
    const cfg = fleetConfig('rollout: { canary: 1, batch: 2 }\n');
    const plan = rf(['plan'], cfg);
    assert.equal(plan.code, 0, plan.out);
    for (const h of PRODS) assert.match(plan.stdout, new RegExp(`── ${h} \\(`));
    assert.match(plan.stdout, /canary prod; batch 1 prod2, prod3/);
    const r = rf(['promote', '--yes'], cfg);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /released to 3 host\(s\): prod, prod2, prod3/);
    for (const h of PRODS) {
      for (const c of APP) assert.equal(imageOf(h, c), `${c}:v2`, `${h} ${c}`);
      const last = historyOf(h).at(-1);
      assert.equal(last?.result, 'released', `${h} history`);
    }
    const ids = new Set(PRODS.map((h) => historyOf(h).at(-1)?.releaseId));
    assert.equal(ids.size, 1, 'one release id across the fleet');
  });

  test('rollback without --to undoes the fleet release on every host, the last first; history shows every host', () => {
    const cfg = fleetConfig();
    const r = rf(['rollback', '--yes'], cfg);
    assert.equal(r.code, 0, r.out);
    assert.ok(r.out.indexOf('on prod3') < r.out.indexOf('on prod2') && r.out.indexOf('on prod2') < r.out.lastIndexOf('on prod ('), 'prod3 first, prod last');
    for (const h of PRODS) for (const c of APP) assert.equal(imageOf(h, c), `${c}:v1`, `${h} ${c}`);
    const hist = JSON.parse(rf(['history', '--json'], cfg).stdout);
    assert.deepEqual(Object.keys(hist), PRODS);
    for (const h of PRODS) assert.deepEqual(hist[h].map((e: { kind: string; result: string }) => `${e.kind} ${e.result}`), ['rollback released', 'promote released']);
  });

  test('a failing canary: it is rolled back, the other hosts are not touched (their containers are the same)', () => {
    lab(['seed', 'v3']);
    const cfg = fleetConfig();
    const before = Object.fromEntries(PRODS.map((h) => [h, idsOf(h)]));
    const r = rf(['promote', '--yes'], cfg);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /rollout failed: prod failed \(rolled-back\)/);
    for (const h of PRODS) {
      assert.deepEqual(idsOf(h), before[h], `${h} runs the same containers`);
      for (const c of APP) assert.equal(imageOf(h, c), `${c}:v1`);
    }
    // the image reached every host before the canary's swap: no transfer could fail halfway through the fleet
    for (const h of PRODS) assert.ok(hasId(h, testId('ragflowauth-backend:v3')), `${h} has v3 loaded`);
    assert.equal(historyOf('prod2').length, 0, 'prod2 recorded no release');
  });

  test('a failure in the second batch: the hosts already released are rolled back, newest first, and healthy', () => {
    lab(['seed']);
    // the post hook fails on prod3 only: a real failure late in the rollout
    const cfg = fleetConfig('rollout: { canary: 1, batch: 1 }\nhooks:\n  post: \'test "$RELEASEFLOW_TO" != prod3\'\n');
    const before = Object.fromEntries(PRODS.map((h) => [h, idsOf(h)]));
    const r = rf(['promote', '--yes'], cfg);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /rollout stopped: prod3 failed .*rolling back prod2, prod/);
    assert.match(r.out, /rolled back: prod, prod2/);
    for (const h of PRODS) {
      for (const c of APP) assert.equal(imageOf(h, c), `${c}:v1`, `${h} ${c} back on v1`);
      assert.deepEqual(idsOf(h), before[h], `${h} runs its previous containers again`);
    }
    assert.deepEqual(historyOf('prod').map((e) => `${e.kind} ${e.result}`), ['promote released', 'rollback released']);
    assert.deepEqual(historyOf('prod3').map((e) => `${e.kind} ${e.result}`), ['promote rolled-back']);
  });

  test("a host's own health URL: prod3's is the one checked there (plan, release, doctor), the other hosts keep the global one", () => {
    lab(['seed']);
    const withUrl = (url: string) => {
      const cfg = fleetConfig();
      writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/^( {2}prod3:\n)/m, `$1    health: { ragflowauth-backend: "${url}" }\n`));
      return cfg;
    };
    const cfg = withUrl('http://127.0.0.1:8001/version');
    const plan = rf(['plan', '--to', 'prod2,prod3'], cfg);
    assert.equal(plan.code, 0, plan.out);
    assert.match(plan.stdout, /health ragflowauth-backend on prod3\n\s+why: count it done only when http:\/\/127\.0\.0\.1:8001\/version answers on prod3/, plan.stdout);
    assert.match(plan.stdout, /health ragflowauth-backend on prod2\n\s+why: count it done only when http:\/\/127\.0\.0\.1:8001\/health answers on prod2/, plan.stdout);
    const r = rf(['promote', '--yes', '--to', 'prod3'], cfg);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /health ragflowauth-backend started on prod3 \(count it done only when http:\/\/127\.0\.0\.1:8001\/version answers on prod3\)/);
    for (const c of APP) assert.equal(imageOf('prod3', c), `${c}:v2`);
    // a URL that answers nothing there: doctor names it on prod3 (reads only)
    const doc = rf(['doctor', 'prod3'], withUrl('http://127.0.0.1:8001/nothing-here'));
    assert.match(doc.stdout, /FAIL\s+health: http:\/\/127\.0\.0\.1:8001\/nothing-here \(ragflowauth-backend\) fails when requested from prod3/, doc.stdout);
  });

  test('SIGKILL in the middle of a rollout: the host being released restores itself; recover rolls back the hosts already released', async () => {
    lab(['seed']);
    const cfg = fleetConfig('rollout: { canary: 1, batch: 1 }\n');
    const before = Object.fromEntries(PRODS.map((h) => [h, idsOf(h)]));
    const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: cfg });
    // the canary (prod) is released; prod2's swap is under way
    await run.waitFor(/prod2: releasing[\s\S]*swap ragflowauth-backend started on prod2/, 240_000);
    process.kill(run.child.pid!, 'SIGKILL');
    await run.exited;
    await waitJournals('prod2');
    for (const c of APP) assert.equal(imageOf('prod2', c), `${c}:v1`, `prod2 ${c} restored by its own crash guard`);
    assert.equal(imageOf('prod', APP[0]!), `${APP[0]}:v2`, 'the canary stays released until recover');
    const rec = rf(['recover', '--yes'], cfg);
    assert.equal(rec.code, 0, rec.out);
    assert.match(rec.out, /rollout \d{8}T\d{6}Z was interrupted: rolling back the hosts it released \(prod\)/);
    for (const h of PRODS) {
      for (const c of APP) assert.equal(imageOf(h, c), `${c}:v1`, `${h} ${c} on v1 after recover`);
      assert.deepEqual(idsOf(h), before[h], `${h} runs its previous containers`);
    }
    const again = rf(['recover', '--yes'], cfg);
    assert.equal(again.code, 0, again.out);
    assert.doesNotMatch(again.out, /was interrupted/, 'nothing left to finish');
  });

  test('a host held by another run stops the rollout before anything moves', () => {
    lab(['seed']);
    const cfg = fleetConfig();
    labScript(['exec', 'prod2', 'sh', '-c', 'mkdir -p /var/lib/releaseflow/ragflowauth/lock && echo \'{"holder":"someone@elsewhere","machine":"elsewhere","pid":1,"releaseId":"20260101T000000Z","kind":"promote","at":"2026-01-01T00:00:00Z"}\' > /var/lib/releaseflow/ragflowauth/lock/info.json'], { dir: DIR, env: ENV });
    try {
      const r = rf(['promote', '--yes'], cfg);
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /prod2/);
      for (const h of PRODS) assert.ok(!hasId(h, testId('ragflowauth-backend:v2')), `${h} got no image`);
      for (const h of ['prod', 'prod3']) assert.equal(labScript(['exec', h, 'sh', '-c', 'test -d /var/lib/releaseflow/ragflowauth/lock && echo held || echo free'], { dir: DIR, env: ENV }).trim(), 'free', `the lock on ${h} was given back`);
    } finally {
      labScript(['exec', 'prod2', 'rm', '-rf', '/var/lib/releaseflow/ragflowauth/lock'], { dir: DIR, env: ENV });
    }
  });
  test('--relay through this machine: one docker save on TEST for all three hosts, each verified; nothing left in /tmp', () => {
    lab(['seed']);
    const cfg = fleetConfig('rollout: { canary: 1, batch: 2 }\n');
    const r = rf(['promote', '--yes', '--relay', '-v'], cfg);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /relay: one docker save on test for all hosts, streamed to them through this machine: image [0-9a-f]{12}: test → prod, prod2, prod3; image [0-9a-f]{12}: test → prod, prod2, prod3/, r.out);
    assert.equal((r.out.match(/from test's one docker save for all hosts\); Loaded image/g) ?? []).length, 4, 'two images, two hosts each read the first save');
    assert.doesNotMatch(r.out, /pulling it from test instead/, 'no stream fell back to its own save');
    assert.match(r.out, /released to 3 host\(s\): prod, prod2, prod3/);
    for (const h of PRODS) for (const c of APP) assert.equal(imageOf(h, c), `${c}:v2`, `${h} ${c}`);
    assert.equal(labScript(['exec', 'test', 'sh', '-c', 'ls /tmp | grep -c "^releaseflow-xfer-" || true'], { dir: DIR, env: ENV }).trim(), '0', 'the saved stream is gone from test');
  });

  test('--relay --direct: each PROD takes the image from the one before it while that one loads it; a hop that cannot connect stops the rollout before anything moves', () => {
    lab(['seed']);
    // every PROD's own key on TEST and on the other PRODs (the operator's job, once)
    const ex = (h: string, cmd: string) => labScript(['exec', h, 'sh', '-c', cmd], { dir: DIR, env: ENV });
    const pubs = PRODS.map((h) => ex(h, 'mkdir -p -m 700 /root/.ssh; [ -f /root/.ssh/id_ed25519 ] || ssh-keygen -q -t ed25519 -N "" -C fleet-relay -f /root/.ssh/id_ed25519; cat /root/.ssh/id_ed25519.pub').trim());
    const authorize = (h: string, keys: string[]) => ex(h, `grep -v fleet-relay /root/.ssh/authorized_keys >/root/.ssh/ak.tmp; cat /root/.ssh/ak.tmp >/root/.ssh/authorized_keys; rm -f /root/.ssh/ak.tmp; printf '%s\\n' ${keys.map((k) => `'${k}'`).join(' ')} >>/root/.ssh/authorized_keys`);
    for (const h of ['test', 'prod', 'prod3']) authorize(h, pubs);
    // prod2 does not let prod3 in: the hop prod2 → prod3 is refused before anything moves
    authorize('prod2', pubs.filter((_, i) => PRODS[i] !== 'prod3'));
    const cfg = fleetConfig('rollout: { canary: 1, batch: 2 }\n');
    const refused = rf(['promote', '--yes', '--relay', '--direct'], cfg);
    assert.equal(refused.code, 2, refused.out);
    assert.match(refused.out, /prod2 refused prod3's key/, refused.out);
    assert.match(refused.out, /no host was changed/);
    for (const h of PRODS) assert.ok(!hasId(h, testId('ragflowauth-backend:v2')), `${h} got no image`);
    authorize('prod2', pubs);
    const r = rf(['promote', '--yes', '--relay', '--direct', '-v'], cfg);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /relay: each host passes the images on as it loads them: image [0-9a-f]{12}: test → prod → prod2 → prod3/, r.out);
    assert.match(r.out, /relayed: prod2 takes the stream from prod \(/);
    assert.match(r.out, /relayed: prod3 takes the stream from prod2 \(/);
    assert.doesNotMatch(r.out, /pulling it from test instead/, 'no hop fell back to TEST');
    assert.equal((r.out.match(/taken from prod2? as it loaded the stream/g) ?? []).length, 4, 'two images, two followers each');
    assert.match(r.out, /released to 3 host\(s\): prod, prod2, prod3/);
    for (const h of PRODS) for (const c of APP) assert.equal(imageOf(h, c), `${c}:v2`, `${h} ${c}`);
    // the pass-on files are gone
    for (const h of ['prod', 'prod2']) assert.equal(ex(h, 'ls /tmp | grep -c "^releaseflow-xfer-" || true').trim(), '0', `${h} /tmp`);
  });
  test('the dashboard releases the fleet: its plan shows every host, Release runs the rollout, Roll back undoes every host', async () => {
    lab(['seed']);
    const cfg = fleetConfig('rollout: { canary: 1, batch: 2 }\n');
    const ui = await startUi(cfg);
    try {
      const plan = await (await fetch(`${ui.base}/api/plan?token=${ui.token}`)).json();
      assert.equal(plan.to.name, 'prod, prod2, prod3');
      for (const h of PRODS) assert.ok(plan.steps.some((s: { host: string; name: string }) => s.host === h && s.name.startsWith(`${h}: transfer`)), `the plan moves the images to ${h}`);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        page.on('pageerror', (e) => assert.fail(`error on the page: ${e.message}`));
        await page.goto(ui.url);
        await page.locator('#release-button:enabled', { hasText: 'Release TEST → PROD, PROD2, PROD3' }).click({ timeout: 60_000 });
        await page.locator('#confirm').waitFor();
        const text = ((await page.locator('#confirm').textContent()) ?? '').replace(/\s+/g, ' ');
        assert.match(text, /Release TEST → PROD, PROD2, PROD3\?/);
        assert.equal(text.match(/ragflowauth-backend: ragflowauth-backend:v1 → ragflowauth-backend:v2/g)?.length, 1, 'each container once');
        assert.match(text, /a canary and batches/);
        await page.locator('#confirm-ok').click();
        // the run as the server knows it: a fleet's run ends after its last host (each host's own result shows on the page before)
        const runEnded = async (kind: string) => {
          const deadline = Date.now() + 300_000;
          for (;;) {
            const st = (await (await fetch(`${ui.base}/api/run?token=${ui.token}`)).json()).state;
            if (st?.kind === kind && st.running === false) return st.exitCode as number;
            assert.ok(Date.now() < deadline, `the dashboard's ${kind} ended`);
            await sleep(1000);
          }
        };
        assert.equal(await runEnded('promote'), 0, 'the rollout from the dashboard exits 0');
        await page.locator('#run-result[data-result="released"]').waitFor({ timeout: 60_000 });
        for (const h of PRODS) for (const c of APP) assert.equal(imageOf(h, c), `${c}:v2`, `${h} ${c} released from the dashboard`);
        await page.locator('#rollback-button:enabled', { hasText: 'Roll back PROD, PROD2, PROD3' }).click();
        await page.locator('#confirm').waitFor();
        assert.match(((await page.locator('#confirm').textContent()) ?? '').replace(/\s+/g, ' '), /Bring back on each host \(the last first\)/);
        await page.locator('#confirm-ok').click();
        await page.locator('#run-title', { hasText: 'rollback' }).waitFor({ timeout: 30_000 });
        assert.equal(await runEnded('rollback'), 0, 'the rollback of every host exits 0');
        for (const h of PRODS) for (const c of APP) assert.equal(imageOf(h, c), `${c}:v1`, `${h} ${c} back on v1`);
      } finally {
        await browser.close();
      }
      assert.deepEqual(historyOf('prod').map((e) => `${e.kind} ${e.result}`).slice(-2), ['promote released', 'rollback released']);
    } finally {
      await ui.stop();
    }
  });
});
