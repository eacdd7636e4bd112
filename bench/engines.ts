// bench/engines: releaseflow's delta transfer (PROD has the base, a ~5 MB layer changes) per engine
// pair and image size, on a bench lab per pair with the operator's link capped like bench/transfer:
// bytes on PROD's interface against the gzip size of the missing layer, and seconds for a ~190 MB and
// a ~1 GB image (the cost of `docker save` on TEST grows with the image; the bytes must not).
// Run: node --import tsx bench/engines.ts [--reps N] [--mbit N] [--pairs 20.10:20.10,20.10:28.5-containerd,…]
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshHost } from '../src/adapters/ssh.ts';
import { transferImage } from '../src/adapters/transfer.ts';
import { loadConfig } from '../src/core/config.ts';
import { type BenchLab, capLink, dockerIn, imageIdOn, LAB_ENV, labDown, labUp, log, machine, mdTable, median, REPO, rxBytes, shell, uncapLink } from './lib.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? String(args[i + 1]) : dflt;
};
const REPS = Number(opt('reps', '3'));
const MBIT = Number(opt('mbit', '100'));
const PAIRS = opt('pairs', '20.10:20.10,20.10:28.5-containerd,28.5-containerd:28.5-containerd').split(',').map((p) => p.split(':') as [string, string]);
const MiB = 1024 * 1024;

/** Image sizes: base layers of random and compressible data (MiB, MB), like bench/transfer's. */
const SIZES = { '190 MB': [20, 20, 60, 80], '1 GB': [100, 100, 400, 400] } as const;
type Size = keyof typeof SIZES;

interface Row {
  pair: string;
  size: Size;
  imageBytes: number;
  floor: number;
  ms: number[];
  rx: number[];
  note: string;
}

function fill(dir: string, random: number, text: number): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `head -c ${random * MiB} /dev/urandom >"$1/blob.bin" && seq 1 ${Math.round(text * 127_000)} >"$1/data.txt"`, 'sh', dir]);
}

function build(lab: BenchLab, tag: string, ctx: string): void {
  execFileSync('sh', ['-c', `tar -c -C "$1" . | DOCKER_BUILDKIT=0 docker -H "$2" build -q -t "$3" - >/dev/null`, 'sh', ctx, lab.hosts.test!.dockerSock, tag]);
}

/** base, app:1 and app:2 (each ~5 MB on the base) of one size on TEST. */
function buildImages(lab: BenchLab, size: Size): { app1: string; app2: string } {
  const tag = size === '1 GB' ? 'big' : 'std';
  const [r1, t1, r2, t2] = SIZES[size];
  const root = join(lab.dir, `bench-${tag}`);
  rmSync(root, { recursive: true, force: true });
  fill(join(root, 'base', 'l1'), r1, t1);
  fill(join(root, 'base', 'l2'), r2, t2);
  writeFileSync(join(root, 'base', 'Dockerfile'), 'FROM scratch\nCOPY l1 /opt/l1\nCOPY l2 /opt/l2\n');
  build(lab, `rfe-${tag}-base:1`, join(root, 'base'));
  rmSync(join(root, 'base'), { recursive: true, force: true });
  for (const v of ['1', '2']) {
    fill(join(root, v, 'change'), 2.5, 2.5);
    writeFileSync(join(root, v, 'Dockerfile'), `FROM rfe-${tag}-base:1\nCOPY change /opt/change\n`);
    build(lab, `rfe-${tag}-app:${v}`, join(root, v));
  }
  rmSync(root, { recursive: true, force: true });
  return { app1: `rfe-${tag}-app:1`, app2: `rfe-${tag}-app:2` };
}

/** gzip -1 bytes of the top layer of `ref` as TEST's `docker save` holds it. */
function topLayerGzip(lab: BenchLab, ref: string): number {
  const dir = join(lab.dir, 'bench-save');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', 'docker -H "$1" save "$2" | tar -x -C "$3"', 'sh', lab.hosts.test!.dockerSock, ref, dir]);
  const m = JSON.parse(execFileSync('cat', [join(dir, 'manifest.json')], { encoding: 'utf8' }))[0] as { Layers: string[] };
  const top = join(dir, m.Layers.at(-1)!);
  // a containerd-store TEST saves its layers gzip-compressed already: count them uncompressed, then gzip -1
  const n = Number(execFileSync('sh', ['-c', '{ gzip -dc "$1" 2>/dev/null || cat "$1"; } | gzip -1 -c | wc -c', 'sh', top], { encoding: 'utf8' }).trim());
  rmSync(dir, { recursive: true, force: true });
  return n;
}

