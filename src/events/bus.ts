// The event bus: stamps, redacts (the one place secrets are scrubbed from events), fans out to sinks.
import { Redactor } from '../core/redact.ts';
import type { ReleaseEvent, ReleaseEventBody, Sink } from './types.ts';

export class EventBus {
  readonly redactor = new Redactor();
  private readonly sinks: Sink[] = [];
  private seq = 0;
  readonly history: ReleaseEvent[] = [];

  constructor(private readonly clock: () => Date = () => new Date()) {}

  /** Add a sink; it receives every later event. */
  add(sink: Sink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
    };
  }

  /** Stamp, redact and deliver an event. A failing sink never stops a release. */
  emit(body: ReleaseEventBody): void {
    const e = this.scrub({ ...body, at: this.clock().toISOString(), seq: ++this.seq } as ReleaseEvent);
    this.history.push(e);
    for (const s of this.sinks) {
      try {
        s(e);
      } catch {
        /* a sink's failure (full disk, closed socket) must not abort the release */
      }
    }
  }

  info(message: string): void {
    this.emit({ type: 'info', message });
  }

  warn(message: string): void {
    this.emit({ type: 'warning', message });
  }

  private scrub(e: ReleaseEvent): ReleaseEvent {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) {
      if (typeof v === 'string') out[k] = this.redactor.redact(v);
      else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'string' ? this.redactor.redact(x) : x));
      else out[k] = v;
    }
    return out as ReleaseEvent;
  }
}
