// The SSH host: the system OpenSSH client, one shared connection per host, and the ONE place
// where argv becomes a remote shell string.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostConfig } from '../core/config.ts';
import { CommandError, HostUnreachableError } from '../core/errors.ts';
import { stripNoise, tail } from '../core/noise.ts';
import { shJoin } from '../core/quote.ts';
import { type ProcessResult, runProcess, terminate } from './process.ts';

/** What to run on a host: an argv (quoted here) or a script of our own built with shJoin. */
export type Remote = { argv: readonly string[] } | { script: string };

export interface RunOptions {
  stdin?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RunResult {
  host: string;
  command: string;
  code: number;
  /** stdout/stderr with known noise removed: what is parsed and shown. */
  stdout: string;
  stderr: string;
  /** Exactly what came back, for the raw record in the log. */
  rawStdout: string;
  rawStderr: string;
  durationMs: number;
}

export interface SshSettings {
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  controlMaster: boolean;
}

/** Render a Remote for logs and for the remote shell. */
export function remoteString(r: Remote, sudo = false): string {
  if ('script' in r) return r.script;
  const argv = sudo && r.argv[0] === 'docker' ? ['sudo', '-n', ...r.argv] : r.argv;
  return shJoin(argv);
}

/** Lines from ssh's own stderr that mean the connection itself failed, with the fix. */
export function diagnoseSsh(host: HostConfig, stderr: string): { message: string; fix: string } {
  const where = `${host.name} (${host.user ? `${host.user}@` : ''}${host.address}${host.port ? `:${host.port}` : ''})`;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/i.test(stderr)) {
    return {
      message: `host key of ${where} is unknown or has CHANGED; connection refused`,
      fix: `if the server was really reinstalled, verify its new key out of band, then: ssh-keygen -R ${host.address} and add the new key to known_hosts`,
    };
  }
  if (/Permission denied/i.test(stderr)) {
    return { message: `${where} refused our key (Permission denied)`, fix: `check identityFile/user in the config, and that the key is in ~/.ssh/authorized_keys on ${host.address}` };
  }
  if (/timed out|Connection refused|No route to host|Could not resolve|Network is unreachable|Connection closed/i.test(stderr)) {
    return { message: `${where} is unreachable: ${tail(stderr, 1).trim()}`, fix: `check that ${host.address} is up and sshd listens on port ${host.port ?? 22} (try: ssh -v ${host.address})` };
  }
  return { message: `ssh to ${where} failed: ${tail(stderr, 1).trim()}`, fix: `run: ssh -v ${host.address} true, to see why` };
}

/** A server reached over SSH. */
export class SshHost {
  readonly name: string;
  private readonly controlDir: string | undefined;
  private masterUp = false;

  constructor(
    readonly config: HostConfig,
    readonly settings: SshSettings,
  ) {
    this.name = config.name;
    this.controlDir = settings.controlMaster ? mkdtempSync(join(tmpdir(), 'rf-ssh-')) : undefined;
  }

  /** The ssh argv up to and including the destination. */
  sshArgs(): string[] {
    const c = this.config;
    const args = ['-T', '-o', 'BatchMode=yes', '-o', `ConnectTimeout=${Math.ceil(this.settings.connectTimeoutMs / 1000)}`];
    args.push('-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3');
    const opts = c.sshOptions ?? {};
    if (!Object.keys(opts).some((k) => k.toLowerCase() === 'stricthostkeychecking')) args.push('-o', 'StrictHostKeyChecking=yes');
    if (this.controlDir) args.push('-o', `ControlPath=${this.controlDir}/%C`, '-o', 'ControlMaster=no');
    else args.push('-o', 'ControlMaster=no', '-o', 'ControlPath=none');
    for (const [k, v] of Object.entries(opts)) args.push('-o', `${k}=${v}`);
    if (c.identityFile) args.push('-i', c.identityFile);
    if (c.port) args.push('-p', String(c.port));
    if (c.user) args.push('-l', c.user);
    args.push('--', c.address);
    return args;
  }

