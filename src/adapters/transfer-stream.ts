// The relay of one image transfer: the source's save script streamed through this machine into
// the target's load script. Nothing touches this machine's disk; backpressure through pipeline().
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseSizes, type SaveListing } from '../core/archive-pick.ts';
import { CommandError, ReleaseflowError } from '../core/errors.ts';
import { findSameImage, identityDifference, type ImageIdentity } from '../core/image-identity.ts';
import { parseImageLines } from '../core/layers.ts';
import { stripNoise, tail } from '../core/noise.ts';
import type { SshHost } from './ssh.ts';
import { ByteMeter, type TransferProgress } from './transfer-progress.ts';

/** Which end failed, so the caller can decide about a fallback. */
export type RelayFailure = 'source' | 'plan' | 'target' | 'mismatch' | 'stalled' | 'aborted' | 'connect';

/** A failed relay; `side` tells where. */
export class RelayError extends CommandError {
  constructor(
    message: string,
    readonly side: RelayFailure,
    /** Bytes that went over the wire before the failure. */
    readonly bytes: number,
    exit: number | null,
    stdout: string,
    stderr: string,
    detail: ConstructorParameters<typeof CommandError>[4],
  ) {
    super(message, exit, stdout, stderr, detail);
  }
}

export interface RelayOptions {
  marker: string;
  imageId: string;
  /** How the stream is encoded: gzip is inflated on the side to count raw bytes for the ETA. */
  encoding: 'gzip' | 'identity' | 'other';
  /** Delta: given the source's manifest.json and listing, the reply (see renderPick). Absent: the source sends at once. */
  selectMembers?: (manifestJson: string, listing: SaveListing) => string;
  /** The source's image: the target's copy is found by it (IDs differ across image stores) and checked against it. */
  expected: ImageIdentity;
  onProgress?: (p: TransferProgress) => void;
  /** The source announced how many bytes (before compression) follow; throw to refuse before the target is touched. */
  onRawTotal?: (bytes: number) => void;
  /** The source script's PID (its process group), for the clean-up of a cut stream. */
  onRemotePid?: (pid: number) => void;
  signal?: AbortSignal;
  stallMs: number;
  /** How long the source may work before its first data (docker save + extraction). */
  headerTimeoutMs: number;
}

export interface RelayResult {
  /** The ID the target holds the image under (the source's ID, or another on another image store). */
  targetId: string;
  /** Where the source took the bytes from (delta only): docker save (legacy or OCI layout) or its content store. */
  layout?: SaveListing['layout'];
  bytes: number;
  rawBytes?: number;
  durationMs: number;
  loadOutput: string;
}

function collect(s: NodeJS.ReadableStream | null): () => string {
  const parts: Buffer[] = [];
  s?.on('data', (b: Buffer) => parts.push(b));
  return () => Buffer.concat(parts).toString('utf8');
}

// A mux client hands its pipes to the ControlMaster, so 'close' can wait for the remote command
// long after our ssh exited (a load hung in the daemon): stop waiting shortly after 'exit'.
const exited = (c: ChildProcess) =>
  new Promise<number | null>((res) => {
    if (c.exitCode !== null || c.signalCode !== null) return res(c.exitCode);
    let done = false;
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      res(code);
    };
    c.on('close', (code) => finish(code));
    c.on('exit', (code) => {
      setTimeout(() => {
        c.stdout?.destroy();
        c.stderr?.destroy();
        finish(code);
      }, 2000).unref();
    });
  });

function splitOnce(s: string): [string, string] {
  const i = s.indexOf(' ');
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

/** Read up to and including the next line that starts with `marker `; lines before it (banners) are dropped. */
export function readMarkerLine(stream: Readable, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (err?: Error, line?: string) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onEnd);
      if (err) reject(err);
      else resolve(line!);
    };
    const onEnd = (e?: Error) => done(e ?? new Error('the source ended before it sent its header'));
    const onReadable = () => {
      for (let chunk: Buffer | null = stream.read(); chunk !== null; chunk = stream.read()) {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10)) {
          const line = buf.subarray(0, nl).toString('utf8').replace(/\r$/, '');
          buf = buf.subarray(nl + 1);
          if (line.startsWith(`${marker} `)) {
            if (buf.length) stream.unshift(buf);
            done(undefined, line.slice(marker.length + 1));
            return;
          }
        }
        if (buf.length > 64 * 1024 * 1024) return done(new Error('no header from the source within 64 MiB of output'));
      }
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onEnd);
    onReadable();
  });
}

