// Layer planning (pure) against facts captured from the lab, and the transfer's remote scripts
// run by the real /bin/sh (dash on Debian) with a fake `docker` on PATH.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { buildFactsScript, parseFacts } from '../../src/adapters/image-facts.ts';
import { buildCleanupScript, buildLoadScript, buildSaveDeltaScript, buildSaveFullScript } from '../../src/adapters/image-scripts.ts';
import { ByteMeter, type TransferProgress } from '../../src/adapters/transfer-progress.ts';
import { readMarkerLine } from '../../src/adapters/transfer-stream.ts';
import { pickClassic, pickLayerStore, renderPick } from '../../src/core/archive-pick.ts';
import { chainIds, checkSpace, chooseCompression, parseImageLines, parseSaveManifest, planLayers, type SaveManifest, TransferSpaceError } from '../../src/core/layers.ts';
import { fixture } from './fixtures.ts';

const imgV1 = fixture('image-backend-v1.inspect.json');
const imgV2 = fixture('image-backend-v2.inspect.json');
const frontV1 = fixture('image-frontend-v1.inspect.json');
const asLayered = (i: { Id: string; Size: number; RootFS: { Layers: string[] } }) => ({ id: i.Id, size: i.Size, created: '', platform: '', config: '', layers: i.RootFS.Layers });

// `ls image/overlay2/layerdb/sha256/` on the lab's test host, with each directory's `diff` and
// `parent` files: chain IDs as dockerd 20.10 computed them (the first five belong to the images
// captured in test/fixtures; the last two come from a second lab's daemon).
const LAYERDB: [chain: string, diff: string, parent: string][] = [
  ['51a77fdcb5f5b065576c0fa9f2dc7388a6014a9d7d2f70ebbbe3f0bbb5429dbf', '51a77fdcb5f5b065576c0fa9f2dc7388a6014a9d7d2f70ebbbe3f0bbb5429dbf', ''],
  ['5449312f195f7c01e7ac5ae9a460cdae29713ae61d497b7fd3b6550295513907', '69d8d7bb2be8aeeaabbab4161a9fbff93eb68e743f5fe8a195595d0e13612749', '51a77fdcb5f5b065576c0fa9f2dc7388a6014a9d7d2f70ebbbe3f0bbb5429dbf'],
  ['0fbaa74e93872b60145e0163c0d11b002699d9f1b635f6e858272857f765df01', 'f1b540ee3fd324f446c1f7c1b6baa75e18420cb53f29c96b917e3a08078e090a', '5449312f195f7c01e7ac5ae9a460cdae29713ae61d497b7fd3b6550295513907'],
  ['4b27d6922658c07a50ce3c7fcfa2151c1a57a345900ee0b32593c2d9dba8ffed', '7691cfb6c5b2ade74e91c07c6da4b2a9e06f3a4046b5082d0ec607d2652695e5', '5449312f195f7c01e7ac5ae9a460cdae29713ae61d497b7fd3b6550295513907'],
  ['791977e08b9e8ab025e76aaa025ffe8281fcb9139e1c2234b95236f262ba4ba5', '25d5e7218f6a4b1c090c48065d2abbee5a90a8d72be9425778b994dd44d99cce', '5449312f195f7c01e7ac5ae9a460cdae29713ae61d497b7fd3b6550295513907'],
  ['703132878ac5103f6d70e33de815926ef068280fa5b39ff5b23ff76810e4365c', '2f5f8a1b23e79aa2e128ea4811f763e990a01d595bfd1e21d2a930fa24376240', 'fc7a667c8d69bd039f2fb0bfa87bcc87ae075c4da3d0ad5c8f3c0576bded39a1'],
  ['53d32b8fdf8fdce085f652029bfc85e723ad1a26e011359172c45b1ae1e3d5a0', 'a497a1229ee13e7dba582d9924698dd16b3ccdac74f83acc0f60c996673b0ac3', '81466ffc7fa8ecb1f432c76cd6ac88bf60c580c8c4c74983e03fd8fb4c2c177d'],
];
const h = (hex: string) => `sha256:${hex}`;

