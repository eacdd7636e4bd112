// Layer planning for image transfer (pure): chain IDs, which layers the target lacks, the members
// of a `docker save` archive to send, the compression both ends accept, and the disk space needed.
import { createHash } from 'node:crypto';
import { ReleaseflowError } from './errors.ts';
import { canonicalConfig, findSameImage, type ImageIdentity } from './image-identity.ts';

/** An image as the facts scripts print it: ID, size (bytes, uncompressed), diffIDs (base first) and identity. */
export interface LayeredImage extends ImageIdentity {
  size: number;
}

/** Chain IDs of a layer stack, as dockerd's layer store names them (layer/layer.go CreateChainID). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const parent = out.at(-1);
    out.push(parent === undefined ? d : `sha256:${createHash('sha256').update(`${parent} ${d}`).digest('hex')}`);
  }
  return out;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Parse lines `<id> <size> <created> <os/arch> <diffID> …` (one image per line; other lines
 * ignored; the short form `<id> <size> <diffID> …` too) and `cfg <id> <Config JSON>` lines.
 */
export function parseImageLines(text: string, configLines = ''): LayeredImage[] {
  const configs = new Map<string, string>();
  for (const line of configLines.split('\n')) {
    const m = /^(sha256:[0-9a-f]{64}) (.*)$/.exec(line.trim());
    if (!m) continue;
    try {
      configs.set(m[1]!, canonicalConfig(JSON.parse(m[2]!) as Record<string, unknown> | null));
    } catch {
      // an unreadable config leaves the image comparable by ID only
    }
  }
  const out: LayeredImage[] = [];
  for (const line of text.split('\n')) {
    const [id, size, ...rest] = line.trim().split(/\s+/);
    if (!id || !DIGEST.test(id) || !/^\d+$/.test(size ?? '')) continue;
    const long = rest[0] !== undefined && !DIGEST.test(rest[0]);
    const [created, platform, ...layers] = long ? rest : ['', '', ...rest];
    out.push({ id, size: Number(size), created: created ?? '', platform: platform ?? '', config: configs.get(id) ?? '', layers: layers.filter((l) => DIGEST.test(l)) });
  }
  return out;
}

/** Every chain ID a host has: each prefix of each image's layer stack. */
export function chainSet(images: readonly LayeredImage[]): Set<string> {
  const set = new Set<string>();
  for (const i of images) for (const c of chainIds(i.layers)) set.add(c);
  return set;
}

export type LayerPlan =
  | { kind: 'present'; total: number; reason: string; targetId: string }
  | { kind: 'delta' | 'full'; total: number; shared: number; missing: string[]; missingBytes: number; reason: string };

/**
 * Decide what to send: nothing when the target has the exact image ID; the layers above the
 * longest chain-ID prefix the target has (`docker load` skips a layer whose chain ID exists
 * without opening its file; the containerd store likewise skips the unpack of a layer whose chain
 * it has, given an OCI layout: archive-pick.ts); everything when nothing is shared. `missingBytes`
 * is an upper bound.
 */
export function planLayers(image: LayeredImage, target: readonly LayeredImage[], targetStore: 'classic' | 'containerd'): LayerPlan {
  const total = image.layers.length;
  if (target.some((t) => t.id === image.id)) return { kind: 'present', total, reason: 'the target has the exact image ID', targetId: image.id };
  // across image stores the same image has another ID: same layers, creation time and config
  const same = image.config ? findSameImage(image, target) : undefined;
  if (same) return { kind: 'present', total, reason: `the target has the same image (same layers, creation time and configuration) as ${same.id}`, targetId: same.id };
  const full = (reason: string): LayerPlan => ({ kind: 'full', total, shared: 0, missing: [...image.layers], missingBytes: image.size, reason });
  const chains = chainIds(image.layers);
  const have = chainSet(target);
  let k = 0;
  for (let i = chains.length - 1; i >= 0; i--) {
    if (have.has(chains[i]!)) {
      k = i + 1;
      break;
    }
  }
  if (k === 0) return full('the target has none of its layers');
  // bytes already there: the biggest target image whose whole stack is a prefix of ours within k
  const prefix = new Set(chains.slice(0, k));
  let sharedBytes = 0;
  for (const t of target) {
    const top = chainIds(t.layers).at(-1);
    if (top && prefix.has(top)) sharedBytes = Math.max(sharedBytes, t.size);
  }
  return {
    kind: 'delta',
    total,
    shared: k,
    missing: image.layers.slice(k),
    missingBytes: Math.max(0, image.size - sharedBytes),
    reason: `the target has the first ${k} of ${total} layers (by chain ID)${targetStore === 'containerd' ? '; its containerd image store gets an OCI layout without them' : ''}`,
  };
}

