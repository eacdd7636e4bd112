// The test runner behind `npm test`, `npm run test:unit` and `npm run test:lab`: one node:test process per
// file, so every file gets a start line, an end line (elapsed, pass/fail) and the run a summary with the
// slowest files. Unit files run three at a time. Lab files run in lanes (RF_TEST_LANES, default 3): each lane
// is a lab of its own (lane 1 the lab in LAB_DIR; lane N its own LAB_DIR/LAB_PREFIX/LAB_NET, brought up the
// first time a file needs it and taken down at the end), so files that share "the lab" never share it at
// once. Files with labs of their own (engine cases, containerd, fleet, swarm) need no lane's lab. The longest
// files start first (LAB_WEIGHTS: seconds measured on an idle 2-CPU machine), so the lanes end together.
//   node --import tsx scripts/run-tests.ts unit|lab|all [FILE...]   (FILE: a path, or a name like `release`)
// Environment: RF_TEST_VERBOSE=1 prints every file's output, not only a failed file's;
// RF_TEST_FILE_TIMEOUT (seconds, default 1800) stops a file that hangs and counts it as failed;
// RF_TEST_LANES=1 runs the lab files one at a time on the one lab, as before; RF_TEST_SKIP names files left out;
// RELEASEFLOW_TEST_ENGINES (all, none or case names) which engine cases run, each as a job of its own;
// RF_TEST_CLI: the releaseflow entry the lab files run (default: the sources compiled once, see buildCli).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { CASES, isPair } from '../test/lab/engine-cases.ts';
import { basename, join, relative, resolve } from 'node:path';

export type Suite = 'unit' | 'lab';
const SUITES: Record<Suite, string[]> = { unit: ['test/unit', 'test/web'], lab: ['test/lab'] };
const JOBS: Record<Suite, number> = { unit: 3, lab: Math.max(1, Number(process.env.RF_TEST_LANES ?? 3) || 1) };
const REPO = new URL('..', import.meta.url).pathname;
const VERBOSE = process.env.RF_TEST_VERBOSE === '1';
const FILE_TIMEOUT_S = Number(process.env.RF_TEST_FILE_TIMEOUT ?? 1800);

/** One run of one file: a lab file may run several times with different settings (the engine cases). */
export interface Job {
  file: string;
  label: string;
  env: NodeJS.ProcessEnv;
  /** brings up a lab of its own: needs no lane's lab */
  ownLab: boolean;
  weight: number;
}

interface FileResult {
  file: string;
  name: string;
  /** the settings that select this run (an engine case), for the rerun hint */
  env: NodeJS.ProcessEnv;
  ms: number;
  pass: number;
  fail: number;
  skipped: number;
  ok: boolean;
  note?: string;
}

// the machine may be shared: the 1-minute load average beside each time says how much that time means
const load = () => loadavg()[0]!.toFixed(1);
const say = (s: string) => process.stdout.write(`[test] ${s}\n`);
const rel = (f: string) => relative(join(REPO, 'test'), f);

