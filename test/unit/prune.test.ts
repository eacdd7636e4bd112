// The prune script, run by the real /bin/sh against a stub docker that lists containers and tags and logs removals.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildPruneScript } from '../../src/core/prune.ts';

const CONTAINERS = [
  'my.web',
  'my.web-rf-prev-20260101T000000Z',
  'my.web-rf-prev-20260301T000000Z',
  'my.web-rf-prev-20260201T000000Z',
  'my.web-rf-prev-20260401T000000Z',
  // not ours: another container whose name the dot would match, a name with a suffix, a bad id
  'myxweb-rf-prev-20250101T000000Z',
  'my.web-rf-prev-20250101T000000Z-copy',
  'my.web-rf-prev-latest',
];
const TAGS = ['releaseflow-prev/my.web:20260101T000000Z', 'releaseflow-prev/my.web:20260401T000000Z', 'releaseflow-prev/my.web:20260201T000000Z', 'releaseflow-prev/my.web:20260301T000000Z'];

function run(keep: number, inUse = '') {
  const dir = mkdtempSync(join(tmpdir(), 'rf-prune-'));
  const log = join(dir, 'log');
  writeFileSync(
    join(dir, 'docker'),
    `#!/bin/sh
case "$1" in
  ps) printf '%s\\n' ${CONTAINERS.map((c) => `'${c}'`).join(' ')} ;;
  images) [ "$4" = releaseflow-prev/my.web ] && printf '%s\\n' ${TAGS.map((t) => `'${t}'`).join(' ')} ;;
  rm) echo "rm $2" >>${log} ;;
  rmi) [ "$2" = '${inUse}' ] && { echo 'image is being used by running container' >&2; exit 1; }; echo "rmi $2" >>${log} ;;
esac
`,
  );
  chmodSync(join(dir, 'docker'), 0o755);
  const r = spawnSync('sh', ['-c', buildPruneScript('my.web', 'releaseflow-prev/my.web:20260401T000000Z', keep)], { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin` } });
  assert.equal(r.status, 0, r.stderr);
  return { out: r.stdout.trim().split('\n').filter(Boolean), done: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [] };
}

test('prune keeps the newest releases of this container and removes only older ones of its own', () => {
  const { out, done } = run(2);
  assert.deepEqual(done, ['rm my.web-rf-prev-20260201T000000Z', 'rm my.web-rf-prev-20260101T000000Z', 'rmi releaseflow-prev/my.web:20260201T000000Z', 'rmi releaseflow-prev/my.web:20260101T000000Z']);
  assert.deepEqual(out, ['rf-pruned removed my.web-rf-prev-20260201T000000Z', 'rf-pruned removed my.web-rf-prev-20260101T000000Z', 'rf-pruned untagged releaseflow-prev/my.web:20260201T000000Z', 'rf-pruned untagged releaseflow-prev/my.web:20260101T000000Z']);
});

test('prune removes nothing while there are no more releases than it keeps; an image in use stays and is not reported', () => {
  assert.deepEqual(run(4), { out: [], done: [] });
  const { out, done } = run(3, 'releaseflow-prev/my.web:20260101T000000Z');
  assert.deepEqual(done, ['rm my.web-rf-prev-20260101T000000Z']);
  assert.deepEqual(out, ['rf-pruned removed my.web-rf-prev-20260101T000000Z']);
});