describe('chain IDs', () => {
  test('chain(n) = sha256(chain(n-1) + " " + diffID(n)), as the layerdb directory names dockerd wrote', () => {
    for (const [chain, diff, parent] of LAYERDB) {
      assert.equal(chainIds(parent ? [h(parent), h(diff)] : [h(diff)]).at(-1), h(chain), `layerdb ${chain.slice(0, 12)}`);
    }
  });

  test("the fixtures' layer stacks give their daemon's chain IDs, base first", () => {
    const dirs = new Set(LAYERDB.slice(0, 5).map(([c]) => h(c)));
    for (const img of [imgV1, imgV2, frontV1]) for (const c of chainIds(img.RootFS.Layers)) assert.ok(dirs.has(c), `${img.RepoTags[0]}: ${c}`);
    assert.deepEqual(chainIds(imgV1.RootFS.Layers).map((c) => c.slice(7, 19)), ['51a77fdcb5f5', '5449312f195f', '0fbaa74e9387']);
  });

  test('parse the facts lines: id, size, diffIDs; junk ignored', () => {
    const lines = `motd banner\n${imgV1.Id} ${imgV1.Size} ${imgV1.RootFS.Layers.join(' ')} \nsha256:nothex 1 2\n`;
    assert.deepEqual(parseImageLines(lines), [asLayered(imgV1)]);
  });
});

describe('planLayers', () => {
  const prod = [asLayered(imgV1), asLayered(frontV1)];

  test('PROD has the exact image ID: present, nothing to send', () => {
    assert.equal(planLayers(asLayered(imgV1), prod, 'classic').kind, 'present');
  });

  test('v2 on a PROD with v1: only the top layer goes', () => {
    const p = planLayers(asLayered(imgV2), prod, 'classic');
    assert.ok(p.kind === 'delta');
    assert.equal(p.shared, 2);
    assert.deepEqual(p.missing, [imgV2.RootFS.Layers[2]]);
  });

  test('nothing shared: the whole image; a containerd-store PROD: the same delta, as an OCI layout', () => {
    assert.equal(planLayers(asLayered(imgV2), [], 'classic').kind, 'full');
    const c = planLayers(asLayered(imgV2), prod, 'containerd');
    assert.ok(c.kind === 'delta' && c.shared === 2);
    assert.match(c.reason, /containerd image store gets an OCI layout/);
  });

  test('chain IDs decide, not diffIDs: the same diffID on another base is not shared', () => {
    const [base, mid, top] = imgV2.RootFS.Layers;
    const other = { ...asLayered(imgV2), id: h('1'.repeat(64)), size: 1, layers: [h('a'.repeat(64)), mid!, top!] };
    assert.equal(planLayers(asLayered(imgV2), [other], 'classic').kind, 'full');
    const p = planLayers(asLayered(imgV2), [{ ...asLayered(imgV2), id: h('2'.repeat(64)), size: 1, layers: [base!] }], 'classic');
    assert.ok(p.kind === 'delta' && p.shared === 1 && p.missing.length === 2);
  });

  test('every layer there but another config: a delta of zero layers (config and manifest only)', () => {
    const p = planLayers(asLayered(imgV2), [{ ...asLayered(imgV2), id: h('3'.repeat(64)) }], 'classic');
    assert.ok(p.kind === 'delta' && p.missing.length === 0 && p.shared === 3);
  });
});

/** The members of a delta for a classic-store target (archive-pick.ts). */
const memberList = (m: SaveManifest, diffIds: string[], missing: string[]) => pickClassic(m, diffIds, missing).members;

