// Step events: the executor emits them; sinks turn them into terminal lines, the log file, JSON lines, SSE.

export type ReleaseResult = 'released' | 'up-to-date' | 'rolled-back' | 'rollback-failed' | 'failed' | 'planned';

export type ReleaseEventBody =
  | { type: 'release-started'; kind: 'promote' | 'rollback' | 'recover'; from?: string; to: string; header: string[] }
  | { type: 'info'; message: string }
  | { type: 'plan'; text: string }
  | { type: 'warning'; message: string }
  | { type: 'step-started'; index: number; total: number; name: string; host: string; cause: string }
  | { type: 'command'; index: number; host: string; command: string }
  | { type: 'output'; index: number; host: string; stream: 'stdout' | 'stderr'; text: string; raw: string }
  | { type: 'progress'; index: number; bytes: number; totalBytes?: number; rateBps: number }
  | { type: 'step-succeeded'; index: number; total: number; name: string; durationMs: number; note?: string }
  | { type: 'step-failed'; index: number; total: number; name: string; durationMs: number; message: string; fix?: string; exit?: number | null }
  | { type: 'release-finished'; result: ReleaseResult; exitCode: number; durationMs: number; message: string };

export type ReleaseEvent = ReleaseEventBody & { at: string; seq: number };

export type Sink = (e: ReleaseEvent) => void;
