// Image transfer: plan from both hosts' facts, then send only the layers the target lacks,
// compressed, from `docker save` on the source through this machine into `docker load` on the
// target. Nothing touches this machine's disk. Falls back to the whole image once on a failure.
import { randomBytes } from 'node:crypto';
import { ReleaseflowError } from '../core/errors.ts';
import {
  type Compression,
  chooseCompression,
  checkSpace,
  describeBytes,
  type LayeredImage,
  type LayerPlan,
  parseSaveManifest,
  planLayers,
  type SpaceNeed,
  withMargin,
} from '../core/layers.ts';
import { type ImageHostFacts, type LoadDisks, readImageFacts, readLoadDisks } from './image-facts.ts';
import { type ArchivePick, pickClassic, pickContainerd, pickContentStore, pickLayerStore, renderPick, type SaveListing } from '../core/archive-pick.ts';
import { describeRoute } from '../core/direct.ts';
import { relayDirect, type ResolvedDirect } from './transfer-direct.ts';
import { buildCleanupScript, buildFollowScript, buildLoadScript, buildPassOnScript, buildSaveDeltaScript, buildSaveFullScript } from './image-scripts.ts';
import type { SshHost } from './ssh.ts';
import type { TransferProgress } from './transfer-progress.ts';
import { RelayError, relayImage } from './transfer-stream.ts';

export type { TransferProgress } from './transfer-progress.ts';

/** How an image went over: not at all (target had it), only missing layers, or whole. */
export type TransferStrategy = 'present' | 'delta' | 'full';

export interface TransferResult {
  /** The ID the target holds the image under: the source's, or another on another image store. */
  targetId: string;
  /** Bytes on the wire (compressed), summed over attempts. */
  bytes: number;
  durationMs: number;
  loadOutput: string;
  strategy: TransferStrategy;
  /** True when the layer-only attempt failed and the whole image was sent instead. */
  fellBack: boolean;
  compression: Compression;
  layers: { total: number; sent: number };
  /** Bytes before compression of the successful attempt, when measured. */
  rawBytes?: number;
  /** Where the source read a delta from: its docker save (legacy or OCI layout), its containerd content store, or its layer store (tar-split). */
  layout?: SaveListing['layout'];
  /** --relay: the host this one took the stream from while that host loaded it. */
  relayedBy?: string;
}

/** What planTransfer decided, from both hosts' facts. */
export interface TransferPlan {
  imageId: string;
  image: LayeredImage;
  layers: LayerPlan;
  compression: Compression;
  source: ImageHostFacts;
  target: ImageHostFacts;
}

export interface TransferOptions {
  /** Wire bytes and rate (bytes/s); `p` adds the estimated total and ETA. */
  onProgress?: (bytes: number, rateBps: number, p: TransferProgress) => void;
  onInfo?: (message: string) => void;
  /** A fallback to the whole image is reported here. */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** Abort when no byte moved for this long (default 120 s). */
  stallMs?: number;
  /** 'full' sends the whole image even when the target shares layers. */
  strategy?: 'auto' | 'full';
  compression?: Compression | 'auto';
  /** A plan made earlier (tests use it to simulate a stale plan). */
  plan?: TransferPlan;
  /** --direct: the target pulls from the source over its own SSH; nothing passes through here. */
  direct?: ResolvedDirect;
  /** The target's ssh connect timeout to the source (--direct), seconds. */
  connectTimeoutS?: number;
  /** --relay: this transfer's place in a chain of hosts that pass the image on, or (through this machine) in a fan-out from one save on the source (core/relay.ts). */
  relay?: TransferRelay;
}

/** A transfer's place in a relay chain, with the host it follows resolved for --direct. */
export interface TransferRelay {
  marker: string;
  passOn?: string;
  /** `direct`: the route to that host for --direct (absent through this machine). */
  follow?: { host: SshHost; direct?: ResolvedDirect; fan: string };
}