/** Why a relay ended early, as its parts found out. */
interface HeaderState {
  why?: RelayFailure;
  /** The caller refused the transfer on the header (e.g. no space): thrown as it is. */
  refused?: unknown;
}

/** Read the source's header up to `start` (pid, size, the listing) and answer its question of which members to send. */
async function readSourceHeader(stdout: Readable, stdin: NodeJS.WritableStream, o: RelayOptions, meter: ByteMeter, st: HeaderState): Promise<ReturnType<typeof newListing>> {
  const listing = newListing();
  let sentMembers = false;
  for (let header = await readMarkerLine(stdout, o.marker); header !== 'start'; header = await readMarkerLine(stdout, o.marker)) {
    const [key = '', value = ''] = splitOnce(header);
    if (key === 'pid') o.onRemotePid?.(Number(value));
    else if (key === 'bytes') {
      meter.rawTotal = Number(value) || undefined;
      try {
        if (meter.rawTotal !== undefined) o.onRawTotal?.(meter.rawTotal);
      } catch (e) {
        st.refused = e;
        throw e;
      }
    } else if (addListing(listing, key, value)) {
      // collected for selectMembers
    } else if (key === 'manifest' && o.selectMembers) {
      let reply: string;
      try {
        reply = o.selectMembers(value, finishListing(listing));
      } catch (e) {
        st.why = 'plan';
        throw e;
      }
      stdin.end(reply);
      sentMembers = true;
    } else throw new Error(`unexpected header from the source: ${header.slice(0, 80)}`);
  }
  if (!sentMembers) stdin.end();
  return listing;
}

/** Stream the source's save script into the target's load script and check the loaded image ID. */
export async function relayImage(from: SshHost, to: SshHost, saveScript: string, loadScript: string, o: RelayOptions): Promise<RelayResult> {
  const started = Date.now();
  const src = from.spawnStream({ script: saveScript });
  const srcErr = collect(src.child.stderr);
  const srcExit = exited(src.child);
  src.child.stdin!.on('error', () => {});
  let dst: { child: ChildProcess; command: string } | undefined;
  const st: HeaderState = {};
  const kill = (reason: RelayFailure) => {
    st.why ??= reason;
    src.child.kill('SIGTERM');
    dst?.child.kill('SIGTERM');
  };
  const onAbort = () => kill('aborted');
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const meter = new ByteMeter(o.encoding, o.onProgress);
  const headerTimer = setTimeout(() => kill('stalled'), o.headerTimeoutMs);
  let watchdog: NodeJS.Timeout | undefined;
  let pipeError: unknown;
  let dstOut = () => '';
  let dstErr = () => '';
  let dstCode: number | null = null;
  let listing = newListing();
  try {
    const stdout = src.child.stdout!;
    listing = await readSourceHeader(stdout, src.child.stdin!, o, meter, st);
    clearTimeout(headerTimer);
    meter.lastByteAt = Date.now();
    dst = to.spawnStream({ script: loadScript });
    dst.child.stdin!.on('error', () => {});
    dstOut = collect(dst.child.stdout);
    dstErr = collect(dst.child.stderr);
    const dstExit = exited(dst.child);
    watchdog = setInterval(() => {
      if (Date.now() - meter.lastByteAt > o.stallMs) kill('stalled');
    }, 1000);
    try {
      await pipeline(stdout, meter.transform(), dst.child.stdin!);
    } catch (e) {
      pipeError = e;
      kill('target');
    }
    dstCode = await dstExit;
  } catch (e) {
    pipeError ??= e;
    kill('source');
  } finally {
    clearTimeout(headerTimer);
    clearInterval(watchdog);
    o.signal?.removeEventListener('abort', onAbort);
  }
  const srcCode = await srcExit;
  await meter.finish();
  const loadOut = stripNoise(dstOut());
  const loadOutput = loadOut
    .split('\n')
    .filter((l) => !l.startsWith(o.marker))
    .join('\n')
    .trim();
  const output = [stripNoise(srcErr()), stripNoise(dstErr()), loadOutput].filter((s) => s.trim()).join('\n');
  const fail = (side: RelayFailure, message: string, host: string, exit: number | null) => {
    const fix =
      side === 'aborted'
        ? 'nothing to do: the transfer was interrupted and its temporary files removed'
        : /no space left/i.test(output)
          ? `free disk space on ${host} (docker system df; docker image prune)`
          : 'check docker on both hosts (releaseflow doctor)';
    return new RelayError(message, side, meter.bytes, exit, loadOutput, output, { host, command: `${from.name}: ${src.command}  |  ${to.name}: ${dst?.command ?? '(not started)'}`, output: tail(output, 20), fix });
  };
  if (st.refused) throw st.refused;
  if (st.why === 'aborted' || o.signal?.aborted) throw fail('aborted', 'image transfer interrupted', to.name, null);
  if (st.why === 'plan') throw fail('plan', `cannot select the layers to send: ${pipeError instanceof Error ? pipeError.message : String(pipeError)}`, from.name, srcCode);
  if (st.why === 'stalled') throw fail('stalled', `image transfer stalled: no bytes for ${Math.round(o.stallMs / 1000)}s`, from.name, null);
  // the target went away first (we stopped the source then): a load failure, not a save failure
  if (st.why === 'target') throw fail('target', `docker load on ${to.name} failed (exit ${dstCode})`, to.name, dstCode);
  if (srcCode !== 0 || (pipeError && !dst)) {
    const detail = pipeError instanceof Error && !dst ? `: ${pipeError.message}` : '';
    throw fail('source', `docker save on ${from.name} failed (exit ${srcCode})${detail}`, from.name, srcCode);
  }
  if (dstCode !== 0 || pipeError) throw fail('target', `docker load on ${to.name} failed (exit ${dstCode})`, to.name, dstCode);
  const found = findLoaded(loadOut.split('\n'), o.marker, o.expected);
  if (typeof found !== 'string') throw fail('mismatch', `after docker load, ${to.name} ${found.why}`, to.name, dstCode);
  return { targetId: found, layout: o.selectMembers ? listing.layout : undefined, bytes: meter.bytes, rawBytes: meter.raw || undefined, durationMs: Date.now() - started, loadOutput };
}

