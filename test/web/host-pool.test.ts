// The dashboard keeps one SSH host per name for its answers: opened on first use, reused, replaced after a
// lost connection or a long idle, closed with the dashboard.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SshHost } from '../../src/adapters/ssh.ts';
import type { Config } from '../../src/core/config.ts';
import { HostUnreachableError } from '../../src/core/errors.ts';
import { HostPool } from '../../src/web/host-pool.ts';

/** Fake hosts that count how often they are opened, connected and closed. */
function fakes() {
  const count = { opened: 0, connects: 0, closed: 0 };
  const opener = (_c: Config, names: readonly string[]) =>
    new Map(
      names.map((n) => {
        count.opened++;
        let up = false;
        const h = {
          name: n,
          connect: async () => {
            if (up) return;
            count.connects++;
            up = true;
          },
          close: async () => {
            count.closed++;
          },
        };
        return [n, h as unknown as SshHost];
      }),
    );
  return { count, opener };
}

const config = {} as Config;

test('several answers, also at once, share one opened and connected host per name', async () => {
  const { count, opener } = fakes();
  const pool = new HostPool(config, { opener });
  const answer = (names: string[]) => pool.use(names, async (hosts) => Promise.all([...hosts.values()].map((h) => h.connect())));
  // what the page polls: status, plan, doctor (both hosts), history and logs (PROD)
  await Promise.all([answer(['test', 'prod']), answer(['test', 'prod']), answer(['prod'])]);
  await answer(['test', 'prod']);
  await answer(['prod']);
  assert.deepEqual(count, { opened: 2, connects: 2, closed: 0 });
  await pool.close();
  assert.equal(count.closed, 2);
});

test('a lost connection or a long idle: the host is closed and opened afresh for the next answer', async () => {
  const { count, opener } = fakes();
  let now = 0;
  const pool = new HostPool(config, { opener, maxIdleMs: 90_000, now: () => now });
  const connect = (hosts: Map<string, SshHost>) => hosts.get('prod')!.connect();
  await pool.use(['prod'], connect);
  await assert.rejects(
    pool.use(['prod'], async () => {
      throw new HostUnreachableError('the connection to prod was lost', { host: 'prod' });
    }),
  );
  await pool.use(['prod'], connect);
  assert.deepEqual(count, { opened: 2, connects: 2, closed: 1 });
  now += 60_000;
  await pool.use(['prod'], connect);
  assert.equal(count.opened, 2, 'within the idle limit: kept');
  now += 120_000;
  await pool.use(['prod'], connect);
  assert.deepEqual(count, { opened: 3, connects: 3, closed: 2 });
});

test('a host in use is not replaced under a running answer', async () => {
  const { count, opener } = fakes();
  let now = 0;
  const pool = new HostPool(config, { opener, now: () => now });
  let release = () => {};
  const long = pool.use(['prod'], () => new Promise<void>((r) => (release = r)));
  now += 200_000;
  await pool.use(['prod'], async () => undefined);
  assert.equal(count.opened, 1);
  release();
  await long;
  await pool.close();
  assert.equal(count.closed, 1);
});