/** How long a follower waits for the host before it to start passing an image on (that host may move other images first). */
const FOLLOW_WAIT_S = 600;

/** Read both hosts' facts (one SSH round trip each, in parallel) and decide what to send. Changes nothing. */
export async function planTransfer(from: SshHost, to: SshHost, imageId: string, opts: TransferOptions = {}): Promise<TransferPlan> {
  const [source, target] = await Promise.all([readImageFacts(from, { imageId, signal: opts.signal }), readImageFacts(to, { signal: opts.signal })]);
  const image = source.images.find((i) => i.id === imageId);
  if (!image) {
    throw new ReleaseflowError(`image ${imageId} is not on ${from.name}`, { host: from.name, fix: `check the image on ${from.name}: docker image inspect ${imageId}` });
  }
  let layers = planLayers(image, target.images, target.store);
  if (opts.strategy === 'full' && layers.kind === 'delta') layers = wholeImage(image, 'a full transfer was asked for');
  const compression = opts.compression && opts.compression !== 'auto' ? opts.compression : chooseCompression(source.tools, target.dockerVersion);
  const plan = { imageId, image, layers, compression, source, target };
  const err = checkSpace(spaceNeeds(plan, from.name, to.name));
  if (err) throw err;
  return plan;
}

function wholeImage(image: LayeredImage, reason: string): LayerPlan {
  return { kind: 'full', total: image.layers.length, shared: 0, missing: [...image.layers], missingBytes: image.size, reason };
}

/** Disk the transfer will use: docker's save staging (+ our extracted copy for a delta) and the target's load. */
export function spaceNeeds(plan: TransferPlan, fromName: string, toName: string): SpaceNeed[] {
  const { layers, image, source, target } = plan;
  if (layers.kind === 'present') return [];
  const srcFix = `free disk space on ${fromName} (docker system df; docker image prune; docker builder prune)`;
  const needs: SpaceNeed[] = [];
  const root = source.dataRoot;
  const tmp = source.tmpBase;
  // rebuilt from the layer store: no docker save, only the missing layers are written (the config is small)
  if (layers.kind === 'delta' && layerStore(source, target)) {
    if (tmp) needs.push({ host: fromName, path: tmp.path, mount: tmp.mount, free: tmp.free, need: withMargin(layers.missingBytes), what: 'the missing layers rebuilt from the layer store', fix: srcFix });
  } else {
    if (root) needs.push({ host: fromName, path: root.path, mount: root.mount, free: root.free, need: withMargin(image.size), what: 'docker save staging', fix: srcFix });
    if (layers.kind === 'delta' && tmp) needs.push({ host: fromName, path: tmp.path, mount: tmp.mount, free: tmp.free, need: withMargin(image.size), what: 'extracted copy of the image', fix: srcFix });
  }
  const troot = target.dataRoot;
  // a delta's size is known exactly only once the source has extracted it: checked then (targetNeed)
  if (troot && layers.kind === 'full') {
    needs.push({
      host: toName,
      path: troot.path,
      mount: troot.mount,
      free: troot.free,
      need: withMargin(2 * layers.missingBytes),
      what: 'docker load staging and unpacked layers',
      fix: `free disk space on ${toName} (docker system df; docker image prune -a removes images no container uses)`,
    });
  }
  return needs;
}

/**
 * The target's disk need right before docker load, from its free space read then: the daemon stages the
 * archive in <data-root>/tmp, then unpacks the layers in the data-root; on one filesystem the two add up.
 */
export function loadNeeds(toName: string, rawBytes: number, disks: LoadDisks): SpaceNeed[] {
  const fix = `free disk space on ${toName} (docker system df; docker image prune -a removes images no container uses)`;
  const stage = disks.staging ?? disks.root;
  const needs: SpaceNeed[] = [];
  if (stage) needs.push({ host: toName, path: stage.path, mount: stage.mount, free: stage.free, need: withMargin(rawBytes), what: 'docker load staging', fix });
  if (disks.root) needs.push({ host: toName, path: disks.root.path, mount: disks.root.mount, free: disks.root.free, need: withMargin(rawBytes), what: 'unpacked layers', fix });
  return needs;
}

