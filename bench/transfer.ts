// bench/transfer: the seed's path (a), a plain stream (b), releaseflow's transferImage (c) and
// with --direct (d: PROD pulls from TEST over its own SSH), side by side on a bench lab whose
// operator link is capped with tc, for a ~200 MB image when PROD has its base layers ("delta")
// and when PROD has none of it ("first"). (d) does not cross the capped link: that is its point.
// Run: node --import tsx bench/transfer.ts [--reps N] [--mbit N] [--keep]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshHost } from '../src/adapters/ssh.ts';
import { transferImage } from '../src/adapters/transfer.ts';
import { resolveDirect } from '../src/adapters/transfer-direct.ts';
import { loadConfig } from '../src/core/config.ts';
import { type BenchLab, capLink, dockerIn, fmtB, fmtS, imageIdOn, LAB_ENV, labDown, labUp, log, machine, mdTable, median, REPO, rxBytes, shell, uncapLink } from './lib.ts';
import { APP1, APP2, buildBenchImages, gzipLayerSizes } from './transfer-images.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const REPS = opt('reps', 3);
const MBIT = opt('mbit', 100);
const KEEP = args.includes('--keep');

type Method = 'a' | 'b' | 'c' | 'd';
type Scenario = 'delta' | 'first';
const METHODS: Record<Method, string> = {
  a: 'seed: docker save -o, scp -3, docker load -i',
  b: 'stream: ssh docker save \\| ssh docker load',
  c: 'releaseflow transferImage',
  d: 'releaseflow --direct (PROD pulls from TEST)',
};
const ALL: Method[] = ['a', 'b', 'c', 'd'];
interface Run {
  scenario: Scenario;
  method: Method;
  ms: number;
  rx: number;
  note: string;
}

/** PROD's state before a run: "delta" has app:1 (so every base layer), "first" has nothing of it. */
function resetProd(lab: BenchLab, ids: { app1: string; app2: string }, scenario: Scenario): void {
  for (const id of scenario === 'first' ? [ids.app2, ids.app1] : [ids.app2]) if (imageIdOn(lab, 'prod', id)) dockerIn(lab, 'prod', ['rmi', '-f', id]);
  if (scenario === 'delta' && !imageIdOn(lab, 'prod', ids.app1)) {
    shell(`docker -H ${lab.hosts.test!.dockerSock} save ${APP1} | docker -H ${lab.hosts.prod!.dockerSock} load -q`);
  }
  shell(`${ssh(lab)} test 'rm -f /tmp/x.tar'; ${ssh(lab)} prod 'rm -f /tmp/x.tar'`);
}

const ssh = (lab: BenchLab) => `ssh -F ${lab.sshConfig}`;

