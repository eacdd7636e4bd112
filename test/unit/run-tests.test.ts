// The test runner's planning (scripts/run-tests.ts): which jobs a run makes of its files, in what order,
// and the labs its lanes use. Pure: nothing is run.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fmt, jobsOf, laneEnv } from '../../scripts/run-tests.ts';
import { CASES } from '../lab/engine-cases.ts';

const REPO = new URL('../..', import.meta.url).pathname;
const lab = (...names: string[]) => names.map((n) => join(REPO, 'test/lab', `${n}.test.ts`));

test('engine cases: one job each for all or a list; none (or unset) keeps the one file, whose cases then skip', () => {
  const all = jobsOf('lab', lab('engines'), { RELEASEFLOW_TEST_ENGINES: 'all' });
  assert.deepEqual(all.map((j) => j.env.RELEASEFLOW_TEST_ENGINES), CASES.map((c) => c.name));
  assert.ok(all.every((j) => j.ownLab), 'engine cases bring their own labs');
  assert.deepEqual(jobsOf('lab', lab('engines'), { RELEASEFLOW_TEST_ENGINES: '26.1, 28.5' }).map((j) => j.label), ['lab/engines.test.ts [26.1]', 'lab/engines.test.ts [28.5]']);
  for (const env of [{ RELEASEFLOW_TEST_ENGINES: 'none' }, {}]) assert.deepEqual(jobsOf('lab', lab('engines'), env).map((j) => j.env), [{}]);
});

test('RF_TEST_SKIP leaves named files out; weights put the long files first; own-lab files need no lane lab', () => {
  const jobs = jobsOf('lab', lab('compose', 'release', 'swarm', 'fleet', 'transfer'), { RF_TEST_SKIP: 'fleet,transfer' });
  assert.deepEqual(jobs.map((j) => j.label), ['lab/compose.test.ts', 'lab/release.test.ts', 'lab/swarm.test.ts']);
  const w = Object.fromEntries(jobs.map((j) => [j.label, j.weight]));
  assert.ok(w['lab/compose.test.ts']! > w['lab/release.test.ts']!);
  assert.deepEqual(jobs.map((j) => j.ownLab), [false, false, true]);
  // unit files that wait on real timers first; an engine pair (half a case) after the engines' own cases
  const unit = jobsOf('unit', ['test/unit/cli.test.ts', 'test/unit/journal.test.ts']);
  assert.ok(unit[1]!.weight > unit[0]!.weight);
  const eng = Object.fromEntries(jobsOf('lab', lab('engines'), { RELEASEFLOW_TEST_ENGINES: 'all' }).map((j) => [j.env.RELEASEFLOW_TEST_ENGINES, j.weight]));
  assert.ok(eng['28.5']! > eng['20.10-to-28.5-containerd']!);
});

test('lanes: lane 1 is the caller lab; the others are labs of their own, valid and distinct for lab.sh', () => {
  assert.deepEqual(laneEnv(0, { LAB_DIR: '/x/lab' }), {});
  const lanes = [1, 2, 3].map((n) => laneEnv(n, { LAB_DIR: '/x/lab' }));
  assert.deepEqual(lanes[0], { LAB_DIR: '/x/lab-lane2', LAB_PREFIX: 'rfq2', LAB_NET: '10.213.72' });
  for (const l of lanes) assert.match(l.LAB_PREFIX!, /^[a-z][a-z0-9]{0,7}$/, 'lab.sh accepts the prefix');
  assert.equal(new Set(lanes.map((l) => l.LAB_NET)).size, 3);
  // the labs of the files with their own (engine cases, containerd, fleet, swarm) keep other prefixes and nets
  const taken = new Set([...CASES.map((c) => c.net), '10.213.56', '10.213.58', '10.213.67', '10.213.7']);
  for (const l of lanes) assert.equal(taken.has(l.LAB_NET!), false, `${l.LAB_NET} is no other lab's`);
  assert.deepEqual(laneEnv(2, { LAB_DIR: '/y', RF_TEST_LANE_PREFIX: 'rfg', RF_TEST_LANE_NET: '10.213.8' }), { LAB_DIR: '/y-lane3', LAB_PREFIX: 'rfg3', LAB_NET: '10.213.83' });
});

test('durations: seconds under a minute, then whole minutes and seconds (never 4m60s)', () => {
  assert.deepEqual([fmt(9_640), fmt(299_600), fmt(60_000), fmt(2_476_000)], ['9.6s', '5m00s', '1m00s', '41m16s']);
});
