// What part of a `docker save` archive to send (pure): the members, and for a containerd-store
// target the OCI layout it needs. Measured (research/modern-engines.md §4): a classic store loads
// manifest.json + config + the missing layer files; the containerd store loads a stripped archive
// only as an OCI layout (oci-layout + index.json + manifest blob), skipping the unpack of layers
// whose chain it has, while a stripped legacy (20.10) archive fails there. 20.10 saves have no OCI
// layout: we write the one Docker 25+ would (compact JSON, uncompressed layers named by diffID).
import { createHash } from 'node:crypto';
import { chainIds, type SaveManifest } from './layers.ts';

/** What the source tells about its extracted save, beside manifest.json. */
export interface SaveListing {
  /**
   * `oci` when the save has oci-layout + index.json (Docker 25+, either store); `content-store` when
   * a containerd-store source reads its blobs directly (no docker save): `index` is then the image's
   * manifest blob; `layer-store` when a classic-store source rebuilds the missing layers from its layer
   * store with tar-split (no docker save): only the config is listed.
   */
  layout: 'oci' | 'legacy' | 'content-store' | 'layer-store';
  /** index.json, as text (oci layout), or the manifest blob (content store). */
  index?: string;
  /** Size of every file (symlinks followed), by path inside the archive. */
  sizes: Map<string, number>;
}

/** The source's reply: files to write, files to link, then the members to tar. */
export interface ArchivePick {
  members: string[];
  writes: { path: string; content: string }[];
  links: { path: string; from: string }[];
  /** Blobs linked from the source's containerd content store (content-store layout). */
  fromStore?: string[];
  /** Layers the source rebuilds from its layer store (layer-store layout): the file (named by diffID) and a chain ID whose diff it is. */
  assemble?: { path: string; chain: string }[];
  /** The manifest digest the target will know the image by (containerd store), when we know it. */
  manifestDigest?: string;
}

const SAFE_MEMBER = /^(?!-)(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/-]+$/;
const HEX = /^[0-9a-f]{64}$/;
const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];

function checkNames(pick: ArchivePick): ArchivePick {
  const names = [...pick.members, ...pick.writes.map((w) => w.path), ...pick.links.flatMap((l) => [l.path, l.from]), ...(pick.fromStore ?? []), ...(pick.assemble ?? []).map((a) => a.path)];
  for (const a of pick.assemble ?? []) if (!HEX.test(a.chain)) throw new Error(`internal: a chain ID must be 64 hex digits: ${JSON.stringify(a.chain)}`);
  for (const m of names) if (!SAFE_MEMBER.test(m)) throw new Error(`unexpected member name in docker save output: ${JSON.stringify(m)}`);
  for (const w of pick.writes) if (/[\n\r]/.test(w.content)) throw new Error(`internal: a written member must be one line: ${w.path}`);
  return pick;
}

/** Layer paths of the positions whose diffID is missing (each path once: 20.10 repeats duplicates as symlinks). */
function missingPaths(manifest: SaveManifest, diffIds: readonly string[], missing: readonly string[]): string[] {
  if (manifest.Layers.length !== diffIds.length) throw new Error(`docker save lists ${manifest.Layers.length} layers, the image has ${diffIds.length}`);
  const need = new Set(missing);
  return [...new Set(manifest.Layers.filter((_, i) => need.has(diffIds[i]!)))];
}

/** The members for a classic-store target: manifest.json, the config and the missing layers, any layout. */
export function pickClassic(manifest: SaveManifest, diffIds: readonly string[], missing: readonly string[]): ArchivePick {
  const members = [...new Set(['manifest.json', manifest.Config, ...missingPaths(manifest, diffIds, missing)])];
  return checkNames({ members, writes: [], links: [] });
}

/** The OCI manifest Docker 25+ writes for a classic image (uncompressed layers by diffID), as bytes we hash. */
export function ociManifestFor(configDigest: string, configSize: number, layers: readonly { digest: string; size: number }[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configSize },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest, size: l.size })),
  });
}

