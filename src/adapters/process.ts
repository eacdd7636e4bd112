// One small wrapper over child_process.spawn: capture with a limit, timeout, abort, no shell.
import { type ChildProcess, spawn } from 'node:child_process';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export interface ProcessOptions {
  stdin?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Bytes kept of each of stdout and stderr; the rest is dropped (the head is kept). */
  maxBuffer?: number;
  /** Run in its own process group, so a terminal's Ctrl-C reaches only us (we decide how to stop it). */
  detached?: boolean;
}

/** Run a program to completion and capture its output. Never throws for a non-zero exit. */
export function runProcess(cmd: string, args: readonly string[], opts: ProcessOptions = {}): Promise<ProcessResult> {
  const started = Date.now();
  const max = opts.maxBuffer ?? 64 * 1024 * 1024;
  return new Promise((resolveResult, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, detached: opts.detached ?? false });
    } catch (e) {
      reject(e);
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    child.stdout!.on('data', (b: Buffer) => {
      if (outLen < max) out.push(b);
      outLen += b.length;
    });
    child.stderr!.on('data', (b: Buffer) => {
      if (errLen < max) err.push(b);
      errLen += b.length;
    });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          terminate(child);
        }, opts.timeoutMs)
      : undefined;
    const onAbort = () => terminate(child);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    let settled = false;
    let drain: NodeJS.Timeout | undefined;
    const settle = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drain);
      opts.signal?.removeEventListener('abort', onAbort);
      resolveResult({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Date.now() - started,
        timedOut,
      });
    };
    child.on('close', (code, signal) => settle(code, signal));
    // Our pipes can outlive the child: an ssh ControlMaster client hands its stdio to the master,
    // which keeps it until the REMOTE command ends (never, if it hangs). So once the child exited,
    // give its output a moment to drain, then stop waiting.
    child.on('exit', (code, signal) => {
      drain = setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        settle(code, signal);
      }, EXIT_DRAIN_MS);
    });
    child.stdin!.on('error', () => {}); // a child that exits early must not crash us with EPIPE
    child.stdin!.end(opts.stdin ?? '');
  });
}

/** How long output may still arrive after the child exited (see runProcess). */
const EXIT_DRAIN_MS = 2000;

/** SIGTERM, then SIGKILL after a grace period. */
export function terminate(child: ChildProcess, graceMs = 2000): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, graceMs);
  t.unref();
}
