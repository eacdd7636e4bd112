// URL credentials (`postgres://app:pw@db`, `redis://:pw@host`, a DSN's key) are masked whatever the env's
// name: in the redactor (log, --json, dashboard, SSE), in every rendered command and the readable docker run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderComposeFile } from '../../src/core/compose-export.ts';
import { driftOf } from '../../src/core/drift.ts';
import { parseImageInspect, parseInspect } from '../../src/core/inspect.ts';
import type { ContainerInput } from '../../src/core/plan.ts';
import { planPromotion } from './plan-helpers.ts';
import { MASK, maskArgv, maskUrlCredentials, Redactor, urlCredentials } from '../../src/core/redact.ts';
import { renderPlan } from '../../src/core/render-plan.ts';
import { toRunSpec } from '../../src/core/runspec.ts';
import { EventBus } from '../../src/events/bus.ts';
import { rebuildContainer } from '../../src/workflows/rebuild.ts';
import { registerSecrets } from '../../src/workflows/secrets.ts';
import { fixture } from './fixtures.ts';

const M = MASK;
const URL_ENV = ['DATABASE_URL=postgres://app:pg-Pw-1234@db:5432/app', 'REDIS_URL=redis://:r3dis-pw@redis:6379/0', 'SENTRY_DSN=https://abc123publickey@o1.ingest.sentry.io/42'];
const CREDS = ['pg-Pw-1234', 'r3dis-pw', 'abc123publickey'];

test('maskUrlCredentials: the userinfo credential goes, scheme, user and host stay', () => {
  const cases: [string, string][] = [
    ['postgres://app:pw-1@db/app', `postgres://app:${M}@db/app`],
    ['redis://:pw-1@host:6379/0', `redis://:${M}@host:6379/0`],
    ['https://key123@sentry.io/1', `https://${M}@sentry.io/1`],
    ['amqp://u:p@ss@mq:5672 then http://a:b@c', `amqp://u:${M}@mq:5672 then http://a:${M}@c`],
    ["-e 'DATABASE_URL=mysql://root:it'\\''s@db/x'", `-e 'DATABASE_URL=mysql://root:${M}@db/x'`],
    ['{"url":"postgres://a:bcd@c/d","mail":"x@y"}', `{"url":"postgres://a:${M}@c/d","mail":"x@y"}`],
    // no userinfo: left alone
    ['http://host/path?next=a@b', 'http://host/path?next=a@b'],
    ['deploy@10.0.0.6 mailto:x@y', 'deploy@10.0.0.6 mailto:x@y'],
    [`postgres://app:${M}@db`, `postgres://app:${M}@db`],
  ];
  for (const [input, want] of cases) assert.equal(maskUrlCredentials(input), want, input);
  assert.deepEqual(urlCredentials([...URL_ENV, 'X=postgres://app@db', 'Y=http://a:bc@h']), ['pg-Pw-1234', 'r3dis-pw'], 'passwords of 3 characters or more; a bare user name is no password');
});

test('masked argv: secret names by name, URL credentials in every argument', () => {
  assert.deepEqual(maskArgv(['docker', 'run', '-e', 'API_TOKEN=t0k', '-e', URL_ENV[0]!, '--env=REDIS_URL=redis://:pw9@r', '--health-cmd', 'wget -q http://admin:hc-pw@127.0.0.1/', 'img']), [
    'docker', 'run', '-e', `API_TOKEN=${M}`, '-e', `DATABASE_URL=postgres://app:${M}@db:5432/app`, `--env=REDIS_URL=redis://:${M}@r`, '--health-cmd', `wget -q http://admin:${M}@127.0.0.1/`, 'img',
  ]);
});