  /** Open the shared connection (a ControlMaster) and prove the host is reachable in batch mode. */
  async connect(signal?: AbortSignal): Promise<void> {
    if (this.masterUp) return;
    if (!this.controlDir) {
      await this.run({ argv: ['true'] }, { signal, timeoutMs: this.settings.connectTimeoutMs + 5000 });
      return;
    }
    // The master runs in the background (-f): its stdio must not be our pipes, or we would wait
    // for it to exit before seeing our own command end.
    const errFile = join(this.controlDir, 'master.err');
    const fd = openSync(errFile, 'w');
    const args = this.sshArgs().map((a) => (a === 'ControlMaster=no' ? 'ControlMaster=auto' : a));
    args.splice(args.indexOf('--'), 0, '-o', 'ControlPersist=120', '-f', '-N');
    const code = await new Promise<number | null>((res, rej) => {
      const child = spawn('ssh', args, { stdio: ['ignore', 'ignore', fd], detached: true });
      const timer = setTimeout(() => terminate(child), this.settings.connectTimeoutMs + 5000);
      signal?.addEventListener('abort', () => terminate(child), { once: true });
      child.on('error', rej);
      child.on('exit', (c) => {
        clearTimeout(timer);
        res(c);
      });
    });
    closeSync(fd);
    if (code !== 0) {
      const stderr = readFileSync(errFile, 'utf8');
      const d = diagnoseSsh(this.config, stderr || 'no answer within the connect timeout');
      throw new HostUnreachableError(d.message, { host: this.name, fix: d.fix, output: tail(stripNoise(stderr), 10) });
    }
    this.masterUp = true;
  }

  /** Run a command; resolves with its result whatever the exit code, rejects only when ssh itself failed. */
  async run(remote: Remote, opts: RunOptions = {}): Promise<RunResult> {
    const command = remoteString(remote, this.config.sudo);
    const r: ProcessResult = await runProcess('ssh', [...this.sshArgs(), command], {
      stdin: opts.stdin,
      timeoutMs: opts.timeoutMs ?? this.settings.commandTimeoutMs,
      signal: opts.signal,
    });
    const result: RunResult = {
      host: this.name,
      command,
      code: r.code ?? -1,
      stdout: stripNoise(r.stdout),
      stderr: stripNoise(r.stderr),
      rawStdout: r.stdout,
      rawStderr: r.stderr,
      durationMs: r.durationMs,
    };
    if (r.timedOut) {
      throw new CommandError(`command timed out after ${Math.round((opts.timeoutMs ?? this.settings.commandTimeoutMs) / 1000)}s on ${this.name}`, null, r.stdout, r.stderr, {
        host: this.name,
        command,
        output: tail(result.stderr || result.stdout, 20),
        fix: 'check the host is responsive (load, disk, docker daemon); raise ssh.commandTimeout if the command is legitimately slow',
      });
    }
    if (result.code === 255 && /^ssh: |Host key|Permission denied|Connection (closed|refused|timed out)|kex_exchange/m.test(r.stderr)) {
      const d = diagnoseSsh(this.config, r.stderr);
      throw new HostUnreachableError(d.message, { host: this.name, command, fix: d.fix, output: tail(result.stderr, 10) });
    }
    return result;
  }

  /** Run and require exit 0; the error carries host, command, output tail and a fix. */
  async check(remote: Remote, opts: RunOptions & { what?: string; fix?: string } = {}): Promise<RunResult> {
    const r = await this.run(remote, opts);
    if (r.code !== 0) {
      throw new CommandError(`${opts.what ?? 'command'} failed on ${this.name} (exit ${r.code})`, r.code, r.stdout, r.stderr, {
        host: this.name,
        command: r.command,
        output: tail(r.stderr || r.stdout, 20),
        fix: opts.fix,
      });
    }
    return r;
  }

  /** Start a streaming command: the caller pipes its stdin/stdout (docker save / docker load). */
  spawnStream(remote: Remote): { child: ChildProcess; command: string } {
    const command = remoteString(remote, this.config.sudo);
    const child = spawn('ssh', [...this.sshArgs(), command], { stdio: ['pipe', 'pipe', 'pipe'] });
    return { child, command };
  }

  /** Close the shared connection. */
  async close(): Promise<void> {
    if (!this.controlDir) return;
    if (this.masterUp) {
      const args = this.sshArgs();
      args.splice(args.indexOf('--'), 0, '-O', 'exit');
      await runProcess('ssh', args, { timeoutMs: 5000 }).catch(() => undefined);
      this.masterUp = false;
    }
    rmSync(this.controlDir, { recursive: true, force: true });
  }
}