const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** The archive for a containerd-store target: an OCI layout without the layer blobs it has. */
export function pickContainerd(manifest: SaveManifest, diffIds: readonly string[], missing: readonly string[], listing: SaveListing): ArchivePick | undefined {
  const layerPaths = missingPaths(manifest, diffIds, missing);
  if (listing.layout === 'oci') {
    const index = JSON.parse(listing.index ?? '{}') as { manifests?: { mediaType?: string; digest?: string }[] };
    const entries = index.manifests ?? [];
    // one image manifest: a saved index of several platforms or attestations is sent whole
    if (entries.length !== 1 || !MANIFEST_TYPES.includes(entries[0]!.mediaType ?? '') || !/^sha256:[0-9a-f]{64}$/.test(entries[0]!.digest ?? '')) return undefined;
    const digest = entries[0]!.digest!;
    const blob = `blobs/sha256/${digest.slice(7)}`;
    if (!listing.sizes.has(blob)) return undefined;
    const members = [...new Set(['oci-layout', 'index.json', 'manifest.json', blob, manifest.Config, ...layerPaths])];
    return checkNames({ members, writes: [], links: [], manifestDigest: digest });
  }
  // legacy 20.10 save: config `<hex>.json`, layers `<dir>/layer.tar` (uncompressed: digest = diffID)
  const cfgHex = /^([0-9a-f]{64})\.json$/.exec(manifest.Config)?.[1];
  const cfgSize = listing.sizes.get(manifest.Config);
  if (!cfgHex || cfgSize === undefined) return undefined;
  const layers: { digest: string; size: number }[] = [];
  for (const [i, path] of manifest.Layers.entries()) {
    const size = listing.sizes.get(path);
    const d = diffIds[i]!;
    if (size === undefined || !HEX.test(d.slice(7))) return undefined;
    layers.push({ digest: d, size });
  }
  const man = ociManifestFor(`sha256:${cfgHex}`, cfgSize, layers);
  const md = sha256(man);
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: Buffer.byteLength(man) }],
  });
  const blob = (d: string) => `blobs/sha256/${d.replace(/^sha256:/, '')}`;
  const need = new Set(missing);
  const sent = [...new Set(diffIds.filter((d) => need.has(d)))];
  const legacyManifest = JSON.stringify([{ Config: blob(cfgHex), RepoTags: null, Layers: diffIds.map(blob) }]);
  const links = [{ path: blob(cfgHex), from: manifest.Config }, ...sent.map((d) => ({ path: blob(d), from: manifest.Layers[diffIds.indexOf(d)]! }))];
  const writes = [
    { path: blob(md), content: man },
    { path: 'index.json', content: index },
    { path: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
    { path: 'manifest.json', content: legacyManifest },
  ];
  const members = ['oci-layout', 'index.json', 'manifest.json', blob(md), ...links.map((l) => l.path)];
  return checkNames({ members, writes, links, manifestDigest: md });
}

/**
 * Straight from a containerd-store source's content store (no docker save): its own manifest and
 * blobs (layers compressed as stored), an index.json and a manifest.json naming them, so that a
 * containerd store (OCI layout) and a classic one (manifest.json) both load it. Only the missing
 * layers' blobs go; undefined when the image's blob is not a single-platform manifest.
 */
export function pickContentStore(manifestDigest: string, diffIds: readonly string[], missing: readonly string[], listing: SaveListing): ArchivePick | undefined {
  let man: { mediaType?: string; config?: { digest?: string }; layers?: { digest?: string }[] };
  try {
    man = JSON.parse(listing.index ?? '');
  } catch {
    return undefined;
  }
  const blob = (d: string) => `blobs/sha256/${d.replace(/^sha256:/, '')}`;
  const size = listing.sizes.get(blob(manifestDigest));
  const layers = (man.layers ?? []).map((l) => l.digest ?? '');
  const digests = [man.config?.digest ?? '', ...layers];
  if (!MANIFEST_TYPES.includes(man.mediaType ?? '') || size === undefined || layers.length !== diffIds.length || !digests.every((d) => /^sha256:[0-9a-f]{64}$/.test(d))) return undefined;
  const need = new Set(missing);
  const sent = [...new Set(layers.filter((_, i) => need.has(diffIds[i]!)))];
  const writes = [
    { path: 'index.json', content: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: man.mediaType, digest: manifestDigest, size }] }) },
    { path: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
    { path: 'manifest.json', content: JSON.stringify([{ Config: blob(man.config!.digest!), RepoTags: null, Layers: layers.map(blob) }]) },
  ];
  const fromStore = [blob(manifestDigest), blob(man.config!.digest!), ...sent.map(blob)];
  return checkNames({ members: ['oci-layout', 'index.json', 'manifest.json', ...fromStore], writes, links: [], fromStore, manifestDigest });
}

/**
 * From a classic-store source's layer store (no docker save), for a classic-store target: a manifest.json
 * naming the config and every layer by diffID, the config (copied by the source) and only the missing
 * layers, each rebuilt by tar-split from a chain whose diff it is. A classic store's `docker load` reads
 * no file of a layer whose chain it has, so the others need not exist.
 */
export function pickLayerStore(imageId: string, diffIds: readonly string[], missing: readonly string[]): ArchivePick {
  const blob = (d: string) => `blobs/sha256/${d.replace(/^sha256:/, '')}`;
  const chains = chainIds(diffIds);
  const need = new Set(missing);
  const sent = [...new Set(diffIds.filter((d) => need.has(d)))];
  const assemble = sent.map((d) => ({ path: blob(d), chain: chains[diffIds.indexOf(d)]!.replace(/^sha256:/, '') }));
  const writes = [{ path: 'manifest.json', content: JSON.stringify([{ Config: blob(imageId), RepoTags: null, Layers: diffIds.map(blob) }]) }];
  return checkNames({ members: ['manifest.json', blob(imageId), ...assemble.map((a) => a.path)], writes, links: [], assemble });
}

/** The lines the save script reads: `+path content` writes, `=path from` links, `~path` content-store blobs, `*path chain` rebuilt layers, members, then `.`. */
export function renderPick(pick: ArchivePick): string {
  return [
    ...pick.writes.map((w) => `+${w.path} ${w.content}`),
    ...pick.links.map((l) => `=${l.path} ${l.from}`),
    ...(pick.fromStore ?? []).map((p) => `~${p}`),
    ...(pick.assemble ?? []).map((a) => `*${a.path} ${a.chain}`),
    ...pick.members,
    '.',
  ]
    .map((l) => `${l}\n`)
    .join('');
}

/** Parse the listing lines the save script prints (`file <size> <path>`). */
export function parseSizes(lines: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of lines) {
    const m = /^(\d+) (.+)$/.exec(l.trim());
    if (m) out.set(m[2]!.replace(/^\.\//, ''), Number(m[1]));
  }
  return out;
}
