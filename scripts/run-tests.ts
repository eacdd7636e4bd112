// The test runner behind `npm test`, `npm run test:unit` and `npm run test:lab`: one node:test process per
// file, so every file gets a start line, an end line (elapsed, pass/fail) and the run a summary with the
// slowest files. Lab files run one at a time (they share one lab); unit files two at a time.
//   node --import tsx scripts/run-tests.ts unit|lab|all [FILE...]   (FILE: a path, or a name like `release`)
// Environment: RF_TEST_VERBOSE=1 prints every file's output, not only a failed file's;
// RF_TEST_FILE_TIMEOUT (seconds, default 1800) stops a file that hangs and counts it as failed.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';

type Suite = 'unit' | 'lab';
const SUITES: Record<Suite, string[]> = { unit: ['test/unit', 'test/web'], lab: ['test/lab'] };
const JOBS: Record<Suite, number> = { unit: 2, lab: 1 };
const REPO = new URL('..', import.meta.url).pathname;
const VERBOSE = process.env.RF_TEST_VERBOSE === '1';
const FILE_TIMEOUT_S = Number(process.env.RF_TEST_FILE_TIMEOUT ?? 1800);

interface FileResult {
  file: string;
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
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
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
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    for (const pid of running) stopGroup(pid);
    process.exit(130);
  });

function stopGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {}
}

function runFile(file: string, label: string): Promise<FileResult> {
  const started = Date.now();
  say(`▶ ${label}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', file], { cwd: REPO, env: { ...process.env, FORCE_COLOR: '0' }, detached: true });
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
      const r: FileResult = { file, ms: Date.now() - started, ...c, fail: ok ? c.fail : Math.max(c.fail, 1), ok, note };
      // CI reads a failure in full: the file's whole output, then its end line
      if (!ok && !VERBOSE) process.stdout.write(`${out.replace(/\n?$/, '\n')}`);
      say(`${ok ? '✔' : '✖'} ${label}  ${fmt(r.ms)}  ${c.pass} passed${r.fail ? `, ${r.fail} failed` : ''}${c.skipped ? `, ${c.skipped} skipped` : ''}${note ? ` (${note})` : ''}  [load ${load()}]`);
      resolve(r);
    });
  });
}

async function runSuite(suite: Suite, files: string[]): Promise<FileResult[]> {
  const results: FileResult[] = [];
  const queue = files.map((f, i) => ({ f, label: `${suite} ${i + 1}/${files.length} ${rel(f)}` }));
  say(`${suite}: ${files.length} file(s), ${JOBS[suite] === 1 ? 'one at a time' : `${JOBS[suite]} at a time`}`);
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) results.push(await runFile(next.f, next.label));
  };
  await Promise.all(Array.from({ length: Math.min(JOBS[suite], files.length) }, worker));
  return results;
}

function summary(results: FileResult[], ms: number): void {
  const sum = (k: 'pass' | 'fail' | 'skipped') => results.reduce((a, r) => a + r[k], 0);
  const failed = results.filter((r) => !r.ok);
  say(`summary: ${results.length} file(s), ${results.length - failed.length} passed, ${failed.length} failed; tests: ${sum('pass')} passed, ${sum('fail')} failed, ${sum('skipped')} skipped; ${fmt(ms)}`);
  const slow = [...results].sort((a, b) => b.ms - a.ms).slice(0, 5);
  say(`slowest: ${slow.map((r) => `${rel(r.file)} ${fmt(r.ms)}`).join(', ')}`);
  for (const r of failed) say(`FAILED ${rel(r.file)}${r.note ? ` (${r.note})` : ''}: rerun with npm run test:${rel(r.file).startsWith('lab/') ? 'lab' : 'unit'} -- ${relative(REPO, r.file)}`);
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
    results.push(...(await runSuite(suite, files)));
    // fast feedback: a unit failure stops the run before the slow lab files
    if (results.some((r) => !r.ok)) break;
  }
  if (results.length === 0) say(`no ${suites.join(' or ')} test files among: ${args.join(' ')}`);
  else summary(results, Date.now() - started);
  return results.length > 0 && results.every((r) => r.ok) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
  return 2;
});