export function fmt(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  // whole seconds first: 299.6 s is 5m00s, not 4m60s
  const r = Math.round(s);
  return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`;
}

function suiteFiles(suite: Suite): string[] {
  return SUITES[suite].flatMap((d) =>
    readdirSync(join(REPO, d))
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => join(REPO, d, f)),
  );
}

/** A path, or a bare name (`release`, `faults-kill.test.ts`) looked up in the suites' folders. */
function resolveFile(arg: string, suites: Suite[]): string {
  if (existsSync(arg)) return resolve(arg);
  const name = arg.endsWith('.test.ts') ? basename(arg) : `${basename(arg)}.test.ts`;
  const dirs = suites.flatMap((s) => SUITES[s]);
  for (const d of dirs) if (existsSync(join(REPO, d, name))) return join(REPO, d, name);
  throw new Error(`no test file ${arg} (looked in ${dirs.join(', ')})`);
}

const suiteOf = (file: string): Suite => (relative(REPO, file).startsWith('test/lab/') ? 'lab' : 'unit');

/** The spec reporter's closing counts (`ℹ pass 3`). */
function counts(out: string): { pass: number; fail: number; skipped: number } {
  const n = (k: string) => Number(out.match(new RegExp(`^ℹ ${k} (\\d+)$`, 'm'))?.[1] ?? 0);
  return { pass: n('pass'), fail: n('fail') + n('cancelled'), skipped: n('skipped') + n('todo') };
}

// children run in their own process group (so a hung file can be stopped whole); Ctrl-C stops them too
const running = new Set<number>();
// imported by its unit test: then it only exports
const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === new URL(import.meta.url).pathname;
if (isMain) {
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      for (const pid of running) stopGroup(pid);
      process.exit(130);
    });
}

function stopGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {}
}

// seconds each lab file took in a lane of CI (59c3e42, 3 lanes): the order in which lanes take them
const LAB_WEIGHTS: Record<string, number> = {
  compose: 240, fleet: 268, swarm: 256, 'faults-kill': 178, engines: 140, 'compose-corpus': 165, 'faults-signals': 142,
  'faults-host': 102, hooks: 83, bootstrap: 79, containerd: 77, dashboard: 72, 'runspec-roundtrip': 65, sudo: 60,
  direct: 51, release: 46, 'stale-plan': 32, package: 27, 'faults-input': 24,
};
// unit files that wait on real timers start first, so the small ones fill the other slots
const UNIT_WEIGHTS: Record<string, number> = { journal: 18, 'undo-lock': 16, package: 9, server: 4, hooks: 4, relay: 3 };
/** a mixed pair of engines runs only what crosses the pair (engines.test.ts): about half a case */
const ENGINE_PAIR_WEIGHT = 75;
// these bring up (and take down) labs of their own, with their own LAB_DIR/LAB_PREFIX/LAB_NET
const OWN_LAB = new Set(['engines', 'containerd', 'fleet', 'swarm']);
const stem = (f: string) => basename(f, '.test.ts');

/** The jobs for a suite's files: one per file, and one per selected engine case for engines.test.ts. */
export function jobsOf(suite: Suite, files: string[], env: NodeJS.ProcessEnv = process.env): Job[] {
  const jobs: Job[] = [];
  // RF_TEST_SKIP: file names (e.g. `engines fleet`) this run leaves out, said in the run's first line
  const skip = new Set((env.RF_TEST_SKIP ?? '').split(/[\s,]+/).filter(Boolean));
  for (const file of files) {
    const name = stem(file);
    if (skip.has(name)) continue;
    const base = { file, ownLab: OWN_LAB.has(name), weight: suite === 'lab' ? (LAB_WEIGHTS[name] ?? 15) : (UNIT_WEIGHTS[name] ?? 1) };
    const only = env.RELEASEFLOW_TEST_ENGINES;
    if (name === 'engines' && only && only !== 'none') {
      const picked = only === 'all' ? CASES.map((c) => c.name) : only.split(',').map((x) => x.trim()).filter(Boolean);
      for (const c of picked) {
        const k = CASES.find((x) => x.name === c);
        jobs.push({ ...base, label: `${rel(file)} [${c}]`, env: { RELEASEFLOW_TEST_ENGINES: c }, weight: k && isPair(k) ? ENGINE_PAIR_WEIGHT : base.weight });
      }
    } else jobs.push({ ...base, label: rel(file), env: {} });
  }
  return jobs;
}

/** A lane's lab settings: lane 0 is the lab of the caller's environment; lane N a lab of its own. */
export function laneEnv(lane: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (lane === 0) return {};
  const base = env.LAB_DIR ?? '/tmp/releaseflow-lab';
  // RF_TEST_LANE_PREFIX / RF_TEST_LANE_NET: another set of lanes beside these (npm run test:engines)
  const prefix = env.RF_TEST_LANE_PREFIX ?? 'rfq';
  const net = env.RF_TEST_LANE_NET ?? '10.213.7';
  return { LAB_DIR: `${base}-lane${lane + 1}`, LAB_PREFIX: `${prefix}${lane + 1}`, LAB_NET: `${net}${lane + 1}` };
}

function runCmd(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(args[0]!, args.slice(1), { cwd: REPO, env: { ...process.env, ...env }, detached: true });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    running.add(child.pid!);
    child.on('close', (code) => {
      running.delete(child.pid!);
      resolve({ code, out });
    });
  });
}

function runFile(job: Job, label: string, env: NodeJS.ProcessEnv): Promise<FileResult> {
  const started = Date.now();
  say(`▶ ${label}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', job.file], { cwd: REPO, env: { ...process.env, ...env, ...job.env, FORCE_COLOR: '0' }, detached: true });
    let out = '';
    let done = 0;
    const collect = (b: Buffer) => {
      const s = b.toString();
      out += s;
      done += (s.match(/^\s*[✔✖﹣] /gm) ?? []).length;
      if (VERBOSE) process.stdout.write(s);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    // a long lab file says it is alive once a minute
    const beat = setInterval(() => say(`… ${label} still running: ${fmt(Date.now() - started)}, ${done} test(s) finished`), 60_000);
    running.add(child.pid!);
    let timedOut = false;
    const kill = setTimeout(() => {
      timedOut = true;
      stopGroup(child.pid!);
    }, FILE_TIMEOUT_S * 1000);
    child.on('close', (code) => {
      running.delete(child.pid!);
      clearInterval(beat);
      clearTimeout(kill);
      const c = counts(out);
      const ok = code === 0 && !timedOut;
      const note = timedOut ? `timed out after ${FILE_TIMEOUT_S}s` : !ok && c.fail === 0 ? `exit ${code}` : undefined;
      const r: FileResult = { file: job.file, name: job.label, env: job.env, ms: Date.now() - started, ...c, fail: ok ? c.fail : Math.max(c.fail, 1), ok, note };
      // CI reads a failure in full: the file's whole output, then its end line
      if (!ok && !VERBOSE) process.stdout.write(`${out.replace(/\n?$/, '\n')}`);
      say(`${ok ? '✔' : '✖'} ${label}  ${fmt(r.ms)}  ${c.pass} passed${r.fail ? `, ${r.fail} failed` : ''}${c.skipped ? `, ${c.skipped} skipped` : ''}${note ? ` (${note})` : ''}  [load ${load()}]`);
      resolve(r);
    });
  });
}