describe('memberList', () => {
  // manifest.json of `docker save <id>` on the lab (20.10), for an image with these diffIDs
  const manifest = parseSaveManifest(
    '[{"Config":"dea5857bec4a0b16288dba52613f9633b384ce70ad7243e0c8980b7cc291b026.json","RepoTags":null,"Layers":["5edc11457585bb697a167d222acfe5ef5e1f9022fb9dc2e8893cd3365c031502/layer.tar","4ef3c8fccbb8bab32852c566a81ef02878f0fb22c53ae8dbfc3892fb5bfc61fb/layer.tar","8cfa8928804c0d8aab3c1986696651bf1fb4952fbf15fcff10a00ea44953e966/layer.tar"]}]',
  );
  const diffs = [
    'sha256:fc7a667c8d69bd039f2fb0bfa87bcc87ae075c4da3d0ad5c8f3c0576bded39a1',
    'sha256:2f5f8a1b23e79aa2e128ea4811f763e990a01d595bfd1e21d2a930fa24376240',
    'sha256:06fa1dac8693ba3118cf9ee1a3cea90d50e1a0a1f892280beafc6c1344e82ddd',
  ];

  test('manifest, config and the missing layers, by position', () => {
    assert.deepEqual(memberList(manifest, diffs, [diffs[2]!]), ['manifest.json', manifest.Config, manifest.Layers[2]]);
    assert.deepEqual(memberList(manifest, diffs, []), ['manifest.json', manifest.Config]);
  });

  test('a repeated diffID brings every position (the 20.10 symlink and its target)', () => {
    const m = { Config: 'c.json', Layers: ['a/layer.tar', 'b/layer.tar', 'd/layer.tar'] };
    assert.deepEqual(memberList(m, [diffs[0]!, diffs[1]!, diffs[0]!], [diffs[0]!]), ['manifest.json', 'c.json', 'a/layer.tar', 'd/layer.tar']);
  });

  test('refuses odd member names and a layer count that does not match', () => {
    for (const bad of ['-rf', '../x/layer.tar', '/etc/passwd', 'a b']) {
      assert.throws(() => memberList({ Config: 'c.json', Layers: [bad] }, [diffs[0]!], [diffs[0]!]), /unexpected member/);
    }
    assert.throws(() => memberList(manifest, diffs.slice(0, 2), []), /lists 3 layers/);
  });
});

test('compression: gzip on 20.10, pigz when the source has it, zstd only for a 23+ target', () => {
  assert.equal(chooseCompression(['zstd', 'gzip'], '20.10.24+dfsg1'), 'gzip');
  assert.equal(chooseCompression(['zstd', 'pigz', 'gzip'], '20.10.24'), 'pigz');
  assert.equal(chooseCompression(['zstd', 'gzip'], '23.0.0'), 'zstd');
  assert.equal(chooseCompression(['gzip'], '28.2.2'), 'gzip');
});

test('space: needs on one filesystem add up; the error names host, bytes needed and free, and the fix', () => {
  const n = { host: 'test', path: '/var/lib/docker', mount: '/', free: 150e6, fix: 'free disk space on test' };
  assert.equal(checkSpace([{ ...n, need: 100e6, what: 'a' }]), undefined);
  const err = checkSpace([
    { ...n, need: 100e6, what: 'docker save staging' },
    { ...n, path: '/var/lib/docker/tmp', need: 100e6, what: 'extracted copy' },
  ]);
  assert.ok(err instanceof TransferSpaceError);
  assert.match(err.message, /on test .*200\.0 MB \(200,000,000 bytes\) needed .*150\.0 MB \(150,000,000 bytes\) free; nothing was changed/);
  assert.equal(err.detail.host, 'test');
  assert.equal(err.detail.fix, 'free disk space on test');
});

test('progress: wire bytes, raw bytes by inflating on the side, an estimated wire total and ETA', async () => {
  const raw = Buffer.concat([Buffer.from('x'.repeat(3_000_000)), randomBytes(1_000_000)]);
  const wire = gzipSync(raw, { level: 1 });
  const seen: TransferProgress[] = [];
  const meter = new ByteMeter('gzip', (p) => seen.push(p));
  meter.rawTotal = raw.length;
  const t = meter.transform();
  t.resume();
  for (let i = 0; i < wire.length; i += 4096) {
    t.write(wire.subarray(i, i + 4096));
    if (i === 40 * 4096) await new Promise((r) => setTimeout(r, 300));
  }
  await new Promise((r) => t.end(r));
  await meter.finish();
  assert.equal(meter.bytes, wire.length);
  assert.equal(meter.raw, raw.length);
  const last = seen.at(-1)!;
  assert.deepEqual([last.bytes, last.totalBytes, last.etaSeconds], [wire.length, wire.length, 0]);
  const mid = seen.slice(0, -1);
  assert.ok(mid.length > 0 && mid.every((p) => p.totalBytes !== undefined && p.etaSeconds !== undefined), JSON.stringify(mid));
  // an estimate from the first 3 MB of text, before the random MB: low, but a number of the right kind
  assert.ok(mid[0]!.totalBytes! > mid[0]!.bytes && mid[0]!.rawBytes! > 256 * 1024);
});

