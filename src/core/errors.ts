// Typed errors with operator-facing messages: what failed, where, and what to do next.

/** Exit codes are a contract: 0 ok, 1 failed and rolled back, 2 usage/config, 3 rollback incomplete. */
export const ExitCode = { ok: 0, failed: 1, usage: 2, rollbackIncomplete: 3, internal: 70 } as const;

export interface ErrorDetail {
  /** What the operator should do next. */
  fix?: string;
  host?: string;
  step?: string;
  command?: string;
  /** Tail of stderr/stdout of the failing command, noise removed. */
  output?: string;
}

/** An error the operator can act on. */
export class ReleaseflowError extends Error {
  readonly exitCode: number;
  readonly detail: ErrorDetail;
  constructor(message: string, detail: ErrorDetail = {}, exitCode: number = ExitCode.failed) {
    super(message);
    this.name = new.target.name;
    this.detail = detail;
    this.exitCode = exitCode;
  }
}

/** Bad configuration or usage: nothing was touched. */
export class ConfigError extends ReleaseflowError {
  constructor(message: string, detail: ErrorDetail = {}) {
    super(message, detail, ExitCode.usage);
  }
}

/** A host could not be reached or refused us. */
export class HostUnreachableError extends ReleaseflowError {}

/** A remote command failed. */
export class CommandError extends ReleaseflowError {
  constructor(
    message: string,
    readonly exit: number | null,
    readonly stdout: string,
    readonly stderr: string,
    detail: ErrorDetail = {},
  ) {
    super(message, detail);
  }
}

/** A bug in releaseflow, told apart from operator errors. */
export class InternalError extends ReleaseflowError {
  constructor(message: string) {
    super(`internal error: ${message}`, { fix: 'This is a bug in releaseflow; please report it with the log file.' }, ExitCode.internal);
  }
}

/** Render an error for the terminal and the log: message, where, output tail, fix. */
export function renderError(err: unknown): string {
  if (!(err instanceof ReleaseflowError)) {
    const e = err instanceof Error ? err : new Error(String(err));
    return `error: ${e.message}\n${e.stack ?? ''}`;
  }
  const d = err.detail;
  const lines = [`error: ${err.message}`];
  if (d.step) lines.push(`  step:    ${d.step}`);
  if (d.host) lines.push(`  host:    ${d.host}`);
  if (d.command) lines.push(`  command: ${d.command}`);
  if (d.output) lines.push('  output:', ...d.output.split('\n').map((l) => `    ${l}`));
  if (d.fix) lines.push(`  fix:     ${d.fix}`);
  return lines.join('\n');
}
