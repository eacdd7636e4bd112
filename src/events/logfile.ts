// The [ReleaseFlow] log file and its JSON-lines twin; synchronous appends so no last line is lost.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatBytes, formatDuration } from '../core/human.ts';
import type { ReleaseEvent, Sink } from './types.ts';

/** The JSON-lines twin of a log file: tool_log.log → tool_log.jsonl. */
export function jsonlPath(logFile: string): string {
  return /\.log$/.test(logFile) ? logFile.replace(/\.log$/, '.jsonl') : `${logFile}.jsonl`;
}

/** Render one event as human log lines (without timestamp and tag). */
export function formatEventLines(e: ReleaseEvent): string[] {
  switch (e.type) {
    case 'release-started':
      return [`==== ${e.kind} ${e.from ? `${e.from} -> ` : ''}${e.to} ====`, ...e.header];
    case 'info':
      return e.message.split('\n');
    case 'plan':
      return e.text.split('\n');
    case 'warning':
      return e.message.split('\n').map((l) => `WARNING ${l}`);
    case 'step-started':
      return [`step ${e.index}/${e.total} ${e.name} started on ${e.host} (${e.cause})`];
    case 'command':
      return [`step ${e.index} command on ${e.host}: ${e.command}`];
    case 'output': {
      const lines = e.text.replace(/\n+$/, '').split('\n');
      return lines.filter((l) => l.length > 0).map((l) => `step ${e.index} ${e.stream}: ${l}`);
    }
    case 'progress':
      return [`step ${e.index} progress: ${formatBytes(e.bytes)}${e.totalBytes ? ` of ${formatBytes(e.totalBytes)}` : ''} at ${formatBytes(e.rateBps)}/s`];
    case 'step-succeeded':
      return [`step ${e.index}/${e.total} ${e.name} ok in ${formatDuration(e.durationMs)}${e.note ? ` (${e.note})` : ''}`];
    case 'step-failed':
      return [
        `step ${e.index}/${e.total} ${e.name} FAILED after ${formatDuration(e.durationMs)}${e.exit !== undefined && e.exit !== null ? ` (exit ${e.exit})` : ''}: ${e.message}`,
        ...(e.fix ? [`hint: ${e.fix}`] : []),
      ];
    case 'release-finished':
      return [`result: ${e.result} (exit ${e.exitCode}) in ${formatDuration(e.durationMs)}: ${e.message}`];
  }
}


/** A sink that appends `<ISO time> [ReleaseFlow] …` lines, and JSON lines to the twin. */
export function logFileSink(file: string): Sink {
  mkdirSync(dirname(file), { recursive: true });
  const twin = jsonlPath(file);
  let lastProgress = 0;
  return (e) => {
    if (e.type === 'progress') {
      // periodic, not every chunk: one line per 2 s keeps the log readable
      const t = Date.parse(e.at);
      if (t - lastProgress < 2000) return;
      lastProgress = t;
    }
    const text = formatEventLines(e)
      .map((l) => `${e.at} [ReleaseFlow] ${l}\n`)
      .join('');
    appendFileSync(file, text);
    appendFileSync(twin, `${JSON.stringify(e)}\n`);
  };
}
