// promote --carry env:NAME: a setting TEST has and PROD's container keeps otherwise (drift) comes with
// the release, shown in the plan (value masked when secret), recorded in history, undone by rollback.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labInspect, labScript, labSkip, releaseflow } from './lab.ts';

const envOf = (host: string, name: string) => (labInspect(host, 'ragflowauth-backend').Config.Env as string[]).find((e) => e.startsWith(`${name}=`));

describe('promote --carry', labSkip(), () => {
  test('a secret that differs is carried from TEST, masked everywhere, in history, and rollback brings PROD its own back', () => {
    labScript(['seed']);
    const prodValue = envOf('prod', 'DB_PASSWORD');
    const testValue = envOf('test', 'DB_PASSWORD');
    assert.notEqual(prodValue, testValue, 'the seed gives the two hosts different secrets');
    const plan = releaseflow(['plan', '--carry', 'env:DB_PASSWORD']);
    assert.equal(plan.code, 0, plan.out);
    assert.match(plan.out, /env DB_PASSWORD: differs \(secret: values not shown\); carried: this release sets test's/);
    const r = releaseflow(['promote', '--yes', '--carry', 'env:DB_PASSWORD']);
    assert.equal(r.code, 0, r.out);
    assert.equal(envOf('prod', 'DB_PASSWORD'), testValue);
    assert.equal(envOf('prod', 'GREETING'), envOf('test', 'GREETING'));
    for (const v of [prodValue, testValue]) assert.ok(!r.out.includes(v!.slice('DB_PASSWORD='.length)), 'no secret value in the output');
    const h = JSON.parse(releaseflow(['history', '--json']).stdout);
    const last = (Array.isArray(h) ? h : h.entries ?? h.history).at(-1);
    assert.deepEqual(last.carried, ['env:DB_PASSWORD']);
    const rb = releaseflow(['rollback', '--yes']);
    assert.equal(rb.code, 0, rb.out);
    assert.equal(envOf('prod', 'DB_PASSWORD'), prodValue);
  });

  test('anything but env:NAME is refused before anything changes (exit 2)', () => {
    const r = releaseflow(['promote', '--yes', '--carry', 'ports:8001']);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /only env:NAME can be carried today/);
  });
});
