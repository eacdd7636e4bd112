// Image identity across image stores, the archive for a containerd-store target, and the ID binding
// of later steps: pure, against image inspect JSON captured from the lab.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { findLoaded } from '../../src/adapters/transfer-stream.ts';
import { parseSizes, pickClassic, pickContainerd, pickContentStore, renderPick } from '../../src/core/archive-pick.ts';
import { canonicalConfig, identityDifference, identityOf, sameImage } from '../../src/core/image-identity.ts';
import { parseSaveManifest } from '../../src/core/layers.ts';
import { bindImageId, type Step } from '../../src/core/step.ts';
import { fixture } from './fixtures.ts';

const v1 = fixture('image-backend-v1.inspect.json');
const v2 = fixture('image-backend-v2.inspect.json');
const h = (c: string) => `sha256:${c.repeat(64)}`;

describe('sameImage', () => {
  test('the same ID is the same image', () => {
    assert.ok(sameImage(identityOf(v1), identityOf(v1)));
  });

  test('another ID with the same layers, creation time, platform and config (a containerd-store copy) is the same image', () => {
    // what a 28.5 containerd store reports for a 20.10 image: manifest digest as Id, [] for empty lists, other key order
    const copy = { ...v1, Id: h('c'), Config: Object.fromEntries(Object.entries(v1.Config).reverse().map(([k, v]) => [k, v === null ? [] : v])) };
    assert.ok(sameImage(identityOf(v1), identityOf(copy)));
    assert.equal(identityDifference(identityOf(v1), identityOf(copy)), undefined);
  });

  test('an incomplete containerd load (RootFS {}) is never the same image', () => {
    const broken = { ...v1, Id: h('d'), RootFS: {} };
    assert.ok(!sameImage(identityOf(v1), identityOf(broken)));
    assert.match(identityDifference(identityOf(v1), identityOf(broken)) ?? '', /no layers .*incomplete load/);
  });

  test('v1 and v2 differ; so does a copy with another env or creation time', () => {
    assert.ok(!sameImage(identityOf(v1), identityOf(v2)));
    const env = { ...v1, Id: h('e'), Config: { ...v1.Config, Env: [...(v1.Config.Env ?? []), 'X=1'] } };
    assert.equal(identityDifference(identityOf(v1), identityOf(env)), 'its configuration differs');
    const later = { ...v1, Id: h('f'), Created: '2030-01-01T00:00:00Z' };
    assert.match(identityDifference(identityOf(v1), identityOf(later)) ?? '', /creation time differs/);
  });

  test('without creation time or config only the ID tells (facts that lack them never match by layers alone)', () => {
    const bare = { id: h('a'), layers: v1.RootFS.Layers, created: '', platform: '', config: '' };
    assert.ok(!sameImage(bare, { ...bare, id: h('b') }));
  });

  test('canonicalConfig: engine extras and empty values do not count', () => {
    assert.equal(canonicalConfig({ Hostname: 'x', AttachStdin: false, Env: ['A=1'], Cmd: null, Labels: {} }), '{"Env":["A=1"]}');
    assert.equal(canonicalConfig({ Labels: { b: '1', a: '2' } }), canonicalConfig({ Labels: { a: '2', b: '1' } }));
  });
});

// manifest.json and file sizes of `docker save <id>` of ragflowauth-backend:v2 on the lab's 20.10 TEST
const LEGACY = parseSaveManifest(
  '[{"Config":"dea5857bec4a0b16288dba52613f9633b384ce70ad7243e0c8980b7cc291b026.json","RepoTags":null,"Layers":["5edc11457585bb697a167d222acfe5ef5e1f9022fb9dc2e8893cd3365c031502/layer.tar","4ef3c8fccbb8bab32852c566a81ef02878f0fb22c53ae8dbfc3892fb5bfc61fb/layer.tar","8cfa8928804c0d8aab3c1986696651bf1fb4952fbf15fcff10a00ea44953e966/layer.tar"]}]',
);
const DIFFS = ['fc7a667c8d69bd039f2fb0bfa87bcc87ae075c4da3d0ad5c8f3c0576bded39a1', '2f5f8a1b23e79aa2e128ea4811f763e990a01d595bfd1e21d2a930fa24376240', '06fa1dac8693ba3118cf9ee1a3cea90d50e1a0a1f892280beafc6c1344e82ddd'].map((d) => `sha256:${d}`);
const SIZES = parseSizes([
  '1524 ./dea5857bec4a0b16288dba52613f9633b384ce70ad7243e0c8980b7cc291b026.json',
  '2001408 ./5edc11457585bb697a167d222acfe5ef5e1f9022fb9dc2e8893cd3365c031502/layer.tar',
  '41503232 ./4ef3c8fccbb8bab32852c566a81ef02878f0fb22c53ae8dbfc3892fb5bfc61fb/layer.tar',
  '1004032 ./8cfa8928804c0d8aab3c1986696651bf1fb4952fbf15fcff10a00ea44953e966/layer.tar',
  '354 ./manifest.json',
]);