/** PROD with app:1 (so every base layer) and without app:2, whatever IDs its store gives them. */
function resetProd(lab: BenchLab, app1: string, app2Ids: string[]): void {
  for (const id of app2Ids) dockerIn(lab, 'prod', ['rmi', '-f', id]);
  app2Ids.length = 0;
  if (!imageIdOn(lab, 'prod', app1)) shell(`docker -H ${lab.hosts.test!.dockerSock} save ${app1} | docker -H ${lab.hosts.prod!.dockerSock} load -q`);
}

async function measure(lab: BenchLab, imageId: string): Promise<{ ms: number; targetId: string; note: string }> {
  const config = loadConfig(lab.config);
  const from = new SshHost(config.hosts.test!, config.ssh);
  const to = new SshHost(config.hosts.prod!, config.ssh);
  try {
    await Promise.all([from.connect(), to.connect()]);
    const t0 = performance.now();
    const r = await transferImage(from, to, imageId);
    return { ms: performance.now() - t0, targetId: r.targetId, note: `${r.strategy}${r.fellBack ? ' (fell back)' : ''}, ${r.layers.sent}/${r.layers.total} layers, ${r.compression}` };
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}

async function benchPair(testEngine: string, prodEngine: string): Promise<Row[]> {
  Object.assign(process.env, { LAB_ENGINE_TEST: testEngine, LAB_ENGINE_PROD: prodEngine });
  try {
    labDown(); // a bench lab left by an interrupted run
  } catch {
    // none
  }
  const lab = labUp('up');
  const rows: Row[] = [];
  try {
    for (const size of Object.keys(SIZES) as Size[]) {
      log(`${testEngine} -> ${prodEngine}: building the ${size} images on test`);
      const { app1, app2 } = buildImages(lab, size);
      const id2 = imageIdOn(lab, 'test', app2)!;
      const row: Row = { pair: `${testEngine} → ${prodEngine}`, size, imageBytes: Number(dockerIn(lab, 'test', ['image', 'inspect', '-f', '{{.Size}}', app2])), floor: topLayerGzip(lab, app2), ms: [], rx: [], note: '' };
      const loaded: string[] = [];
      capLink(lab, MBIT);
      for (let rep = 1; rep <= REPS; rep++) {
        resetProd(lab, app1, loaded);
        const rx0 = rxBytes(lab, 'prod');
        const r = await measure(lab, id2);
        row.rx.push(rxBytes(lab, 'prod') - rx0);
        row.ms.push(r.ms);
        row.note = r.note;
        loaded.push(r.targetId);
        log(`rep ${rep} ${row.pair} ${size}: ${(r.ms / 1000).toFixed(2)} s, PROD rx ${row.rx.at(-1)} B (${r.note})`);
      }
      uncapLink(lab);
      resetProd(lab, app1, loaded);
      rows.push(row);
    }
  } finally {
    uncapLink(lab);
    labDown();
  }
  return rows;
}

async function main(): Promise<void> {
  log(`bench lab ${LAB_ENV.LAB_DIR}; pairs ${PAIRS.map((p) => p.join('→')).join(', ')}; ${REPS} reps; link ${MBIT} Mbit/s`);
  const started = new Date();
  const rows: Row[] = [];
  for (const [t, p] of PAIRS) rows.push(...(await benchPair(t, p)));
  const checks: string[] = [];
  const table = rows.map((r) => {
    const limit = 1.05 * r.floor + 256 * 1024;
    const rx = median(r.rx);
    const std = rows.find((x) => x.pair === r.pair && x.size === '190 MB');
    const ratio = std ? median(r.ms) / median(std.ms) : 1;
    checks.push(`- ${r.pair}, ${r.size}: bytes ${rx} ≤ ${Math.round(limit)} ${rx <= limit ? 'met' : 'NOT met'}${r.size === '1 GB' ? `; time ${ratio.toFixed(2)}× the 190 MB one (target ≤ 2×) ${ratio <= 2 ? 'met' : 'NOT met'}` : ''}`);
    return [r.pair, r.size, (r.imageBytes / 1e6).toFixed(0), (median(r.ms) / 1000).toFixed(2), `${(Math.min(...r.ms) / 1000).toFixed(2)}–${(Math.max(...r.ms) / 1000).toFixed(2)}`, rx, r.floor, (rx / r.floor).toFixed(3), r.note];
  });
  const report = [
    `## bench/engines — ${started.toISOString()}`,
    '',
    machine(),
    `Operator link capped at ${MBIT} Mbit/s; ${REPS} runs each, medians. PROD has app:1 (every base layer); app:2 adds ~5 MB.`,
    '',
    mdTable(['TEST → PROD', 'image', 'MB', 'seconds', 'range', 'PROD rx bytes', 'gzip -1 of the missing layer', 'ratio', 'how'], table),
    '',
    ...checks,
  ].join('\n');
  process.stdout.write(`${report}\n`);
  const dir = join(REPO, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `engines-${started.toISOString().slice(0, 10)}.md`);
  writeFileSync(file, `${report}\n`);
  log(`wrote ${file}`);
}

await main();
