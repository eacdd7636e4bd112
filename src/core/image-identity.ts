// An image's identity across hosts and image stores (pure). `Id` names an image only within one
// store: the classic store uses the config digest, the containerd store the manifest digest, and
// that manifest depends on the archive the image arrived in (research/modern-engines.md §4.2). So
// two hosts hold "the same image" when the layers (diffIDs), creation time, platform and the
// configuration docker reports are equal; `docker image inspect` shows no config digest on the
// containerd store, so these are what both stores can tell us.
import type { ImageLike, InspectLike } from './plan.ts';

/** The parts of `docker image inspect` identity reads; any engine, either store. */
export interface IdentityInspect {
  Id?: string;
  Created?: string;
  Architecture?: string;
  Os?: string;
  Variant?: string;
  RootFS?: { Layers?: string[] | null } | null;
  Config?: Record<string, unknown> | null;
}

/** What makes an image the same image on any host. */
export interface ImageIdentity {
  id: string;
  layers: string[];
  created: string;
  platform: string;
  /** Canonical JSON of the image configuration (empty values dropped, keys sorted). */
  config: string;
}

// Config fields an image sets (Dockerfile instructions); engine-specific extras (AttachStdin, Image,
// Hostname…) differ between 20.10 and 28 for the same image and say nothing about it
const CONFIG_KEYS = ['Cmd', 'Entrypoint', 'Env', 'ExposedPorts', 'Healthcheck', 'Labels', 'OnBuild', 'Shell', 'StopSignal', 'User', 'Volumes', 'WorkingDir'];

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

/** Sorted keys, empty values dropped, recursively: one spelling for what engines print differently. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const c = canonical((v as Record<string, unknown>)[k]);
      if (!isEmpty(c)) out[k] = c;
    }
    return out;
  }
  return v;
}

/** The canonical configuration string of an image's `Config`. */
export function canonicalConfig(config: Record<string, unknown> | null | undefined): string {
  const picked: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) if (config && !isEmpty(config[k])) picked[k] = config[k];
  return JSON.stringify(canonical(picked));
}

/** The identity of an inspected image. */
export function identityOf(i: IdentityInspect): ImageIdentity {
  return {
    id: i.Id ?? '',
    layers: [...(i.RootFS?.Layers ?? [])],
    created: i.Created ?? '',
    platform: [i.Os ?? '', i.Architecture ?? '', i.Variant ?? ''].filter(Boolean).join('/'),
    config: canonicalConfig(i.Config),
  };
}

/**
 * Whether two images are the same: the same ID, or (across stores) the same non-empty layers,
 * creation time, platform and configuration. An image whose layers are unknown (a containerd
 * load that exited 0 but lacks blobs shows `RootFS: {}`) is never the same as anything else.
 */
export function sameImage(a: ImageIdentity, b: ImageIdentity): boolean {
  if (a.id && a.id === b.id) return true;
  // without creation time and configuration, only the ID can tell
  if (!a.created || !a.config) return false;
  if (a.layers.length === 0 || a.layers.length !== b.layers.length) return false;
  if (!a.layers.every((l, i) => l === b.layers[i])) return false;
  return a.created === b.created && a.platform === b.platform && a.config === b.config;
}

/** Why two images differ, for a log line (undefined when they are the same). */
export function identityDifference(expected: ImageIdentity, got: ImageIdentity): string | undefined {
  if (sameImage(expected, got)) return undefined;
  if (got.layers.length === 0) return 'the loaded image has no layers (an incomplete load: a layer blob is missing in the image store)';
  if (got.layers.join() !== expected.layers.join()) return `its layers differ (${got.layers.length} layers, expected ${expected.layers.length})`;
  if (got.created !== expected.created) return `its creation time differs (${got.created}, expected ${expected.created})`;
  if (got.platform !== expected.platform) return `its platform differs (${got.platform}, expected ${expected.platform})`;
  return 'its configuration differs';
}

/** The ID under which `target` holds `image`, if it holds it at all. */
export function findSameImage<T extends ImageIdentity>(image: ImageIdentity, target: readonly T[]): T | undefined {
  return target.find((t) => t.id === image.id) ?? target.find((t) => sameImage(image, t));
}

/**
 * The source container as the target would name its image: unchanged when the target has the
 * same ID or not the image at all (the transfer binds the ID later, execute.ts); otherwise with the
 * target's ID for the same image (same layers, creation time and configuration).
 */
export function asTargetSees(s: InspectLike | undefined, srcImages: Map<string, ImageLike | undefined>, dstImages: Map<string, ImageLike | undefined>): InspectLike | undefined {
  const img = s ? srcImages.get(s.Image) : undefined;
  if (!s || !img || dstImages.get(s.Image)) return s;
  const want = identityOf(img as IdentityInspect);
  const same = [...dstImages.values()].find((d) => d && sameImage(want, identityOf(d as IdentityInspect)));
  return same ? { ...s, Image: same.Id } : s;
}
