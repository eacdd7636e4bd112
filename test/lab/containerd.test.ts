// Minimal transfer onto the containerd image store (Docker 28.5 with containerd-snapshotter, the
// default of new Docker 29 installs), from a 20.10 TEST, on a lab of its own: only the missing layers
// cross the wire (bound checked on PROD's interface), PROD ends with a complete image (its own
// `docker save` has every layer), and when PROD's content store lacks a layer blob it has a snapshot
// for (a `docker load` then exits 0 with an incomplete image) releaseflow notices and sends the whole image.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { labDocker, labInfo, labScript, releaseflow } from './lab.ts';

const DIR = '/tmp/rfl-ctd';
const ENV: NodeJS.ProcessEnv = { LAB_PREFIX: 'rfk', LAB_NET: '10.213.56', LAB_ENGINE_TEST: '20.10', LAB_ENGINE_PROD: '28.5-containerd', LAB_ENGINE: '', LAB_CLI: '' };
const APP = ['ragflowauth-backend', 'ragflowauth-frontend'];
const CACHE = process.env.LAB_CACHE ?? '/var/cache/releaseflow-lab';

function skip(): string | false {
  if (process.getuid?.() !== 0) {
    if (process.env.CI === 'true') throw new Error('the containerd lab needs root and CI=true: lab tests must not skip');
    return 'needs root (the lab makes namespaces)';
  }
  return false;
}

const lab = (args: string[]) => labScript(args, { dir: DIR, env: ENV });
const rf = (args: string[]) => releaseflow(args, { labDir: DIR });
const dk = (host: string, args: string[]) => labDocker(host, args, undefined, DIR);
const layersOf = (host: string, ref: string) => JSON.parse(dk(host, ['image', 'inspect', '-f', '{{json .RootFS.Layers}}', ref])) as string[];
const runningLayers = (host: string) => APP.map((n) => layersOf(host, dk(host, ['inspect', '-f', '{{.Image}}', n]).trim()));
const rx = () => Number(execFileSync('ip', ['netns', 'exec', 'rfk-prod', 'cat', '/sys/class/net/eth0/statistics/rx_bytes'], { encoding: 'utf8' }));
const ctr = (args: string[]) => lab(['exec', 'prod', `${CACHE}/engines/28.5/usr/bin/ctr`, '-a', '/run/docker/containerd/containerd.sock', '-n', 'moby', ...args]);

/** gzip -1 bytes of the layers of `ref` on TEST that PROD's running image lacks: the floor for any transfer. */
function missingGzipBytes(ref: string, prodLayers: string[]): number {
  const x = mkdtempSync(join(tmpdir(), 'rf-ctd-'));
  try {
    execFileSync('sh', ['-c', `docker -H "$1" save "$2" | tar -x -C "$3"`, 'sh', labInfo(DIR)!.hosts.test!.dockerSock, ref, x]);
    const m = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8'))[0] as { Layers: string[] };
    const diffs = layersOf('test', ref);
    return m.Layers.filter((_, i) => !prodLayers.includes(diffs[i]!)).reduce((n, p) => n + gzipSync(readFileSync(join(x, p)), { level: 1 }).length, 0);
  } finally {
    rmSync(x, { recursive: true, force: true });
  }
}

/** PROD's own `docker save` of an image lists every layer (an incomplete containerd image saves only its manifest). */
function savedLayerCount(ref: string): number {
  const list = execFileSync('sh', ['-c', `docker -H "$1" save "$2" | tar -t`, 'sh', labInfo(DIR)!.hosts.prod!.dockerSock, ref], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const x = execFileSync('sh', ['-c', `docker -H "$1" save "$2" | tar -x -O manifest.json`, 'sh', labInfo(DIR)!.hosts.prod!.dockerSock, ref], { encoding: 'utf8' });
  const layers = (JSON.parse(x)[0] as { Layers: string[] }).Layers;
  return layers.filter((l) => list.includes(l)).length;
}

describe('containerd image store: TEST 20.10 -> PROD 28.5-containerd', { skip: skip() }, () => {
  before(() => {
    if (existsSync(`${DIR}/lab.env`)) lab(['down']);
    lab(['demo-up']);
  });
  after(() => {
    if (existsSync(`${DIR}/lab.env`)) lab(['down']);
  });

  test('promote sends only the missing layers as an OCI layout; PROD holds complete images with TEST layers', () => {
    const floor = APP.reduce((n, a) => n + missingGzipBytes(`${a}:v2`, layersOf('prod', `${a}:v1`)), 0);
    const before = rx();
    const r = rf(['promote', '--yes']);
    const bytes = rx() - before;
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /its containerd image store gets an OCI layout without them/);
    assert.match(r.out, /prod holds the image as sha256:[0-9a-f]{64} \(its image store names images differently/);
    assert.ok(bytes <= 1.05 * floor + 256 * 1024, `PROD received ${bytes} bytes; the missing layers are ${floor} bytes gzipped`);
    assert.deepEqual(runningLayers('prod'), runningLayers('test'));
    for (const a of APP) assert.equal(savedLayerCount(`${a}:v2`), layersOf('test', `${a}:v2`).length, `${a}:v2 complete on PROD`);
    // the same images again: up to date although PROD names them by other IDs
    const again = rf(['promote', '--yes']);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /up-to-date/);
  });

  test('rollback, then promote again: the image PROD still has is found by its layers and config, nothing sent', () => {
    const rb = rf(['rollback', '--yes']);
    assert.equal(rb.code, 0, rb.out);
    assert.equal(dk('prod', ['inspect', '-f', '{{.Config.Image}}', APP[0]!]).trim(), `${APP[0]}:v1`);
    const r = rf(['promote', '--yes']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /transfer done: 0 bytes/);
    assert.deepEqual(runningLayers('prod'), runningLayers('test'));
  });

  test('a layer blob missing from PROD content store (snapshot present): the incomplete load is caught, the whole image sent', () => {
    lab(['seed']);
    for (const a of APP) {
      // seed may have removed it already
      if (dk('prod', ['image', 'ls', '-q', `${a}:v2`]).trim()) dk('prod', ['rmi', `${a}:v2`]);
    }
    // PROD gets the base layer a second time, as a gzip blob (an import, as a registry pull would store
    // it), then loses the uncompressed blob TEST names it by: the snapshot stays, the digest is gone
    const x = mkdtempSync(join(tmpdir(), 'rf-ctd-'));
    try {
      execFileSync('sh', ['-c', `docker -H "$1" save ragflowauth-base:1 | tar -x -C "$2"`, 'sh', labInfo(DIR)!.hosts.test!.dockerSock, x]);
      const first = (JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8'))[0] as { Layers: string[] }).Layers[0]!;
      dk('prod', ['import', join(x, first), 'rf-probe/base-layer:1']);
    } finally {
      rmSync(x, { recursive: true, force: true });
    }
    const shared = layersOf('prod', 'rf-probe/base-layer:1')[0]!;
    assert.equal(shared, layersOf('test', `${APP[0]}:v2`)[0]);
    ctr(['content', 'rm', shared]);
    const r = rf(['promote', '--yes']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /sending only the missing layers failed \(after docker load, prod loaded sha256:[0-9a-f]{64}, but docker cannot read its layers: an incomplete load.*sending the whole image once instead/);
    assert.deepEqual(runningLayers('prod'), runningLayers('test'));
    assert.equal(savedLayerCount(`${APP[0]}:v2`), 3);
  });
});