/** The source's listing as the save script reports it, while it comes in. */
export function newListing(): { layout: SaveListing['layout']; index?: string; files: string[] } {
  return { layout: 'legacy', files: [] };
}

/** Take a `layout`, `index` or `file` header into the listing; false for other keys. */
export function addListing(l: ReturnType<typeof newListing>, key: string, value: string): boolean {
  if (key === 'layout') l.layout = (['oci', 'content-store', 'layer-store'] as const).find((x) => x === value.trim()) ?? 'legacy';
  else if (key === 'index') l.index = value;
  else if (key === 'file') l.files.push(value);
  else return false;
  return true;
}

export function finishListing(l: ReturnType<typeof newListing>): SaveListing {
  return { layout: l.layout, index: l.index, sizes: parseSizes(l.files) };
}

/**
 * Which image the target loaded, from the load script's `got`/`cfg` lines: the one with the source's
 * ID or, on another image store, the same layers, creation time and configuration.
 */
export function findLoaded(lines: readonly string[], marker: string, expected: ImageIdentity): string | { why: string } {
  const pick = (key: string) => lines.filter((l) => l.startsWith(`${marker} ${key} `)).map((l) => l.slice(marker.length + key.length + 2));
  const got = parseImageLines(pick('got').join('\n'), pick('cfg').join('\n'));
  const same = findSameImage(expected, got);
  if (same) return same.id;
  const loaded = got.find((g) => g.id !== expected.id) ?? got[0];
  if (loaded) return { why: `loaded ${loaded.id}, which is not the source's image: ${identityDifference(expected, loaded)}` };
  // named by docker load, yet its layers cannot be read: a containerd-store load that exited 0 incomplete
  const named = lines.map((l) => /^Loaded image(?: ID)?: (\S+)/.exec(l)?.[1]).find(Boolean);
  return { why: named ? `loaded ${named}, but docker cannot read its layers: an incomplete load (a layer blob is missing in its image store)` : `has no image under ${expected.id} and docker load named none` };
}

/** Re-export for callers that only need to know an error means "interrupted". */
export function isInterrupt(e: unknown): boolean {
  return e instanceof RelayError ? e.side === 'aborted' : e instanceof ReleaseflowError && /interrupted/.test(e.message);
}
