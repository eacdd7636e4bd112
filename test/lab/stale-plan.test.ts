// A plan never goes stale: the hosts change while the operator reads the plan (here: TEST moves to
// v3 and PROD's containers are re-created); after the lock, promote sees it, says what changed and
// stops (--yes) or asks again, and PROD is left exactly as it was.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openSession } from '../../src/workflows/session.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { Plan } from '../../src/core/step.ts';
import { promote } from '../../src/workflows/promote.ts';
import { labInfo, labInspect, labScript, labSkip } from './lab.ts';

const APP = ['ragflowauth-backend', 'ragflowauth-frontend'];
const prodIds = () => APP.map((n) => `${labInspect('prod', n).Id} ${labInspect('prod', n).Image}`);

async function promoteWith(confirm: (plan: Plan, n: number) => Promise<boolean>, assumeYes: boolean) {
  const config = loadConfig(labInfo()!.config);
  const s = openSession(config, [config.from, config.to], { json: true, log: true });
  let n = 0;
  try {
    const r = await promote(s.ports, { assumeYes, signal: s.signal, confirm: (p) => confirm(p, ++n) });
    const warnings = s.events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
    return { code: r.code, asked: n, warnings };
  } finally {
    await s.close();
  }
}

describe('stale plan', labSkip(), () => {
  test('--yes: the hosts changed at the prompt → exit 1, says what changed, PROD as the change left it', async () => {
    labScript(['seed']);
    let after: string[] = [];
    const r = await promoteWith(async () => {
      labScript(['seed', 'v3']); // TEST now runs v3, PROD's v1 containers are re-created
      after = prodIds();
      return true;
    }, true);
    assert.equal(r.code, 1);
    assert.match(r.warnings.join('\n'), /the hosts changed after the plan was made; now: .*ragflowauth-backend: prod container [0-9a-f]{12} .*test on ragflowauth-backend:v3/);
    assert.deepEqual(prodIds(), after, 'nothing changed on PROD after the plan went stale');
  });

  test('asked again with the new plan; a no there changes nothing (exit 2)', async () => {
    labScript(['seed']);
    const plans: Plan[] = [];
    let after: string[] = [];
    const r = await promoteWith(async (plan, n) => {
      plans.push(plan);
      if (n === 1) {
        labScript(['seed', 'v3']);
        after = prodIds();
        return true;
      }
      return false;
    }, false);
    assert.equal(r.code, 2);
    assert.equal(r.asked, 2);
    assert.deepEqual(plans.map((p) => p.containers[0]!.fromRef), ['ragflowauth-backend:v2', 'ragflowauth-backend:v3']);
    assert.deepEqual(prodIds(), after);
  });

  test('nothing changed at the prompt: asked once, released', async () => {
    labScript(['seed']);
    const r = await promoteWith(async () => true, true);
    assert.equal(r.code, 0);
    assert.equal(r.asked, 1);
    assert.match(labInspect('prod', 'ragflowauth-backend').Config.Image, /:v2$/);
  });
});