describe('the archive for the target', () => {
  test('classic target: manifest.json, config and the missing layer files, as before', () => {
    assert.deepEqual(pickClassic(LEGACY, DIFFS, [DIFFS[2]!]).members, ['manifest.json', LEGACY.Config, LEGACY.Layers[2]]);
  });

  test('containerd target, 20.10 source: the OCI layout Docker 25+ writes, with only the missing layer blob', () => {
    const pick = pickContainerd(LEGACY, DIFFS, [DIFFS[2]!], { layout: 'legacy', sizes: SIZES })!;
    const man = pick.writes.find((w) => w.path.startsWith('blobs/'))!;
    assert.equal(`sha256:${createHash('sha256').update(man.content).digest('hex')}`, pick.manifestDigest);
    assert.equal(man.path, `blobs/sha256/${pick.manifestDigest!.slice(7)}`);
    const m = JSON.parse(man.content);
    assert.equal(m.config.digest, 'sha256:dea5857bec4a0b16288dba52613f9633b384ce70ad7243e0c8980b7cc291b026');
    assert.equal(m.config.size, 1524);
    assert.deepEqual(m.layers.map((l: { digest: string; size: number }) => [l.digest, l.size]), [[DIFFS[0], 2001408], [DIFFS[1], 41503232], [DIFFS[2], 1004032]]);
    assert.ok(m.layers.every((l: { mediaType: string }) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar'));
    assert.deepEqual(pick.links, [
      { path: 'blobs/sha256/dea5857bec4a0b16288dba52613f9633b384ce70ad7243e0c8980b7cc291b026', from: LEGACY.Config },
      { path: `blobs/sha256/${DIFFS[2]!.slice(7)}`, from: LEGACY.Layers[2] },
    ]);
    assert.deepEqual(pick.members.slice(0, 3), ['oci-layout', 'index.json', 'manifest.json']);
    assert.ok(!pick.members.some((x) => x.includes(DIFFS[0]!.slice(7)) || x.includes(DIFFS[1]!.slice(7))), 'present layers stay behind');
    const index = JSON.parse(pick.writes.find((w) => w.path === 'index.json')!.content);
    assert.deepEqual(index.manifests[0], { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: pick.manifestDigest, size: Buffer.byteLength(man.content) });
    assert.match(renderPick(pick), /^\+blobs\/sha256\/[0-9a-f]{64} \{"schemaVersion":2,.*\n=blobs\/sha256\/dea5.* dea5.*\.json\n.*\noci-layout\n.*\.\n$/s);
  });

  test('containerd target, Docker 25+ source (OCI layout already): index, manifest blob, config and the missing blobs only', () => {
    const oci = parseSaveManifest(`[{"Config":"blobs/sha256/${'c'.repeat(64)}","RepoTags":null,"Layers":["blobs/sha256/${'1'.repeat(64)}","blobs/sha256/${'2'.repeat(64)}"]}]`);
    const md = h('9');
    const index = JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: 700 }] });
    const sizes = new Map([[`blobs/sha256/${'9'.repeat(64)}`, 700]]);
    const pick = pickContainerd(oci, [h('a'), h('b')], [h('b')], { layout: 'oci', index, sizes })!;
    assert.deepEqual(pick.members, ['oci-layout', 'index.json', 'manifest.json', `blobs/sha256/${'9'.repeat(64)}`, `blobs/sha256/${'c'.repeat(64)}`, `blobs/sha256/${'2'.repeat(64)}`]);
    assert.equal(pick.manifestDigest, md);
    const two = JSON.stringify({ manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md }, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: h('8') }] });
    assert.equal(pickContainerd(oci, [h('a'), h('b')], [h('b')], { layout: 'oci', index: two, sizes }), undefined, 'several manifests: sent whole');
  });

  test('from a containerd content store: its manifest, config and missing blobs as stored, with index.json and manifest.json naming them', () => {
    const md = h('9');
    const man = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: h('c') }, layers: [{ digest: h('1') }, { digest: h('2') }] });
    const listing = { layout: 'content-store' as const, index: man, sizes: new Map([[`blobs/sha256/${'9'.repeat(64)}`, 512]]) };
    const pick = pickContentStore(md, [h('a'), h('b')], [h('b')], listing)!;
    assert.deepEqual(pick.fromStore, [`blobs/sha256/${'9'.repeat(64)}`, `blobs/sha256/${'c'.repeat(64)}`, `blobs/sha256/${'2'.repeat(64)}`]);
    assert.deepEqual(JSON.parse(pick.writes.find((w) => w.path === 'index.json')!.content).manifests, [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: 512 }]);
    assert.deepEqual(JSON.parse(pick.writes.find((w) => w.path === 'manifest.json')!.content)[0].Layers, [`blobs/sha256/${'1'.repeat(64)}`, `blobs/sha256/${'2'.repeat(64)}`]);
    assert.match(renderPick(pick), new RegExp(`\n~blobs/sha256/${'2'.repeat(64)}\n`));
    const index = JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
    assert.equal(pickContentStore(md, [h('a'), h('b')], [h('b')], { ...listing, index }), undefined, 'a multi-platform index: docker save instead');
  });

  test('hostile member names from a save are refused', () => {
    const bad = parseSaveManifest('[{"Config":"../etc/passwd","Layers":[]}]');
    assert.throws(() => pickClassic(bad, [], []), /unexpected member name/);
  });
});

