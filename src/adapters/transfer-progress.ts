// Byte counting for a transfer: bytes on the wire, and (for gzip) the bytes they inflate to, so
// the total on the wire, and with it the ETA, can be estimated while the stream runs.
import { Transform } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';

/** One progress report: wire bytes, rate, and the estimated wire total and ETA when known. */
export interface TransferProgress {
  bytes: number;
  rateBps: number;
  /** Bytes before compression seen so far (gzip only). */
  rawBytes?: number;
  /** Estimated bytes on the wire when done. */
  totalBytes?: number;
  etaSeconds?: number;
}

const REPORT_MS = 250;
const MAX_INFLATE_BACKLOG = 32 * 1024 * 1024;

/** Counts a stream's bytes and reports progress at most every 250 ms, and once at the end. */
export class ByteMeter {
  bytes = 0;
  raw = 0;
  /** Uncompressed bytes the source announced it will send. */
  rawTotal: number | undefined;
  lastByteAt = Date.now();
  private firstByteAt: number | undefined;
  private lastReport = 0;
  private inflater: Gunzip | undefined;

  constructor(
    private readonly encoding: 'gzip' | 'identity' | 'other',
    private readonly onProgress?: (p: TransferProgress) => void,
  ) {
    if (encoding !== 'gzip') return;
    const inflater = createGunzip();
    inflater.on('data', (b: Buffer) => {
      this.raw += b.length;
    });
    inflater.on('error', () => this.stopInflating());
    this.inflater = inflater;
  }

  /** The counting stage of the pipeline. */
  transform(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.count(chunk);
        cb(null, chunk);
      },
    });
  }

  private count(chunk: Buffer): void {
    const now = Date.now();
    this.firstByteAt ??= now;
    this.bytes += chunk.length;
    this.lastByteAt = now;
    if (this.inflater && !this.inflater.writableEnded) {
      // progress is best effort: never let a slow inflater hold memory
      if (this.inflater.writableLength > MAX_INFLATE_BACKLOG) this.stopInflating();
      else this.inflater.write(chunk);
    }
    // the first report waits for a total estimate (or 1 s), so a progress bar starts with a total
    const early = this.estimateTotal() === undefined && now - this.firstByteAt < 1000;
    if (!early && now - this.lastReport >= REPORT_MS) {
      this.lastReport = now;
      this.report(now);
    }
  }

  private stopInflating(): void {
    this.inflater?.destroy();
    this.inflater = undefined;
  }

  /** Estimated bytes on the wire at the end: the announced raw total times the ratio seen so far. */
  estimateTotal(): number | undefined {
    if (!this.rawTotal) return undefined;
    if (this.encoding === 'identity') return Math.max(this.bytes, this.rawTotal);
    if (this.raw >= 256 * 1024) return Math.max(this.bytes, Math.round((this.rawTotal * this.bytes) / this.raw));
    return undefined;
  }

  private report(now: number): void {
    if (!this.onProgress) return;
    const secs = Math.max(0.001, (now - (this.firstByteAt ?? now)) / 1000);
    const rateBps = this.bytes / secs;
    const totalBytes = this.estimateTotal();
    const etaSeconds = totalBytes !== undefined && rateBps > 0 ? Math.max(0, (totalBytes - this.bytes) / rateBps) : undefined;
    this.onProgress({ bytes: this.bytes, rateBps, rawBytes: this.encoding === 'identity' ? this.bytes : this.inflater || this.raw ? this.raw : undefined, totalBytes, etaSeconds });
  }

  /** Let the inflater catch up (bounded), then the final report (total = bytes sent). */
  async finish(): Promise<void> {
    const inflater = this.inflater;
    if (inflater) {
      await new Promise<void>((res) => {
        const t = setTimeout(res, 2000);
        inflater.once('end', () => {
          clearTimeout(t);
          res();
        });
        inflater.once('close', () => res());
        inflater.end();
      });
    }
    this.stopInflating();
    if (this.encoding === 'identity') this.raw = this.bytes;
    if (!this.onProgress) return;
    const now = Date.now();
    const secs = Math.max(0.001, (now - (this.firstByteAt ?? now)) / 1000);
    this.onProgress({ bytes: this.bytes, rateBps: this.bytes / secs, rawBytes: this.raw || undefined, totalBytes: this.bytes, etaSeconds: 0 });
  }
}
