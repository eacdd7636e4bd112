// Drift between TEST's and PROD's settings of a container, on inspect JSON captured from the lab.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { driftOf } from '../../src/core/drift.ts';
import { parseImageInspect, parseInspect } from '../../src/core/inspect.ts';
import { toRunSpec } from '../../src/core/runspec.ts';
import { fixture } from './fixtures.ts';

const testC = fixture('test-backend-v2.inspect.json');
const prodC = fixture('prod-backend-v1.inspect.json');
const testImg = fixture('image-backend-v2.inspect.json');
const prodImg = fixture('image-backend-v1.inspect.json');
const spec = (c: any, img: any) => toRunSpec(parseInspect(c), parseImageInspect(img)).spec;
const SECRETS = ['test-Pa55-test', 'test-secret-value', 's3cr3t-Pa55', 'another-secret-value'];

test("the lab's seed: only the secrets differ, and their values are never shown; the image's APP_VERSION is no drift", () => {
  const d = driftOf('ragflowauth-backend', spec(testC, testImg), spec(prodC, prodImg), ['EXTRA_SECRET_NAME']);
  assert.deepEqual(
    d.map((x) => x.detail),
    ['env DB_PASSWORD: differs (secret: values not shown)', 'env EXTRA_SECRET_NAME: differs (secret: values not shown)'],
  );
  for (const s of SECRETS) assert.ok(!JSON.stringify(d).includes(s));
});

test('a setting TEST has and PROD lacks: env, port, label, restart policy, each named', () => {
  const t = structuredClone(testC);
  t.Config.Env = [...t.Config.Env, 'FEATURE_X=on', 'NEW_API_TOKEN=tok-123456'];
  t.Config.Labels = { ...t.Config.Labels, tier: 'gold' };
  t.HostConfig.PortBindings = { ...t.HostConfig.PortBindings, '9090/tcp': [{ HostIp: '', HostPort: '9090' }] };
  t.HostConfig.RestartPolicy = { Name: 'always', MaximumRetryCount: 0 };
  const d = driftOf('ragflowauth-backend', spec(t, testImg), spec(prodC, prodImg));
  const details = d.map((x) => x.detail);
  assert.ok(details.includes('env FEATURE_X: only on TEST (on)'), details.join('\n'));
  assert.ok(details.includes('env NEW_API_TOKEN: only on TEST ((secret))'));
  assert.ok(details.includes('label tier: only on TEST (gold)'));
  assert.ok(d.some((x) => x.kind === 'publish' && /9090/.test(x.detail)));
  assert.ok(details.includes('--restart: TEST always, PROD unless-stopped'), details.join('\n'));
  assert.ok(!details.some((x) => x.startsWith('--memory')), 'the same memory limit is no drift');
  assert.ok(!JSON.stringify(d).includes('tok-123456'));
});

test('the same settings on both: no drift', () => {
  assert.deepEqual(driftOf('x', spec(prodC, prodImg), spec(prodC, prodImg)), []);
});

test('carryEnv: the named values from the source, in place; absent at the source means removed; other entries untouched', async () => {
  const { carryEnv } = await import('../../src/workflows/rebuild.ts');
  const { parseCarry } = await import('../../src/core/drift.ts');
  assert.deepEqual(carryEnv(['A=1', 'B=2', 'C=3'], ['B=test', 'D=new', 'A=x'], ['B', 'D', 'C']), ['A=1', 'B=test', 'D=new']);
  assert.deepEqual(parseCarry(['env:A,env:B_2', ' env:C ']), ['A', 'B_2', 'C']);
  assert.throws(() => parseCarry(['env:$(id)']), /only env:NAME can be carried/);
});