/**
 * PROD's free space where docker load writes, read right before the stream starts (the plan's figures may be
 * minutes old); the size TEST announces is checked against it before PROD's load starts. Read first, not on
 * the header: the header loop must not wait on another round trip while the source's bytes arrive.
 */
async function loadSpaceCheck(to: SshHost, plan: TransferPlan, signal?: AbortSignal): Promise<((rawBytes: number) => void) | undefined> {
  const root = plan.target.dataRoot?.path;
  if (!root) return undefined;
  const disks = await readLoadDisks(to, root, signal);
  return (rawBytes) => {
    const err = checkSpace(loadNeeds(to.name, rawBytes, disks));
    if (err) throw err;
  };
}

/** Where a delta's layers come from, for the plan line (and how to make a classic source's cheaper). */
function deltaSource(plan: TransferPlan): string {
  const { source, target } = plan;
  if (layerStore(source, target)) return `; read from ${source.host}'s layer store by tar-split (no docker save)`;
  if (source.store === 'classic' && target.store === 'classic' && source.driver === 'overlay2') return `; ${source.host} runs docker save of the whole image first (install tar-split on ${source.host} to rebuild only the missing layers)`;
  return '';
}

/** A one-line description of the plan for the log. */
export function describePlan(plan: TransferPlan, toName: string, direct?: ResolvedDirect): string {
  const l = plan.layers;
  if (l.kind === 'present') return `${toName} already has image ${plan.imageId}: nothing to send`;
  const what = l.kind === 'delta' ? `the other ${l.missing.length} of ${l.total} layers` : `the whole image, ${l.total} layers (${describeBytes(plan.image.size)} before compression)`;
  const how = direct ? `, directly: ${toName} pulls them over its own ssh to ${describeRoute(direct.route)}` : '';
  const read = l.kind === 'delta' ? deltaSource(plan) : '';
  return `transfer plan: ${l.reason.replace(/^the target/, toName)}; sending ${what}, compressed with ${plan.compression === 'none' ? 'nothing' : `${plan.compression} -1`}${how}${read}`;
}

/** Stream an image (by ID, so a moving tag cannot change what is sent) from one host to another; verifies the ID on the target. */
export async function transferImage(from: SshHost, to: SshHost, imageId: string, opts: TransferOptions = {}): Promise<TransferResult> {
  const started = Date.now();
  const plan = opts.plan ?? (await planTransfer(from, to, imageId, opts));
  opts.onInfo?.(describePlan(plan, to.name, opts.direct));
  const l = plan.layers;
  const base = { compression: plan.compression, fellBack: false };
  if (l.kind === 'present') return { ...base, targetId: l.targetId, bytes: 0, durationMs: Date.now() - started, loadOutput: '', strategy: 'present', layers: { total: l.total, sent: 0 } };
  try {
    const r = await sendOnce(from, to, plan, l.kind, opts);
    return { ...base, ...r, durationMs: Date.now() - started, strategy: l.kind, layers: { total: l.total, sent: l.missing.length }, ...(opts.relay?.follow ? { relayedBy: opts.relay.follow.host.name } : {}) };
  } catch (e) {
    const follow = opts.relay?.follow;
    if (follow && e instanceof RelayError && e.side !== 'aborted') {
      // the host before this one did not pass the image on: this one asks the source itself, as without --relay
      opts.onWarning?.(`taking image ${plan.imageId} from ${follow.host.name} as it loads failed (${e.message}${e.detail.output ? `: ${e.detail.output.trim().split('\n').at(-1)}` : ''}); pulling it from ${from.name} instead`);
      return transferImage(from, to, imageId, { ...opts, relay: undefined, plan });
    }
    if (l.kind !== 'delta' || !(e instanceof RelayError) || !['source', 'plan', 'target', 'mismatch'].includes(e.side)) throw e;
    opts.onWarning?.(`sending only the missing layers failed (${e.message}${e.detail.output ? `: ${e.detail.output.split('\n').at(-1)}` : ''}); sending the whole image once instead`);
    const full = { ...plan, layers: wholeImage(plan.image, 'fallback after a failed layer-only transfer') };
    const err = checkSpace(spaceNeeds(full, from.name, to.name));
    if (err) throw err;
    const r = await sendOnce(from, to, full, 'full', { ...opts, relay: undefined });
    return { ...base, ...r, bytes: e.bytes + r.bytes, fellBack: true, durationMs: Date.now() - started, strategy: 'full', layers: { total: l.total, sent: l.total } };
  }
}