/** The `manifest.json` entry of a `docker save` archive (20.10 and 25+ layouts alike). */
export interface SaveManifest {
  Config: string;
  Layers: string[];
}

/** Parse a save archive's manifest.json (one image). */
export function parseSaveManifest(json: string): SaveManifest {
  const v: unknown = JSON.parse(json);
  const m = (Array.isArray(v) ? v[0] : undefined) as Partial<SaveManifest> | undefined;
  if (!m || typeof m.Config !== 'string' || !Array.isArray(m.Layers) || !m.Layers.every((l) => typeof l === 'string')) {
    throw new Error('manifest.json of docker save is not [{Config, Layers}]');
  }
  return { Config: m.Config, Layers: m.Layers };
}

export type Compression = 'zstd' | 'pigz' | 'gzip' | 'none';

/** The major version of a docker server version string (`20.10.24+dfsg1` → 20). */
export function dockerMajor(version: string | undefined): number | undefined {
  const m = /^(\d+)\./.exec(version ?? '');
  return m ? Number(m[1]) : undefined;
}

/** zstd when the target's dockerd reads it (23+) and the source has it; else pigz or gzip -1 on the source. */
export function chooseCompression(sourceTools: readonly string[], targetDockerVersion: string | undefined): Compression {
  if ((dockerMajor(targetDockerVersion) ?? 0) >= 23 && sourceTools.includes('zstd')) return 'zstd';
  if (sourceTools.includes('pigz')) return 'pigz';
  if (sourceTools.includes('gzip')) return 'gzip';
  return 'none';
}

/** The compressor's argv (writes to stdout); undefined for none. */
export function compressorArgv(c: Compression): string[] | undefined {
  switch (c) {
    case 'zstd':
      return ['zstd', '-1', '-T0', '-q', '-c'];
    case 'pigz':
      return ['pigz', '-1', '-c'];
    case 'gzip':
      return ['gzip', '-1', '-c'];
    case 'none':
      return undefined;
  }
}

/** Not enough disk on a host for the transfer; nothing was changed. */
export class TransferSpaceError extends ReleaseflowError {}

/** Where bytes will be written and how much room there is (free undefined: unknown, not checked). */
export interface SpaceNeed {
  host: string;
  path: string;
  /** Mount point of path's filesystem: needs on the same filesystem add up. */
  mount?: string;
  need: number;
  free?: number;
  what: string;
  fix: string;
}

const MiB = 1024 * 1024;

/** Bytes for people: `46.6 MB (46,590,738 bytes)`. */
export function describeBytes(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB (${n.toLocaleString('en-US')} bytes)`;
}

/** Add a margin for tar headers and filesystem slack. */
export function withMargin(bytes: number): number {
  return Math.ceil(bytes * 1.05) + 16 * MiB;
}

/** The first need that does not fit, as an error naming host, bytes needed, bytes free and the fix. */
export function checkSpace(needs: readonly SpaceNeed[]): TransferSpaceError | undefined {
  const groups = new Map<string, SpaceNeed[]>();
  for (const n of needs) {
    const key = `${n.host}\0${n.mount ?? n.path}`;
    groups.set(key, [...(groups.get(key) ?? []), n]);
  }
  for (const g of groups.values()) {
    const first = g[0]!;
    const need = g.reduce((a, n) => a + n.need, 0);
    if (first.free === undefined || first.free >= need) continue;
    return new TransferSpaceError(
      `not enough disk space on ${first.host} for the image transfer: ${describeBytes(need)} needed in ${first.path} (${g.map((n) => n.what).join(' + ')}), ${describeBytes(first.free)} free; nothing was changed`,
      { host: first.host, fix: g.map((n) => n.fix).filter((f, i, a) => a.indexOf(f) === i).join('; ') },
    );
  }
  return undefined;
}