test('facts output: version, store, data-root, disks, tools, images; banners ignored', () => {
  const m = '@@rfx-1';
  const out = [
    'Welcome!',
    `${m} version 20.10.24+dfsg1`,
    `${m} root /var/lib/docker`,
    `${m} driver [["Backing Filesystem","extfs"]]`,
    `${m} tmp /var/lib/docker/tmp`,
    `${m} dfroot /dev/vda 264212084 24316388 82074524 23% /`,
    `${m} dftmp /dev/vda 264212084 24316388 82074524 23% /`,
    `${m} tool gzip`,
    `${m} drivername overlay2`,
    `${m} image ${imgV1.Id} ${imgV1.Size} ${imgV1.RootFS.Layers.join(' ')} `,
  ].join('\n');
  const f = parseFacts('prod', out, m);
  assert.deepEqual(f, {
    host: 'prod',
    dockerVersion: '20.10.24+dfsg1',
    store: 'classic',
    driver: 'overlay2',
    dataRoot: { path: '/var/lib/docker', mount: '/', free: 82074524 * 1024 },
    tmpBase: { path: '/var/lib/docker/tmp', mount: '/', free: 82074524 * 1024 },
    tools: ['gzip'],
    images: [asLayered(imgV1)],
  });
  assert.equal(parseFacts('p', `${m} version 29.0.0\n${m} driver [["driver-type","io.containerd.snapshotter.v1"]]`, m).store, 'containerd');
  assert.match(buildFactsScript(m, true), /sudo -n docker/);
});

