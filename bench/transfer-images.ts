// The transfer benchmark's images, built on the bench lab's TEST host: a ~190 MB base (two
// layers, part random, part text) and two app versions that each add ~5 MB on top of it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchLab, dockerIn, imageIdOn, log } from './lib.ts';

export const BASE = 'rfb-base:1';
export const APP1 = 'rfb-app:1';
export const APP2 = 'rfb-app:2';

const MiB = 1024 * 1024;

/** A directory of `random` MiB of random bytes and about `text` MB of numbers (compressible). */
function fill(dir: string, random: number, text: number): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `head -c ${random * MiB} /dev/urandom >"$1/blob.bin" && seq 1 ${Math.round(text * 127_000)} >"$1/data.txt"`, 'sh', dir]);
}

/** Build an image from a context directory (a tar on stdin: no files on the host). */
function build(lab: BenchLab, tag: string, ctx: string): string {
  const tar = execFileSync('tar', ['-c', '-C', ctx, '.'], { maxBuffer: 1 << 30 });
  dockerIn(lab, 'test', ['build', '-q', '-t', tag, '-'], tar);
  return imageIdOn(lab, 'test', tag)!;
}

/** Build base, app:1 and app:2 on TEST (once); returns their IDs. */
export function buildBenchImages(lab: BenchLab): { base: string; app1: string; app2: string } {
  const have = [BASE, APP1, APP2].map((r) => imageIdOn(lab, 'test', r));
  if (have.every(Boolean)) return { base: have[0]!, app1: have[1]!, app2: have[2]! };
  const root = join(lab.dir, 'bench-ctx');
  rmSync(root, { recursive: true, force: true });
  log('building the bench images on test (base ~190 MB, two ~5 MB changes)');
  fill(join(root, 'base', 'l1'), 20, 20);
  fill(join(root, 'base', 'l2'), 60, 80);
  writeFileSync(join(root, 'base', 'Dockerfile'), 'FROM scratch\nCOPY l1 /opt/l1\nCOPY l2 /opt/l2\n');
  const base = build(lab, BASE, join(root, 'base'));
  rmSync(join(root, 'base'), { recursive: true, force: true });
  const ids: string[] = [];
  for (const [tag, dir] of [
    [APP1, 'app1'],
    [APP2, 'app2'],
  ] as const) {
    fill(join(root, dir, 'change'), 2.5, 2.5);
    writeFileSync(join(root, dir, 'Dockerfile'), `FROM ${BASE}\nCOPY change /opt/change\n`);
    ids.push(build(lab, tag, join(root, dir)));
  }
  rmSync(root, { recursive: true, force: true });
  return { base, app1: ids[0]!, app2: ids[1]! };
}

/** gzip -1 size of each layer of an image as `docker save` writes it, in RootFS order. */
export function gzipLayerSizes(lab: BenchLab, ref: string): number[] {
  const dir = join(lab.dir, 'bench-save');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', 'docker -H "$1" save "$2" | tar -x -C "$3"', 'sh', lab.hosts.test!.dockerSock, ref, dir]);
  const manifest = JSON.parse(execFileSync('cat', [join(dir, 'manifest.json')], { encoding: 'utf8' }))[0] as { Layers: string[] };
  const sizes = manifest.Layers.map((l) => Number(execFileSync('sh', ['-c', 'gzip -1 -c "$1" | wc -c', 'sh', join(dir, l)], { encoding: 'utf8' }).trim()));
  rmSync(dir, { recursive: true, force: true });
  return sizes;
}