/**
 * Where a containerd-store source keeps its blobs: dockerd's managed containerd under the data-root,
 * or the system containerd (Docker 29 packages). Read directly when the SSH user may (root); the
 * script falls back to docker save otherwise. None for a classic store.
 */
export function contentStores(source: ImageHostFacts): string[] {
  if (source.store !== 'containerd') return [];
  const root = source.dataRoot?.path;
  return [...(root ? [`${root}/containerd/daemon/io.containerd.content.v1.content`] : []), '/var/lib/containerd/io.containerd.content.v1.content'];
}

/**
 * A classic overlay2 source with tar-split can rebuild just the missing layers from its layer store, for a
 * classic-store target (a containerd target needs every layer's size for its OCI manifest: docker save).
 */
export function layerStore(source: ImageHostFacts, target: ImageHostFacts): string | undefined {
  if (source.store !== 'classic' || target.store !== 'classic' || source.driver !== 'overlay2' || !source.tools.includes('tar-split')) return undefined;
  return source.dataRoot?.path;
}

/** The members (and OCI layout, for a containerd-store target) to send; throws when the layout is not one we can strip. */
export function pickArchive(imageId: string, manifestJson: string, diffIds: readonly string[], missing: readonly string[], store: 'classic' | 'containerd', listing: SaveListing): ArchivePick {
  if (listing.layout === 'layer-store') {
    if (store !== 'classic') throw new Error("the source offered its layer store, which only a classic-store target can load partly");
    return pickLayerStore(imageId, diffIds, missing);
  }
  if (listing.layout === 'content-store') {
    const pick = pickContentStore(imageId, diffIds, missing, listing);
    if (!pick) throw new Error("the source's image in its content store is not a single-platform manifest");
    return pick;
  }
  const manifest = parseSaveManifest(manifestJson);
  if (store === 'classic') return pickClassic(manifest, diffIds, missing);
  const pick = pickContainerd(manifest, diffIds, missing, listing);
  if (!pick) throw new Error(`the source's docker save is not an archive whose layers a containerd image store can load partly (${listing.layout} layout)`);
  return pick;
}