test('the redactor masks URL credentials in any text, and the observed passwords wherever they stand', () => {
  assert.equal(new Redactor().redact('connecting to postgres://app:x-y-z@db/app'), `connecting to postgres://app:${M}@db/app`);
  const bus = new EventBus();
  const c = { Name: '/ragflowauth-backend', Config: { Image: 'ragflowauth-backend:v1', Env: URL_ENV } };
  registerSecrets(bus, { app: 'ragflowauth', secrets: [] }, [c], ['test', 'prod']);
  bus.info('FATAL: password authentication failed (password pg-Pw-1234); DSN https://abc123publickey@o1.ingest.sentry.io/42');
  const seen = JSON.stringify(bus.history.at(-1));
  for (const s of CREDS) assert.ok(!seen.includes(s), s);
  assert.match(seen, /o1\.ingest\.sentry\.io/);
});

test('the plan (its docker run and every command) and run-command never show URL credentials', () => {
  const target = structuredClone(fixture('prod-backend-v1.inspect.json'));
  target.Config.Env = [...target.Config.Env, ...URL_ENV];
  const c: ContainerInput = {
    name: 'ragflowauth-backend', healthTimeoutMs: 1000, targetMode: 'run', targetHasSourceImage: true,
    source: fixture('test-backend-v2.inspect.json'), sourceImage: fixture('image-backend-v2.inspect.json'), target, targetImage: fixture('image-backend-v1.inspect.json'),
  };
  const plan = planPromotion({
    app: 'ragflowauth', releaseId: 'R1', stateDir: '/var/lib/releaseflow', from: { name: 'test', address: 't' }, to: { name: 'prod', address: 'p' }, containers: [c], intervalMs: 1000,
    rebuild: (ci, image, envFile) => rebuildContainer(ci, image, envFile, []),
  });
  const text = renderPlan(plan);
  for (const s of CREDS) assert.ok(!text.includes(s), s);
  assert.match(text, /-e 'DATABASE_URL=postgres:\/\/app:\*{8}@db:5432\/app'/);
  assert.match(text, /-e 'SENTRY_DSN=https:\/\/\*{8}@o1\.ingest\.sentry\.io\/42'/);
});

test('export-compose masks URL credentials unless --reveal, and counts them as secrets (file mode 0600)', () => {
  const s = toRunSpec(parseInspect(fixture('prod-frontend-v1.inspect.json')), parseImageInspect(fixture('image-frontend-v1.inspect.json'))).spec;
  const spec = { ...s, env: ['PLAIN=1', URL_ENV[1]!] };
  const masked = renderComposeFile([{ name: 'web', image: 'web:1', spec }], { app: 'a', format: 'v2', secrets: [], reveal: false });
  assert.ok(!masked.text.includes('r3dis-pw') && masked.text.includes(`REDIS_URL=redis://:${M}@redis:6379/0`));
  assert.equal(masked.hasSecrets, true);
  assert.ok(renderComposeFile([{ name: 'web', image: 'web:1', spec }], { app: 'a', format: 'v2', secrets: [], reveal: true }).text.includes('r3dis-pw'));
});

test('drift shows a URL env with its credentials masked, and says when only they differ', () => {
  const testC = structuredClone(fixture('test-backend-v2.inspect.json'));
  const prodC = structuredClone(fixture('prod-backend-v1.inspect.json'));
  testC.Config.Env = [...testC.Config.Env, 'DATABASE_URL=postgres://app:test-pw@db-test/app', 'CACHE_URL=redis://:c-test@cache/0'];
  prodC.Config.Env = [...prodC.Config.Env, 'DATABASE_URL=postgres://app:prod-pw@db-prod/app', 'CACHE_URL=redis://:c-prod@cache/0'];
  const spec = (c: any, img: string) => toRunSpec(parseInspect(c), parseImageInspect(fixture(img))).spec;
  const d = driftOf('b', spec(testC, 'image-backend-v2.inspect.json'), spec(prodC, 'image-backend-v1.inspect.json')).map((x) => x.detail);
  assert.ok(d.includes(`env DATABASE_URL: TEST postgres://app:${M}@db-test/app, PROD postgres://app:${M}@db-prod/app`), d.join('\n'));
  assert.ok(d.includes('env CACHE_URL: differs in its URL credentials (not shown)'), d.join('\n'));
  assert.ok(!/test-pw|prod-pw|c-test|c-prod/.test(d.join('\n')));
});