describe('bindImageId', () => {
  test("later steps and the plan's containers name the target's ID", () => {
    const step: Step = { kind: 'exec', act: 'tag', name: 'tag images', host: 'prod', cause: 'c', commands: [{ argv: ['docker', 'tag', h('a'), 'app:v2'] }, { script: `test "$(docker inspect -f '{{.Image}}' app)" = '${h('a')}'` }] };
    const bound = bindImageId(step, h('a'), h('b'));
    assert.equal(JSON.stringify(bound).includes(h('a')), false);
    assert.equal(bound.kind === 'exec' && bound.commands[0]!.argv![2], h('b'));
    assert.equal(bindImageId(step, h('a'), 'not-an-id'), step, 'only IDs are replaced');
  });
});

describe('findLoaded', () => {
  const M = '@@rfx-1';
  const line = (key: string, i: typeof v1) => `${M} ${key} ${i.Id} ${i.Size} ${i.Created} ${i.Os}/${i.Architecture} ${i.RootFS.Layers.join(' ')} `;
  const cfg = (i: typeof v1, id = i.Id) => `${M} cfg ${id} ${JSON.stringify(i.Config)}`;

  test('the source ID, or the same image under another ID, is what the target loaded', () => {
    assert.equal(findLoaded([line('got', v1), cfg(v1)], M, { ...identityOf(v1), size: 0 } as never), v1.Id);
    const other = { ...v1, Id: h('c') };
    assert.equal(findLoaded(['Loaded image ID: x', line('got', other), cfg(v1, other.Id)], M, identityOf(v1)), other.Id);
  });

  test('another image, or an image docker names but cannot read (incomplete containerd load): why, for the log', () => {
    assert.match((findLoaded([line('got', v2), cfg(v2)], M, identityOf(v1)) as { why: string }).why, /^loaded sha256:.*, which is not the source's image: its layers differ/);
    assert.match((findLoaded([`Loaded image ID: ${h('d')}`], M, identityOf(v1)) as { why: string }).why, /^loaded sha256:d{64}, but docker cannot read its layers: an incomplete load/);
    assert.match((findLoaded([], M, identityOf(v1)) as { why: string }).why, /docker load named none/);
  });
});
