import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/core/config.ts';
import { ConfigError } from '../../src/core/errors.ts';

const BASE = `app: ragflowauth
hosts:
  test: { address: 10.0.0.1 }
  prod: { address: 10.0.0.2 }
containers: [ragflowauth-backend]
`;

function configError(extra: string): ConfigError {
  try {
    parseConfig(BASE + extra, '/tmp/rf.yml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.exitCode, 2);
    return e;
  }
  assert.fail('expected a config error');
}

test('hooks and notify: defaults, short and long forms', () => {
  const c = parseConfig(`${BASE}hooks:\n  timeout: 2m\n  pre: ./drain.sh\n  post: { command: "curl -f localhost", on: prod, timeout: 30s }\nnotify:\n  webhook: https://hooks.example.com/x\n  command: ./tell.sh\n`, '/tmp/rf.yml');
  assert.deepEqual(c.hooks.pre, { command: './drain.sh', on: 'local', timeoutMs: 120_000 });
  assert.deepEqual(c.hooks.post, { command: 'curl -f localhost', on: 'prod', timeoutMs: 30_000 });
  assert.equal(c.hooks.rollback, undefined);
  assert.deepEqual(c.notify, { webhooks: ['https://hooks.example.com/x'], command: './tell.sh', timeoutMs: 10_000 });
  const none = parseConfig(BASE, '/tmp/rf.yml');
  assert.deepEqual(none.hooks, {});
  assert.equal(none.notify, undefined);
  assert.deepEqual(parseConfig(`${BASE}notify: { webhook: [http://a/1, http://b/2] }\n`, '/tmp/rf.yml').notify?.webhooks, ['http://a/1', 'http://b/2']);
});

test('bad hooks and notify values are config errors naming the key and the fix', () => {
  let e = configError('notify:\n  webhook: ftp://x\n');
  assert.match(e.message, /notify\.webhook: expected an http:\/\/ or https:\/\/ URL/);
  e = configError('notify: {}\n');
  assert.match(e.message, /notify: set webhook:/);
  e = configError('hooks:\n  pre: { command: x, on: staging }\n');
  assert.match(e.message, /hooks\.pre\.on: names host 'staging', which is not under hosts/);
  assert.match(e.detail.fix ?? '', /local/);
  e = configError('hooks:\n  pre: ""\n');
  assert.match(e.message, /hooks\.pre/);
  e = configError('hooks:\n  post: { command: x, timeout: soon }\n');
  assert.match(e.message, /hooks\.post\.timeout: expected a duration/);
  // migrate (issue 16) runs in a configured container's settings: another name is refused
  e = configError('hooks:\n  migrate: { command: x, container: nowhere }\n');
  assert.match(e.message, /hooks\.migrate\.container: names container 'nowhere', which is not under containers/);
  e = configError('hooks:\n  migrate: { command: x, on: prod }\n');
  assert.match(e.message, /hooks\.migrate/);
});