async function runSuite(suite: Suite, files: string[]): Promise<FileResult[]> {
  const results: FileResult[] = [];
  const jobs = jobsOf(suite, files);
  const queue = jobs.map((j, i) => ({ j, label: `${suite} ${i + 1}/${jobs.length} ${j.label}` })).sort((a, b) => b.j.weight - a.j.weight);
  const lanes = Math.min(JOBS[suite], jobs.length);
  if (process.env.RF_TEST_SKIP) say(`${suite}: leaving out ${process.env.RF_TEST_SKIP} (RF_TEST_SKIP)`);
  say(`${suite}: ${jobs.length} file(s)${jobs.some((j) => j.env.RELEASEFLOW_TEST_ENGINES) ? ` (the engine cases one by one)` : ''}, ${lanes === 1 ? 'one at a time' : suite === 'lab' ? `in ${lanes} lanes, each on a lab of its own (RF_TEST_LANES)` : `${lanes} at a time`}`);
  const up: (boolean | undefined)[] = [true];
  const worker = async (lane: number) => {
    const env = suite === 'lab' ? laneEnv(lane) : {};
    const tag = suite === 'lab' && lanes > 1 ? ` (lane ${lane + 1})` : '';
    for (let next = queue.shift(); next; next = queue.shift()) {
      // a job on a lane whose lab did not come up fails, naming that
      const laneDown = (ms: number): FileResult => ({ file: next.j.file, name: next.j.label, env: next.j.env, ms, pass: 0, fail: 1, skipped: 0, ok: false, note: `lane ${lane + 1}'s lab did not come up` });
      if (suite === 'lab' && !next.j.ownLab && up[lane] === false) {
        results.push(laneDown(0));
        continue;
      }
      if (suite === 'lab' && !next.j.ownLab && !up[lane]) {
        const t0 = Date.now();
        say(`lane ${lane + 1}: bringing its lab up (lab.sh demo-up in ${env.LAB_DIR})`);
        const r = await runCmd(['bash', 'lab/lab.sh', 'demo-up'], env);
        up[lane] = r.code === 0;
        if (!up[lane]) {
          process.stdout.write(r.out);
          results.push(laneDown(Date.now() - t0));
          say(`✖ ${next.label}: lane ${lane + 1}'s lab did not come up (its output is above)`);
          continue;
        }
        say(`lane ${lane + 1}: lab up in ${fmt(Date.now() - t0)}`);
      }
      results.push(await runFile(next.j, `${next.label}${tag}`, env));
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, i) => worker(i)));
  // the lanes' own labs go; lane 1's lab is the caller's and stays
  await Promise.all(up.map((u, lane) => (lane > 0 && u !== undefined && process.env.RF_TEST_KEEP_LANES !== '1' ? runCmd(['bash', 'lab/lab.sh', 'down'], laneEnv(lane)) : undefined)));
  return results;
}