describe('remote scripts under /bin/sh with a fake docker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rfx-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  const base = join(dir, 'tmpbase');
  const id = h('e'.repeat(64));
  mkdirSync(bin);
  mkdirSync(base);
  writeFileSync(
    join(bin, 'docker'),
    [
      '#!/bin/sh',
      'case "$1" in',
      '  save) [ "$2" = "$FAKE_ID" ] || { echo "Error: No such image: $2" >&2; exit 1; }; [ -z "$FAKE_SLOW" ] || sleep 30; cat "$FAKE_DIR/save.tar" ;;',
      '  load) cat >"$FAKE_DIR/loaded"; echo "Loaded image ID: $FAKE_ID" ;;',
      '  image) [ "$5" = "$FAKE_ID" ] || exit 1; printf \'%s\\n\' "$4" | sed "s/{{.Id}}/$5/" ;;',
      'esac',
    ].join('\n'),
  );
  chmodSync(join(bin, 'docker'), 0o755);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'a'), { recursive: true });
  mkdirSync(join(src, 'b'));
  writeFileSync(join(src, 'manifest.json'), '[{"Config":"cfg.json","RepoTags":null,"Layers":["a/layer.tar","b/layer.tar"]}]\n');
  writeFileSync(join(src, 'cfg.json'), '{}');
  writeFileSync(join(src, 'a/layer.tar'), 'A'.repeat(100_000));
  writeFileSync(join(src, 'b/layer.tar'), 'B'.repeat(3000));
  execFileSync('tar', ['-c', '-f', join(dir, 'save.tar'), '-C', src, 'a', 'b', 'cfg.json', 'manifest.json']);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_DIR: dir, FAKE_ID: id };
  const m = '@@rfx-test';
  const delta = (token: string) => buildSaveDeltaScript({ imageId: id, marker: m, sudo: false, compression: 'gzip', tmpBase: base, token });

  function run(script: string, extraEnv: Record<string, string> = {}) {
    const child = spawn('sh', ['-c', script], { env: { ...env, ...extraEnv }, detached: true });
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const code = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    return { child, code, stderr: () => Buffer.concat(err).toString() };
  }
  async function rest(s: NodeJS.ReadableStream): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const b of s) parts.push(b as Buffer);
    return Buffer.concat(parts);
  }

  test('delta: manifest out, members in, only those members out (gzip), temp dir gone', async () => {
    const p = run(delta('ok'));
    const headers: string[] = [];
    for (let l = await readMarkerLine(p.child.stdout, m); l !== 'start'; l = await readMarkerLine(p.child.stdout, m)) {
      headers.push(l.split(' ')[0]!);
      if (l.startsWith('manifest ')) {
        assert.deepEqual(parseSaveManifest(l.slice(9)).Layers, ['a/layer.tar', 'b/layer.tar']);
        assert.equal(readdirSync(base).length, 1, 'the save is staged in one temp dir');
        p.child.stdin.end('manifest.json\ncfg.json\nb/layer.tar\n.\n');
      }
    }
    assert.deepEqual(headers, ['pid', 'layout', 'file', 'file', 'file', 'file', 'manifest', 'bytes']);
    const listed = execFileSync('tar', ['-t', '-f', '-'], { input: gunzipSync(await rest(p.child.stdout)) }).toString().trim().split('\n');
    assert.deepEqual(listed, ['manifest.json', 'cfg.json', 'b/layer.tar']);
    assert.equal(await p.code, 0, p.stderr());
    assert.deepEqual(readdirSync(base), []);
  });

  test('delta: the operator goes away (stdin closed) or names a missing member: non-zero, temp dir gone', async () => {
    const gone = run(delta('gone'));
    await readMarkerLine(gone.child.stdout, m);
    await readMarkerLine(gone.child.stdout, m);
    gone.child.stdin.end();
    assert.equal(await gone.code, 4, gone.stderr());
    const missing = run(delta('missing'));
    missing.child.stdout.resume();
    missing.child.stdin.end('manifest.json\nzzz/layer.tar\n.\n');
    assert.notEqual(await missing.code, 0);
    assert.match(missing.stderr(), /tar of the selected members failed/);
    assert.deepEqual(readdirSync(base), []);
  });

  test('clean-up from the operator stops a running save (its process group) and removes the temp dir', async () => {
    const p = run(delta('slow'), { FAKE_SLOW: '1' });
    const pid = Number((await readMarkerLine(p.child.stdout, m)).split(' ')[1]);
    assert.equal(pid, p.child.pid);
    const t0 = Date.now();
    while (readdirSync(base).length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(readdirSync(base).length, 1);
    execFileSync('sh', ['-c', buildCleanupScript(base, 'slow', pid)]);
    assert.notEqual(await p.code, 0);
    assert.ok(Date.now() - t0 < 10_000, 'the save was stopped, not waited for');
    assert.deepEqual(readdirSync(base), []);
  });

  test("full: compressed save on stdout; docker save's own exit code when it fails", async () => {
    const ok = run(buildSaveFullScript({ imageId: id, marker: m, sudo: false, compression: 'gzip', rawBytes: 5 }));
    ok.child.stdin.end();
    assert.equal(await readMarkerLine(ok.child.stdout, m), 'bytes 5');
    assert.equal(await readMarkerLine(ok.child.stdout, m), 'start');
    assert.equal(gunzipSync(await rest(ok.child.stdout)).length, execFileSync('cat', [join(dir, 'save.tar')]).length);
    assert.equal(await ok.code, 0);
    const bad = run(buildSaveFullScript({ imageId: h('0'.repeat(64)), marker: m, sudo: false, compression: 'none' }));
    bad.child.stdin.end();
    bad.child.stdout.resume();
    assert.equal(await bad.code, 1);
    assert.match(bad.stderr(), /No such image/);
  });

  test('delta: the reply writes and hard-links members (an OCI layout for a containerd store), then sends them', async () => {
    const p = run(delta('oci'));
    const files: string[] = [];
    for (let l = await readMarkerLine(p.child.stdout, m); l !== 'start'; l = await readMarkerLine(p.child.stdout, m)) {
      if (l.startsWith('layout ')) assert.equal(l, 'layout legacy');
      if (l.startsWith('file ')) files.push(l.slice(5));
      if (l.startsWith('manifest ')) p.child.stdin.end(`+index.json {"a":"it's $(x) \\n"}\n=blobs/sha256/bb b/layer.tar\nindex.json\nblobs/sha256/bb\n.\n`);
    }
    assert.deepEqual(files.sort(), ['100000 ./a/layer.tar', '2 ./cfg.json', '3000 ./b/layer.tar', '79 ./manifest.json']);
    const x = mkdtempSync(join(tmpdir(), 'rf-oci-'));
    execFileSync('tar', ['-x', '-f', '-', '-C', x], { input: gunzipSync(await rest(p.child.stdout)) });
    assert.equal(await p.code, 0, p.stderr());
    assert.equal(execFileSync('cat', [join(x, 'index.json')]).toString(), '{"a":"it\'s $(x) \\n"}', 'written byte for byte, nothing expanded');
    assert.equal(execFileSync('cat', [join(x, 'blobs/sha256/bb')]).toString(), 'B'.repeat(3000));
    rmSync(x, { recursive: true });
    assert.deepEqual(readdirSync(base), []);
  });

  test('delta from a containerd content store: no docker save, the blobs linked from the store (tilde lines too), sent as they are', async () => {
    const cs = join(dir, 'cs');
    const hex = id.replace(/^sha256:/, '');
    mkdirSync(join(cs, 'blobs/sha256'), { recursive: true });
    writeFileSync(join(cs, 'blobs/sha256', hex), '{"mediaType":"m"}');
    writeFileSync(join(cs, 'blobs/sha256', 'c'.repeat(64)), 'C'.repeat(700));
    const p = run(buildSaveDeltaScript({ imageId: id, marker: m, sudo: false, compression: 'gzip', tmpBase: base, token: 'cs', contentStores: [join(dir, 'nothing'), cs] }), { FAKE_DIR: join(dir, 'no-save-here') });
    const seen: string[] = [];
    for (let l = await readMarkerLine(p.child.stdout, m); l !== 'start'; l = await readMarkerLine(p.child.stdout, m)) {
      seen.push(l);
      if (l.startsWith('manifest ')) p.child.stdin.end(`+index.json {}\n~blobs/sha256/${hex}\n~blobs/sha256/${'c'.repeat(64)}\nindex.json\nblobs/sha256/${hex}\nblobs/sha256/${'c'.repeat(64)}\n.\n`);
    }
    assert.deepEqual(seen.slice(1, 5), ['layout content-store', 'index {"mediaType":"m"}', `file 17 ./blobs/sha256/${hex}`, 'manifest []']);
    const x = mkdtempSync(join(tmpdir(), 'rf-cs-'));
    execFileSync('tar', ['-x', '-f', '-', '-C', x], { input: gunzipSync(await rest(p.child.stdout)) });
    assert.equal(await p.code, 0, p.stderr());
    assert.equal(execFileSync('cat', [join(x, 'blobs/sha256', 'c'.repeat(64))]).toString(), 'C'.repeat(700), 'the bytes, not a symlink');
    rmSync(x, { recursive: true });
    const gone = run(buildSaveDeltaScript({ imageId: id, marker: m, sudo: false, compression: 'gzip', tmpBase: base, token: 'cs2', contentStores: [cs] }));
    gone.child.stdout.resume();
    gone.child.stdin.end(`~blobs/sha256/${'d'.repeat(64)}\n.\n`);
    assert.equal(await gone.code, 7, 'a blob missing from the store fails the source (the caller falls back)');
    assert.deepEqual(readdirSync(base), []);
  });

  test('delta from a layer store (tar-split): no docker save; the config copied, the missing layer rebuilt byte for byte and checked', async () => {
    // a classic store's shape: imagedb config, layerdb/<chain>/{cache-id,tar-split.json.gz}, overlay2/<cache-id>/diff
    const root = join(dir, 'ls-root');
    const hex = id.replace(/^sha256:/, '');
    mkdirSync(join(root, 'image/overlay2/imagedb/content/sha256'), { recursive: true });
    writeFileSync(join(root, 'image/overlay2/imagedb/content/sha256', hex), '{"rootfs":{"type":"layers"}}');
    const files = join(dir, 'ls-files');
    mkdirSync(join(files, 'etc'), { recursive: true });
    writeFileSync(join(files, 'etc/app.conf'), "it's $(x)\n");
    writeFileSync(join(files, 'big'), randomBytes(50_000));
    const layerTar = execFileSync('tar', ['-c', '-f', '-', '-C', files, 'etc', 'big']);
    const d1 = h('1'.repeat(64));
    const d2 = h(createHash('sha256').update(layerTar).digest('hex'));
    const chain = chainIds([d1, d2])[1]!.replace(/^sha256:/, '');
    const ldb = join(root, 'image/overlay2/layerdb/sha256', chain);
    mkdirSync(ldb, { recursive: true });
    writeFileSync(join(ldb, 'cache-id'), 'cacheid1');
    writeFileSync(join(dir, 'layer.tar'), layerTar);
    execFileSync('tar-split', ['disasm', '--no-stdout', '--output', join(ldb, 'tar-split.json.gz'), join(dir, 'layer.tar')], { stdio: 'ignore' });
    mkdirSync(join(root, 'overlay2/cacheid1/diff'), { recursive: true });
    execFileSync('tar', ['-x', '-f', '-', '-C', join(root, 'overlay2/cacheid1/diff')], { input: layerTar });
    const pick = pickLayerStore(id, [d1, d2], [d2]);
    const save = (token: string) => run(buildSaveDeltaScript({ imageId: id, marker: m, sudo: false, compression: 'gzip', tmpBase: base, token, layerStore: root }), { FAKE_DIR: join(dir, 'no-save-here') });
    const p = save('ls');
    const seen: string[] = [];
    for (let l = await readMarkerLine(p.child.stdout, m); l !== 'start'; l = await readMarkerLine(p.child.stdout, m)) {
      seen.push(l);
      if (l.startsWith('manifest ')) p.child.stdin.end(renderPick(pick));
    }
    assert.deepEqual(seen.slice(1, 4), ['layout layer-store', `file 28 ./blobs/sha256/${hex}`, 'manifest []']);
    const x = mkdtempSync(join(tmpdir(), 'rf-ls-'));
    execFileSync('tar', ['-x', '-f', '-', '-C', x], { input: gunzipSync(await rest(p.child.stdout)) });
    assert.equal(await p.code, 0, p.stderr());
    assert.deepEqual(readdirSync(join(x, 'blobs/sha256')).sort(), [d2.slice(7), hex].sort(), 'the config and only the missing layer');
    assert.ok(execFileSync('cat', [join(x, 'blobs/sha256', d2.slice(7))]).equals(layerTar), 'the layer tar docker saved, byte for byte');
    assert.deepEqual(JSON.parse(execFileSync('cat', [join(x, 'manifest.json')]).toString())[0].Layers, [`blobs/sha256/${'1'.repeat(64)}`, `blobs/sha256/${d2.slice(7)}`]);
    rmSync(x, { recursive: true });
    // a diff folder that no longer matches (changed on disk): the source fails with 8, the caller sends the whole image
    writeFileSync(join(root, 'overlay2/cacheid1/diff/etc/app.conf'), 'changed\n');
    const bad = save('ls2');
    bad.child.stdout.resume();
    bad.child.stdin.end(renderPick(pick));
    assert.equal(await bad.code, 8, bad.stderr());
    assert.match(bad.stderr(), /does not match its diffID|could not rebuild/);
    // no readable config in the layer store: docker save as before (here the fake docker's legacy save)
    const other = run(buildSaveDeltaScript({ imageId: id, marker: m, sudo: false, compression: 'gzip', tmpBase: base, token: 'ls3', layerStore: join(dir, 'nothing') }));
    assert.equal(await readMarkerLine(other.child.stdout, m).then(() => readMarkerLine(other.child.stdout, m)), 'layout legacy');
    other.child.stdin.end('.\n');
    other.child.stdout.resume();
    await other.code;
    assert.deepEqual(readdirSync(base), []);
  });

  test('load: loads stdin, then prints the identity of the image ID and of every image the load names', () => {
    const out = execFileSync('sh', ['-c', buildLoadScript({ imageId: id, marker: m, sudo: false })], { env, input: 'data' }).toString();
    assert.match(out, new RegExp(`^Loaded image ID: ${id}\\n${m} got ${id} `));
    assert.match(out, new RegExp(`\\n${m} cfg ${id} `));
    assert.ok(existsSync(join(dir, 'loaded')));
  });
});
