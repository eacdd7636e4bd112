// bench/downtime: the longest gap in PROD's backend answers (probe every 20 ms from the machine
// to PROD:8001/health) during `releaseflow promote --yes`, next to the naive
// `docker stop; docker rm; docker run` over ssh, plus the app's own start-to-healthy time and
// the wall time of a promote with nothing to change.
// Run: node --import tsx bench/downtime.ts [--reps N] [--keep]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchLab, dockerIn, fmtS, LAB_ENV, labDown, labSh, labUp, log, machine, mdTable, median, REPO, shell, shellAsync } from './lib.ts';
import { shJoin } from '../src/core/quote.ts';
import { longestGap, startProbe, timeToHealthy } from './probe.ts';

const args = process.argv.slice(2);
const REPS = args.includes('--reps') ? Number(args[args.indexOf('--reps') + 1]) : 3;
const KEEP = args.includes('--keep');
const PORT = 8001;
const APP = 'ragflowauth-backend';

/** Run the CLI (as an operator would) and time it end to end. */
function releaseflow(lab: BenchLab, argv: string[]): Promise<{ ms: number; code: number | null; out: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(REPO, 'bin/releaseflow.js'), ...argv], { env: { ...process.env, RELEASEFLOW_CONFIG: lab.config }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  return new Promise((res) => child.on('close', (code) => res({ ms: performance.now() - t0, code, out })));
}

/** The app's own start-to-healthy: `docker start` of a fresh backend container until /health answers. */
async function appStartToHealthy(lab: BenchLab): Promise<number> {
  const name = 'rfb-probe-backend';
  dockerIn(lab, 'prod', ['rm', '-f', name]);
  dockerIn(lab, 'prod', ['create', '--name', name, '-p', '8002:8001', `${APP}:v1`]);
  try {
    return await timeToHealthy(lab.hosts.prod!.address, 8002, () => dockerIn(lab, 'prod', ['start', name]));
  } finally {
    dockerIn(lab, 'prod', ['rm', '-f', name]);
  }
}

/** Probe PROD's backend around `act`; returns the longest gap and how long act took. */
async function probed(lab: BenchLab, act: () => Promise<void>): Promise<{ gapMs: number; failed: number; probes: number; actMs: number }> {
  const probe = startProbe(lab.hosts.prod!.address, PORT, { maxMs: 180_000, maxCount: 9000 });
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  await act();
  const actMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 1000));
  return { ...longestGap(await probe.stop()), actMs };
}

// the seed's docker run of the backend on prod (lab.sh seed_host), as an operator would retype it
const NAIVE_RUN = [
  ...['docker', 'run', '-d', '--name', APP, '-p', '8001:8001', '-v', 'ragflowauth-data:/data', '-v', '/opt/ragflowauth/conf:/app/conf:ro'],
  ...['-e', 'GREETING=hello "world" $HOME it\'s', '-e', 'DB_PASSWORD=s3cr3t-Pa55', '-e', 'EXTRA_SECRET_NAME=another-secret-value'],
  ...['--network', 'ragflowauth-net', '--network-alias', 'backend', '--restart', 'unless-stopped', '-l', 'team=auth', '-l', 'note=a b'],
  ...['--log-opt', 'max-size=10m', '--memory', '256m', '--hostname', 'ragflow-backend', `${APP}:v2`],
];

async function main(): Promise<void> {
  const lab = labUp('demo-up');
  const started = new Date();
  const rows: (string | number)[][] = [];
  try {
    const startMs: number[] = [];
    for (let i = 0; i < REPS; i++) startMs.push(await appStartToHealthy(lab));
    log(`app start-to-healthy: ${startMs.map(fmtS).join(', ')} s`);

    const promote: { gapMs: number; actMs: number; failed: number }[] = [];
    const noop: number[] = [];
    for (let i = 0; i < REPS; i++) {
      labSh(['seed']);
      const r = await probed(lab, async () => {
        const p = await releaseflow(lab, ['promote', '--yes']);
        if (p.code !== 0) throw new Error(`promote failed (${p.code}):\n${p.out}`);
      });
      promote.push(r);
      log(`promote: longest gap ${r.gapMs.toFixed(0)} ms (${r.failed} failed probes), promote took ${fmtS(r.actMs)} s`);
      const n = await releaseflow(lab, ['promote', '--yes']);
      if (n.code !== 0 || !/up to date/i.test(n.out)) throw new Error(`no-op promote did not say up to date (${n.code}):\n${n.out}`);
      noop.push(n.ms);
      log(`no-op promote: ${fmtS(n.ms)} s`);
    }

    const naive: { gapMs: number; actMs: number; failed: number }[] = [];
    for (let i = 0; i < REPS; i++) {
      labSh(['seed']);
      shell(`docker -H ${lab.hosts.test!.dockerSock} save ${APP}:v2 | docker -H ${lab.hosts.prod!.dockerSock} load -q`);
      const r = await probed(lab, async () => {
        await shellAsync(shJoin(['ssh', '-F', lab.sshConfig, 'prod', `docker stop ${APP}; docker rm ${APP}; ${shJoin(NAIVE_RUN)}`]));
      });
      naive.push(r);
      log(`naive stop/rm/run: longest gap ${r.gapMs.toFixed(0)} ms (${r.failed} failed probes)`);
    }
    labSh(['seed']);

    const ms = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
    rows.push(['app start-to-healthy (docker start → 200 on /health)', ms(startMs), '']);
    rows.push(['releaseflow promote --yes: longest gap', ms(promote.map((r) => r.gapMs)), `promote wall ${fmtS(median(promote.map((r) => r.actMs)))} s`]);
    rows.push(['naive docker stop; docker rm; docker run over ssh: longest gap', ms(naive.map((r) => r.gapMs)), '']);
    rows.push(['no-op promote --yes (up to date), wall time', ms(noop), '']);
    const limit = median(startMs) + 500;
    const report = [
      `# bench/downtime, ${started.toISOString()}`,
      '',
      `Machine: ${machine()}. Lab ${LAB_ENV.LAB_DIR} (dockerd 20.10), no link cap. ${REPS} runs each (median, min–max, ms).`,
      `Probe: TCP connect + GET /health to prod:${PORT} from the machine every 20 ms; gap = longest time between two successful answers.`,
      '',
      mdTable(['what', 'ms', 'note'], rows),
      '',
      'Targets (issue 6):',
      `- downtime ${median(promote.map((r) => r.gapMs)).toFixed(0)} ms vs ≤ app start-to-healthy + 500 ms = ${limit.toFixed(0)} ms: **${median(promote.map((r) => r.gapMs)) <= limit ? 'met' : 'NOT met'}**`,
      `- no-op release ${fmtS(median(noop))} s vs ≤ 3 s: **${median(noop) <= 3000 ? 'met' : 'NOT met'}**`,
    ].join('\n');
    process.stdout.write(`${report}\n`);
    const dir = join(REPO, 'bench/results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `downtime-${started.toISOString().slice(0, 10)}.md`);
    writeFileSync(file, `${report}\n`);
    log(`wrote ${file}`);
  } finally {
    if (!KEEP) labDown();
  }
}

await main();
