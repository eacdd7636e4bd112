// A release on the lab with releaseflow as a user installs it: the packed tarball installed with
// `npm install -g` into an empty prefix (no tsx, no typescript: it runs dist/), then plan and promote.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cleanEnv, type Packed, packAndInstall, run } from '../unit/packed.ts';
import { labInfo, labInspect, labScript, labSkip } from './lab.ts';

const APP = ['ragflowauth-backend', 'ragflowauth-frontend'];

describe('a release on the lab with the installed package', { ...labSkip(), timeout: 1_200_000 }, () => {
  let p: Packed;
  before(() => {
    labScript(['seed']);
    p = packAndInstall();
    process.stdout.write(`# npm pack (with the build) ${(p.packMs / 1000).toFixed(1)}s, npm install -g ${(p.installMs / 1000).toFixed(1)}s\n`);
  });
  after(() => p?.remove());

  /** The installed command against the lab's config, run from the temp dir (not the clone). */
  const installed = (args: string[]) => {
    const r = run(p.bin, args, { cwd: p.dir, env: cleanEnv({ RELEASEFLOW_CONFIG: labInfo()!.config }) });
    return { code: r.status, stdout: r.stdout, out: r.stdout + r.stderr };
  };

  test('plan shows the release and changes nothing', () => {
    const pre = APP.map((n) => labInspect('prod', n).Id);
    const r = installed(['plan']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.stdout, /step 1\/\d+ snapshot on prod/);
    assert.match(r.stdout, /docker create --name ragflowauth-backend/);
    assert.deepEqual(
      APP.map((n) => labInspect('prod', n).Id),
      pre,
      'PROD unchanged',
    );
  });

  test("promote --yes: PROD runs TEST's images, healthy", () => {
    const testSide = Object.fromEntries(APP.map((n) => [n, labInspect('test', n).Image]));
    assert.notDeepEqual(
      APP.map((n) => labInspect('prod', n).Image),
      APP.map((n) => testSide[n]),
      'the seed differs before the release',
    );
    const r = installed(['promote', '--yes']);
    assert.equal(r.code, 0, r.out);
    for (const n of APP) {
      const c = labInspect('prod', n);
      assert.equal(c.Image, testSide[n], `${n} runs TEST's image`);
      assert.equal(c.State.Running, true, `${n} running`);
      assert.ok(c.Config.Env.includes('APP_VERSION=v2'), `${n} is v2`);
    }
    const again = installed(['promote', '--yes']);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /already up to date/);
  });
});
