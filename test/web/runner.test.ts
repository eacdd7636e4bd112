// The release runner without hosts: one run at a time (409), every listener gets the events, replay after an ID.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Session } from '../../src/workflows/session.ts';
import { parseConfig } from '../../src/core/config.ts';
import { HostUnreachableError } from '../../src/core/errors.ts';
import { EventBus } from '../../src/events/bus.ts';
import type { HttpError } from '../../src/web/http.ts';
import { ReleaseRunner, type RunMessage } from '../../src/web/runner.ts';

const CONFIG = parseConfig('app: a\nhosts:\n  test: { address: 192.0.2.1 }\n  prod: { address: 192.0.2.2 }\ncontainers: [web]\n', '/tmp/releaseflow.yml');

/** A session whose hosts fail to connect once `fail` is called: promote then reports the failure as events. */
function fakeSession() {
  let fail!: () => void;
  const gate = new Promise<void>((_, reject) => {
    fail = () => reject(new HostUnreachableError('test is unreachable', { fix: 'check the network' }));
  });
  const host = { connect: () => gate, name: 'test' };
  const bus = new EventBus();
  const session = {
    ports: { config: CONFIG, hosts: new Map([['test', host], ['prod', host]]), bus, clock: () => new Date() },
    signal: new AbortController().signal,
    events: bus.history,
    close: async () => {},
  } as unknown as Session;
  return { session, fail };
}

test('a second release while one runs is refused with 409; all listeners see the run; a late page replays it', async () => {
  const fake = fakeSession();
  const runner = new ReleaseRunner(CONFIG, () => fake.session);
  const seen: RunMessage[] = [];
  const other: RunMessage[] = [];
  runner.subscribe((m) => seen.push(m));
  runner.subscribe((m) => other.push(m));

  const state = runner.startPromote();
  assert.equal(state.running, true);
  assert.throws(() => runner.startPromote(), (e: HttpError) => e.status === 409 && /still running/.test(e.message) && /wait/.test(e.fix ?? ''));
  assert.throws(() => runner.startRollback(), (e: HttpError) => e.status === 409);

  fake.fail();
  await runner.idle();
  assert.equal(runner.state()?.running, false);
  assert.equal(runner.state()?.exitCode, 1);
  const types = seen.map((m) => (m.type === 'state' ? `state:${m.state.running}` : m.event.type));
  assert.deepEqual(types, ['state:true', 'release-started', 'release-finished', 'state:false']);
  assert.deepEqual(other, seen);
  const fin = seen.find((m) => m.type === 'event' && m.event.type === 'release-finished');
  assert.match(fin?.type === 'event' && fin.event.type === 'release-finished' ? fin.event.message : '', /test is unreachable[\s\S]*fix: +check the network/);

  assert.deepEqual(runner.eventsSince(undefined, 0)?.events.map((e) => e.seq), [1, 2]);
  assert.deepEqual(runner.eventsSince(state.run, 1)?.events.map((e) => e.seq), [2]);
  assert.deepEqual(runner.eventsSince(state.run - 1, 1)?.events.map((e) => e.seq), [1, 2], 'an ID of another run replays this run from its start');
});
