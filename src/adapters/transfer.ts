// Image transfer: `docker save` on the source streamed through this machine into `docker load` on
// the target. Nothing touches this machine's disk; backpressure through stream.pipeline.
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CommandError } from '../core/errors.ts';
import { stripNoise, tail } from '../core/noise.ts';
import type { SshHost } from './ssh.ts';

export interface TransferResult {
  bytes: number;
  durationMs: number;
  loadOutput: string;
}

/** Stream an image (by ID, so a moving tag cannot change what is sent) from one host to another. */
export async function transferImage(
  from: SshHost,
  to: SshHost,
  imageId: string,
  opts: { onProgress?: (bytes: number, rateBps: number) => void; signal?: AbortSignal; stallMs?: number } = {},
): Promise<TransferResult> {
  const started = Date.now();
  const src = from.spawnStream({ argv: ['docker', 'save', imageId] });
  const dst = to.spawnStream({ argv: ['docker', 'load'] });
  let bytes = 0;
  let lastReport = 0;
  let lastByteAt = Date.now();
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      lastByteAt = Date.now();
      const now = Date.now();
      if (opts.onProgress && now - lastReport > 250) {
        lastReport = now;
        opts.onProgress(bytes, (bytes * 1000) / Math.max(1, now - started));
      }
      cb(null, chunk);
    },
  });
  const collect = (s: NodeJS.ReadableStream) => {
    const parts: Buffer[] = [];
    s.on('data', (b: Buffer) => parts.push(b));
    return () => Buffer.concat(parts).toString('utf8');
  };
  const srcErr = collect(src.child.stderr!);
  const dstOut = collect(dst.child.stdout!);
  const dstErr = collect(dst.child.stderr!);
  const exit = (c: typeof src.child) => new Promise<number | null>((res) => c.on('close', (code) => res(code)));
  const srcExit = exit(src.child);
  const dstExit = exit(dst.child);
  const kill = () => {
    src.child.kill('SIGTERM');
    dst.child.kill('SIGTERM');
  };
  opts.signal?.addEventListener('abort', kill, { once: true });
  const stallMs = opts.stallMs ?? 120_000;
  const watchdog = setInterval(() => {
    if (Date.now() - lastByteAt > stallMs) kill();
  }, 1000);
  let pipeError: unknown;
  try {
    await pipeline(src.child.stdout!, counter, dst.child.stdin!);
  } catch (e) {
    pipeError = e;
    kill();
  } finally {
    clearInterval(watchdog);
  }
  const [sc, dc] = await Promise.all([srcExit, dstExit]);
  opts.onProgress?.(bytes, (bytes * 1000) / Math.max(1, Date.now() - started));
  if (sc !== 0 || dc !== 0 || pipeError) {
    const stalled = Date.now() - lastByteAt > stallMs;
    const failed = sc !== 0 ? `docker save on ${from.name}` : `docker load on ${to.name}`;
    const output = [stripNoise(srcErr()), stripNoise(dstErr()), stripNoise(dstOut())].filter(Boolean).join('\n');
    throw new CommandError(stalled ? `transfer stalled: no bytes for ${stallMs / 1000}s` : `${failed} failed (save exit ${sc}, load exit ${dc})`, dc ?? sc, dstOut(), output, {
      host: sc !== 0 ? from.name : to.name,
      command: `${from.name}: ${src.command}  |  ${to.name}: ${dst.command}`,
      output: tail(output, 20),
      fix: /no space left/i.test(output) ? `free disk space on ${to.name} (docker system df; docker image prune)` : `check docker on both hosts (releaseflow doctor)`,
    });
  }
  return { bytes, durationMs: Date.now() - started, loadOutput: stripNoise(dstOut()) };
}
