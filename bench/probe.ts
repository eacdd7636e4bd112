// A service probe: TCP connect + `GET /health` every 20 ms, bounded in count and time; the
// longest gap between two successful answers is the downtime the probe saw.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProbeSample {
  /** ms since the probe started */
  t: number;
  ok: boolean;
}

/** One probe: connect, GET /health over HTTP/1.0, true on a 200 within timeoutMs. */
export function probeOnce(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let buf = '';
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.setEncoding('latin1');
    s.on('connect', () => s.write('GET /health HTTP/1.0\r\nHost: probe\r\n\r\n'));
    s.on('data', (d: string) => {
      buf += d;
    });
    s.on('end', () => finish(/^HTTP\/1\.[01] 200/.test(buf)));
    s.on('close', () => finish(/^HTTP\/1\.[01] 200/.test(buf)));
    s.on('error', () => finish(false));
  });
}

/** A running probe loop; stop() ends it and returns the samples. */
export function startProbe(host: string, port: number, opts: { intervalMs?: number; maxMs?: number; maxCount?: number } = {}) {
  const interval = opts.intervalMs ?? 20;
  const maxMs = opts.maxMs ?? 120_000;
  const maxCount = opts.maxCount ?? 10_000;
  const samples: ProbeSample[] = [];
  let stopped = false;
  const t0 = performance.now();
  const loop = (async () => {
    while (!stopped && samples.length < maxCount && performance.now() - t0 < maxMs) {
      const start = performance.now();
      const ok = await probeOnce(host, port);
      samples.push({ t: start - t0, ok });
      const wait = interval - (performance.now() - start);
      if (wait > 0) await sleep(wait);
    }
  })();
  return {
    async stop(): Promise<ProbeSample[]> {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/** Longest time between consecutive successful probes, and how many probes failed. */
export function longestGap(samples: readonly ProbeSample[]): { gapMs: number; failed: number; probes: number } {
  let last: number | undefined;
  let gap = 0;
  for (const s of samples) {
    if (!s.ok) continue;
    if (last !== undefined) gap = Math.max(gap, s.t - last);
    last = s.t;
  }
  return { gapMs: gap, failed: samples.filter((s) => !s.ok).length, probes: samples.length };
}

/** Time from `start()` until the service answers 200, probing every 20 ms (bounded). */
export async function timeToHealthy(host: string, port: number, start: () => void, maxMs = 30_000): Promise<number> {
  const t0 = performance.now();
  start();
  while (performance.now() - t0 < maxMs) {
    const s = performance.now();
    if (await probeOnce(host, port, 300)) return performance.now() - t0;
    const wait = 20 - (performance.now() - s);
    if (wait > 0) await sleep(wait);
  }
  throw new Error(`${host}:${port} not healthy within ${maxMs} ms`);
}