async function runMethod(lab: BenchLab, method: Method, imageId: string): Promise<{ ms: number; note: string }> {
  if (method === 'a') {
    const t0 = performance.now();
    shell(`${ssh(lab)} test docker save -o /tmp/x.tar ${APP2}`);
    shell(`scp -F ${lab.sshConfig} -q -3 test:/tmp/x.tar prod:/tmp/x.tar`);
    shell(`${ssh(lab)} prod docker load -i /tmp/x.tar`);
    return { ms: performance.now() - t0, note: '' };
  }
  if (method === 'b') return { ms: shell(`${ssh(lab)} test docker save ${APP2} | ${ssh(lab)} prod docker load`).ms, note: '' };
  const t0 = performance.now();
  const config = loadConfig(lab.config);
  const from = new SshHost(config.hosts.test!, config.ssh);
  const to = new SshHost(config.hosts.prod!, config.ssh);
  try {
    await Promise.all([from.connect(), to.connect()]);
    const direct = method === 'd' ? await resolveDirect(from) : undefined;
    const up0 = uplinkBytes(lab);
    const r = await transferImage(from, to, imageId, { direct });
    const through = uplinkBytes(lab) - up0;
    return { ms: performance.now() - t0, note: `${r.strategy}, ${r.layers.sent}/${r.layers.total} layers, ${r.compression}, ${fmtB(r.bytes)} B on the wire, ${fmtB(through)} B through the operator's link` };
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}

/** Both directions of the operator's end of the lab uplink. */
function uplinkBytes(lab: BenchLab): number {
  return Number(shell(`cat /sys/class/net/${lab.prefix}0/statistics/rx_bytes /sys/class/net/${lab.prefix}0/statistics/tx_bytes`).out.trim().split('\n').reduce((a, b) => a + Number(b), 0));
}

/** --direct needs PROD's own key on TEST (the operator's job, once). */
function trustProdOnTest(lab: BenchLab): void {
  shell(`${ssh(lab)} prod '[ -f /root/.ssh/id_ed25519 ] || ssh-keygen -q -t ed25519 -N "" -C bench-direct -f /root/.ssh/id_ed25519; cat /root/.ssh/id_ed25519.pub' | ${ssh(lab)} test 'cat >>/root/.ssh/authorized_keys'`);
}

async function main(): Promise<void> {
  const lab = labUp('up');
  const started = new Date();
  const runs: Run[] = [];
  try {
    const ids = buildBenchImages(lab);
    const size = Number(dockerIn(lab, 'test', ['image', 'inspect', '-f', '{{.Size}}', ids.app2]));
    const gz = gzipLayerSizes(lab, ids.app2);
    const gzMissing: Record<Scenario, number> = { delta: gz.at(-1)!, first: gz.reduce((a, b) => a + b, 0) };
    log(`image ${APP2}: ${fmtB(size)} B, layers gzip -1: ${gz.map(fmtB).join(' + ')}`);
    trustProdOnTest(lab);
    capLink(lab, MBIT);
    for (let rep = 1; rep <= REPS; rep++) {
      for (const scenario of ['delta', 'first'] as Scenario[]) {
        for (const method of ALL) {
          resetProd(lab, ids, scenario);
          const rx0 = rxBytes(lab, 'prod');
          const r = await runMethod(lab, method, ids.app2);
          const rx = rxBytes(lab, 'prod') - rx0;
          if (imageIdOn(lab, 'prod', ids.app2) !== ids.app2) throw new Error(`${method}/${scenario}: PROD does not have ${ids.app2}`);
          runs.push({ scenario, method, rx, ...r });
          log(`rep ${rep} ${scenario} (${method}) ${fmtS(r.ms)} s, PROD rx ${fmtB(rx)} B ${r.note}`);
        }
      }
    }
    uncapLink(lab);
    const report = render(runs, { size, gz, gzMissing, started });
    process.stdout.write(`${report}\n`);
    const dir = join(REPO, 'bench/results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `transfer-${started.toISOString().slice(0, 10)}.md`);
    writeFileSync(file, `${report}\n`);
    log(`wrote ${file}`);
  } finally {
    uncapLink(lab);
    if (!KEEP) labDown();
  }
}

function render(runs: Run[], f: { size: number; gz: number[]; gzMissing: Record<Scenario, number>; started: Date }): string {
  const rows: (string | number)[][] = [];
  const checks: string[] = [];
  for (const scenario of ['delta', 'first'] as Scenario[]) {
    const seedMs = median(runs.filter((r) => r.scenario === scenario && r.method === 'a').map((r) => r.ms));
    for (const method of ALL) {
      const rs = runs.filter((r) => r.scenario === scenario && r.method === method);
      const ms = rs.map((r) => r.ms);
      const rx = median(rs.map((r) => r.rx));
      rows.push([scenario, `(${method}) ${METHODS[method]}`, fmtS(median(ms)), `${fmtS(Math.min(...ms))}–${fmtS(Math.max(...ms))}`, fmtB(rx), (median(ms) / seedMs).toFixed(2)]);
      rows.at(-1)!.push(method === 'd' ? 'TEST → PROD (not the capped link)' : 'via the operator (capped)');
      if (method !== 'c') continue;
      const limit = 1.05 * f.gzMissing[scenario] + 64 * 1024;
      const timeLimit = scenario === 'delta' ? 0.3 : 1.0;
      checks.push(
        `- ${scenario}: bytes on PROD ${fmtB(rx)} vs target ≤ ${fmtB(Math.round(limit))} (1.05 × gzip of missing layers ${fmtB(f.gzMissing[scenario])} + 64 KiB): **${rx <= limit ? 'met' : 'NOT met'}**`,
        `- ${scenario}: wall time ${fmtS(median(ms))} s vs target ≤ ${timeLimit} × seed (${fmtS(seedMs)} s) = ${fmtS(timeLimit * seedMs)} s: **${median(ms) <= timeLimit * seedMs ? 'met' : 'NOT met'}**`,
      );
    }
  }
  return [
    `# bench/transfer, ${f.started.toISOString()}`,
    '',
    `Machine: ${machine()}. Lab ${LAB_ENV.LAB_DIR} (dockerd 20.10 on both hosts), operator link capped at ${MBIT} Mbit/s each way with tc tbf; ${REPS} runs per cell (median, min–max).`,
    `Image ${APP2}: ${fmtB(f.size)} B (docker Size), ${f.gz.length} layers; gzip -1 of each layer tar: ${f.gz.map(fmtB).join(' + ')} B.`,
    '"delta": PROD has rfb-app:1 (same base, another ~5 MB top layer). "first": PROD has none of its layers.',
    'Bytes: rx_bytes of PROD\'s eth0 (its own namespace counters) around each run; includes SSH and TCP overhead.',
    '',
    mdTable(['scenario', 'method', 'wall s', 'min–max s', 'bytes on PROD eth0', '× seed', 'path of the bytes'], rows),
    '',
    'Targets (issue 6) for (c):',
    ...checks,
  ].join('\n');
}

await main();
