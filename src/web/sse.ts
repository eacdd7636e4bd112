// Server-sent events: every page gets the run's state and events; a reconnect resumes after Last-Event-ID.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatEventLines } from '../events/logfile.ts';
import type { ReleaseEvent } from '../events/types.ts';
import { SAFE_HEADERS } from './http.ts';
import type { ReleaseRunner, RunMessage, RunState } from './runner.ts';

/** An SSE event ID names the run and the event's sequence number: `3.17`. */
export function eventId(run: number, seq: number): string {
  return `${run}.${seq}`;
}

/** Parse a Last-Event-ID; an absent or foreign one means "from the start". */
export function parseEventId(text: string | null | undefined): { run: number; seq: number } | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(text?.trim() ?? '');
  return m ? { run: Number(m[1]), seq: Number(m[2]) } : undefined;
}

/** One SSE frame. */
export function frame(name: string, data: unknown, id?: string): string {
  return `${id ? `id: ${id}\n` : ''}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

function eventFrame(run: number, event: ReleaseEvent): string {
  // `lines` are the event as the log file writes it: the page's log is the log file's text
  return frame('release', { run, event, lines: formatEventLines(event) }, eventId(run, event.seq));
}

function stateFrame(state: RunState | undefined): string {
  return frame('state', state ?? null);
}

/** Serve the event stream until the page goes away. */
export function serveEvents(req: IncomingMessage, res: ServerResponse, runner: ReleaseRunner, lastEventId: string | null, heartbeatMs = 15_000): void {
  res.writeHead(200, { ...SAFE_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write('retry: 1500\n\n');
  res.write(stateFrame(runner.state()));
  const last = parseEventId(lastEventId);
  const replay = runner.eventsSince(last?.run, last?.seq ?? 0);
  for (const e of replay?.events ?? []) res.write(eventFrame(replay!.run, e));
  const unsubscribe = runner.subscribe((m: RunMessage) => {
    res.write(m.type === 'state' ? stateFrame(m.state) : eventFrame(m.run, m.event));
  });
  // comments keep proxies and idle timers from closing a quiet stream
  const beat = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
  const stop = () => {
    clearInterval(beat);
    unsubscribe();
  };
  req.on('close', stop);
  res.on('error', stop);
}