async function sendOnce(from: SshHost, to: SshHost, plan: TransferPlan, kind: 'delta' | 'full', opts: TransferOptions) {
  // a relay chain shares one marker: a follower reads the marker lines the head wrote
  const marker = opts.relay?.marker ?? `@@rfx-${randomBytes(6).toString('hex')}`;
  const token = randomBytes(8).toString('hex');
  const tmpBase = plan.source.tmpBase?.path ?? '/tmp';
  const common = { imageId: plan.imageId, marker, sudo: from.config.sudo, compression: plan.compression };
  const save = kind === 'delta' ? buildSaveDeltaScript({ ...common, tmpBase, token, contentStores: contentStores(plan.source), layerStore: layerStore(plan.source, plan.target) }) : buildSaveFullScript({ ...common, rawBytes: plan.image.size });
  const load = buildLoadScript({ imageId: plan.imageId, marker, sudo: to.config.sudo });
  const stallMs = opts.stallMs ?? 120_000;
  let remotePid: number | undefined;
  const missing = plan.layers.kind === 'delta' ? plan.layers.missing : [];
  const selectMembers = kind === 'delta' ? (json: string, listing: SaveListing) => renderPick(pickArchive(plan.imageId, json, plan.image.layers, missing, plan.target.store, listing)) : undefined;
  // docker save and the extraction on the source, at a pessimistic 10 MB/s
  const headerTimeoutMs = stallMs + plan.image.size / 10_000;
  // a follower (--relay) also waits for the host before it, which may move other images first
  const followerHeaderMs = 2 * headerTimeoutMs + FOLLOW_WAIT_S * 1000;
  if (opts.direct) {
    let relayPid: number | undefined;
    // a follower in a --direct chain carries the route to the host before it
    const follow = opts.relay?.follow?.direct ? opts.relay.follow : undefined;
    try {
      // a follower's source is the host before it, which passes on what it receives from the source
      return await relayDirect(follow?.host ?? from, to, follow ? buildFollowScript(follow.fan, FOLLOW_WAIT_S) : save, follow?.direct ?? opts.direct, {
        marker,
        token,
        imageId: plan.imageId,
        expected: plan.image,
        dataRoot: plan.target.dataRoot?.path,
        passOn: opts.relay?.passOn,
        selectMembers: follow ? undefined : selectMembers,
        onProgress: opts.onProgress ? (p) => opts.onProgress!(p.bytes, p.rateBps, p) : undefined,
        onRemotePid: (pid) => {
          remotePid = pid;
        },
        onRelayPid: (pid) => {
          relayPid = pid;
        },
        signal: opts.signal,
        stallMs,
        headerTimeoutMs: follow ? followerHeaderMs : headerTimeoutMs,
        connectTimeoutS: opts.connectTimeoutS ?? 10,
      });
    } catch (e) {
      // the target's relay (and with it its ssh to the source) first, then the source's staging
      await to.run({ script: buildCleanupScript('/tmp', token, relayPid) }, { timeoutMs: 20_000 }).catch(() => undefined);
      if (kind === 'delta') await from.run({ script: buildCleanupScript(tmpBase, token, remotePid) }, { timeoutMs: 20_000 }).catch(() => undefined);
      throw e;
    }
  }
  const onRawTotal = await loadSpaceCheck(to, plan, opts.signal);
  // --relay through this machine: one save on the source; the other hosts' streams read what it wrote
  const follow = opts.relay?.follow;
  const saveScript = follow ? buildFollowScript(follow.fan, FOLLOW_WAIT_S) : opts.relay?.passOn ? buildPassOnScript(save, opts.relay.passOn, marker) : save;
  try {
    return await relayImage(follow?.host ?? from, to, saveScript, load, {
      marker,
      imageId: plan.imageId,
      expected: plan.image,
      encoding: plan.compression === 'none' ? 'identity' : plan.compression === 'zstd' ? 'other' : 'gzip',
      selectMembers: follow ? undefined : selectMembers,
      onProgress: opts.onProgress ? (p) => opts.onProgress!(p.bytes, p.rateBps, p) : undefined,
      // TEST announced the bytes that follow: checked against PROD's free space read just before, before its docker load starts
      onRawTotal,
      onRemotePid: (pid) => {
        remotePid = pid;
      },
      signal: opts.signal,
      stallMs,
      headerTimeoutMs: follow ? followerHeaderMs : headerTimeoutMs,
    });
  } catch (e) {
    // the stream was cut or failed: the save script's trap cleans up; this is the belt to its braces
    if (kind === 'delta') await from.run({ script: buildCleanupScript(tmpBase, token, remotePid) }, { timeoutMs: 20_000 }).catch(() => undefined);
    throw e;
  }
}