function summary(results: FileResult[], ms: number): void {
  const sum = (k: 'pass' | 'fail' | 'skipped') => results.reduce((a, r) => a + r[k], 0);
  const failed = results.filter((r) => !r.ok);
  say(`summary: ${results.length} file(s), ${results.length - failed.length} passed, ${failed.length} failed; tests: ${sum('pass')} passed, ${sum('fail')} failed, ${sum('skipped')} skipped; ${fmt(ms)}`);
  const slow = [...results].sort((a, b) => b.ms - a.ms).slice(0, 5);
  say(`slowest: ${slow.map((r) => `${r.name} ${fmt(r.ms)}`).join(', ')}`);
  for (const r of failed) say(`FAILED ${r.name}${r.note ? ` (${r.note})` : ''}: rerun with ${Object.entries(r.env).map(([k, v]) => `${k}=${v} `).join('')}npm run test:${rel(r.file).startsWith('lab/') ? 'lab' : 'unit'} -- ${relative(REPO, r.file)}`);
}

/**
 * The lab files start the releaseflow CLI hundreds of times; through tsx each start compiles the sources
 * again (~0.5 s of CPU more than compiled JavaScript, measured). So the lab suite compiles src/ once, like
 * `npm run build` but into .test-build/ (the same depth as dist/, so the CLI finds package.json and the
 * dashboard its static files), and the files run that (RF_TEST_CLI). Set RF_TEST_CLI to choose another.
 */
function buildCli(): string {
  const out = join(REPO, '.test-build');
  rmSync(out, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out], { cwd: REPO, stdio: 'inherit' });
  cpSync(join(REPO, 'src/web/static'), join(out, 'web/static'), { recursive: true });
  const entry = join(out, 'releaseflow.mjs');
  writeFileSync(entry, "// written by scripts/run-tests.ts: the compiled CLI for the lab files\nconst app = await import('./app.js');\nprocess.exitCode = await app.main(process.argv);\n");
  return entry;
}

async function main(argv: string[]): Promise<number> {
  const [what, ...args] = argv;
  if (what !== 'unit' && what !== 'lab' && what !== 'all') {
    process.stderr.write('usage: node --import tsx scripts/run-tests.ts unit|lab|all [FILE...]\n');
    return 2;
  }
  const suites: Suite[] = what === 'all' ? ['unit', 'lab'] : [what];
  const started = Date.now();
  const results: FileResult[] = [];
  for (const suite of suites) {
    const files = args.length ? args.map((a) => resolveFile(a, suites)).filter((f) => suiteOf(f) === suite) : suiteFiles(suite);
    if (files.length === 0) continue;
    if (suite === 'lab' && !process.env.RF_TEST_CLI) {
      const t0 = Date.now();
      process.env.RF_TEST_CLI = buildCli();
      say(`lab: the CLI compiled once for the lab files in ${fmt(Date.now() - t0)} (${relative(REPO, process.env.RF_TEST_CLI)})`);
    }
    results.push(...(await runSuite(suite, files)));
    // fast feedback: a unit failure stops the run before the slow lab files
    if (results.some((r) => !r.ok)) break;
  }
  if (results.length === 0) say(`no ${suites.join(' or ')} test files among: ${args.join(' ')}`);
  else summary(results, Date.now() - started);
  return results.length > 0 && results.every((r) => r.ok) ? 0 : 1;
}

if (isMain)
  process.exitCode = await main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
    return 2;
  });
