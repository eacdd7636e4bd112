// The SSH host: the system OpenSSH client, one shared connection per host, and the ONE place
// where argv becomes a remote shell string.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostConfig } from '../core/config.ts';
import { CommandError, HostUnreachableError } from '../core/errors.ts';
import { diagnoseSsh } from './ssh-diagnose.ts';
import { stripNoise, tail } from '../core/noise.ts';
import { shJoin, shQuote } from '../core/quote.ts';
import { type ProcessResult, runProcess, terminate } from './process.ts';

export { diagnoseSsh, hostKeyLines } from './ssh-diagnose.ts';

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

/** On a `sudo: true` host every script's plain `docker` goes through `sudo -n` (sudo runs the binary, not this function). */
export const SUDO_DOCKER_FN = 'docker() { sudo -n docker "$@"; }';

/** Render a Remote as POSIX sh text (what errors and the log show as the command). */
export function remoteString(r: Remote, sudo = false): string {
  if ('script' in r) return sudo ? `${SUDO_DOCKER_FN}\n${r.script}` : r.script;
  const argv = sudo && r.argv[0] === 'docker' ? ['sudo', '-n', ...r.argv] : r.argv;
  return shJoin(argv);
}

/**
 * The command line ssh sends: the sh text run by `sh -c`, whatever the account's login shell is (zsh does
 * not split words, bash has its own options): the login shell only has to undo one single-quoted word.
 */
export function sshCommand(r: Remote, sudo = false): string {
  return `sh -c ${shQuote(remoteString(r, sudo))}`;
}

/** The longest socket path the system takes: macOS's sun_path is 104 bytes with its NUL (Linux's 108). */
export const SOCKET_PATH_MAX = 103;

/** The longest path ssh binds for ControlPath `dir/%C`: %C is 40 hex digits, and the master first binds `<path>.<16 random>`. */
export function controlSocketLength(dir: string): number {
  return dir.length + 1 + 40 + 1 + 16;
}

/**
 * Where the ControlMaster folder goes: $TMPDIR when the socket fits there, else /tmp (macOS TMPDIRs such
 * as /var/folders/xx/<28 chars>/T/ leave too little room for the socket's name).
 */
export function controlDirParent(tmp: string): string {
  return controlSocketLength(join(tmp, 'rf-XXXXXX')) <= SOCKET_PATH_MAX ? tmp : '/tmp';
}

/** A server reached over SSH. */
export class SshHost {
  readonly name: string;
  private readonly controlDir: string | undefined;
  private masterUp = false;
  private connecting: Promise<void> | undefined;
  private banner: string[] = [];

  constructor(
    readonly config: HostConfig,
    readonly settings: SshSettings,
  ) {
    this.name = config.name;
    this.controlDir = settings.controlMaster ? mkdtempSync(join(controlDirParent(tmpdir()), 'rf-')) : undefined;
  }

  /** Warnings to print on every run: host key checking switched off for this host. */
  warnings(): string[] {
    if (!this.config.insecureIgnoreHostKeys) return [];
    return [
      `INSECURE: host key checking is OFF for ${this.name} (${this.config.address}) because insecureIgnoreHostKeys: true is set in the config: anyone on the network path can impersonate this server and receive your images, env values and commands. Remove it and record the server's key in known_hosts.`,
    ];
  }

  /**
   * The ssh argv up to and including the destination. OpenSSH keeps the FIRST value it sees for an
   * option, so: ours that must not change first (BatchMode, ControlMaster, ControlPath, and the
   * explicit host key opt-out), then the operator's sshOptions, then our defaults.
   */
  sshArgs(): string[] {
    const c = this.config;
    const args = ['-T', '-o', 'BatchMode=yes'];
    if (this.controlDir) args.push('-o', 'ControlMaster=no', '-o', `ControlPath=${this.controlDir}/%C`);
    else args.push('-o', 'ControlMaster=no', '-o', 'ControlPath=none');
    if (c.insecureIgnoreHostKeys) args.push('-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'GlobalKnownHostsFile=/dev/null');
    const opts = c.sshOptions ?? {};
    const fixed = /^(batchmode|controlmaster|controlpath|controlpersist)$/i;
    for (const [k, v] of Object.entries(opts)) if (!fixed.test(k)) args.push('-o', `${k}=${v}`);
    args.push('-o', `ConnectTimeout=${Math.ceil(this.settings.connectTimeoutMs / 1000)}`);
    args.push('-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3');
    args.push('-o', 'StrictHostKeyChecking=yes');
    if (c.identityFile) args.push('-i', c.identityFile);
    if (c.port) args.push('-p', String(c.port));
    if (c.user) args.push('-l', c.user);
    args.push('--', c.address);
    return args;
  }

  /** Open the shared connection (a ControlMaster) and prove the host is reachable in batch mode; callers at once share one attempt. */
  connect(signal?: AbortSignal): Promise<void> {
    if (this.masterUp) return Promise.resolve();
    this.connecting ??= this.openMaster(signal).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async openMaster(signal?: AbortSignal): Promise<void> {
    if (!this.controlDir) {
      await this.learnBanner(signal);
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
      throw new HostUnreachableError(d.message, { host: this.name, command: `ssh ${this.config.address} (connect)`, fix: d.fix, output: tail(stripNoise(stderr), 10) });
    }
    this.masterUp = true;
    await this.learnBanner(signal);
  }

  /** Lines the remote shell prints on every command (a banner from .bashrc): learned once, then removed from output. */
  private async learnBanner(signal?: AbortSignal): Promise<void> {
    const r = await this.run({ argv: ['true'] }, { signal, timeoutMs: this.settings.connectTimeoutMs + 5000 });
    this.banner = [...r.stdout.split('\n'), ...r.stderr.split('\n')].map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  }

  /** Run a command; resolves with its result whatever the exit code, rejects only when ssh itself failed. */
  async run(remote: Remote, opts: RunOptions = {}): Promise<RunResult> {
    const command = remoteString(remote, this.config.sudo);
    const r: ProcessResult = await runProcess('ssh', [...this.sshArgs(), sshCommand(remote, this.config.sudo)], {
      stdin: opts.stdin,
      timeoutMs: opts.timeoutMs ?? this.settings.commandTimeoutMs,
      signal: opts.signal,
      // its own process group: a Ctrl-C on the terminal reaches releaseflow, which finishes the
      // command and rolls back, instead of cutting the command in the middle
      detached: true,
    });
    const result: RunResult = {
      host: this.name,
      command,
      code: r.code ?? -1,
      stdout: stripNoise(r.stdout, this.banner),
      stderr: stripNoise(r.stderr, this.banner),
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
    if (r.signal && !opts.signal?.aborted) {
      throw new HostUnreachableError(`the connection to ${this.name} was cut: ssh was killed by ${r.signal} while running the command`, {
        host: this.name,
        command,
        output: tail(result.stderr || result.stdout, 10),
        fix: `check the network to ${this.name}; a release rolls back by itself (and PROD's crash guard restores on its own); if releaseflow status then shows an interrupted release: releaseflow recover`,
      });
    }
    // when the shared connection dies mid-command, ssh's mux client can report it on stdout
    const muxLost = /^Control socket connect\(.*\): /m.exec(r.stdout)?.[0];
    if (result.code === 255 && (muxLost || /^ssh: |Host key|HOST IDENTIFICATION|Permission denied|Connection (closed|refused|timed out|reset)|kex_exchange|Timeout, server|closed by remote host|Broken pipe|client_loop|mux_client|Control socket/m.test(r.stderr))) {
      const d = diagnoseSsh(this.config, muxLost ? `${r.stderr}\n${r.stdout}` : r.stderr);
      throw new HostUnreachableError(d.message, { host: this.name, command, fix: d.fix, output: tail(result.stderr, 10) });
    }
    // the shared connection died under the command and ssh said nothing: 255 is ssh's, not the command's
    if (result.code === 255 && this.masterUp && !(await this.masterAlive())) {
      throw new HostUnreachableError(`the connection to ${this.name} was lost while the command ran (ssh exit 255, its shared connection is gone): whether the command finished there is unknown`, {
        host: this.name,
        command,
        output: tail(result.stderr || result.stdout, 10),
        fix: `check the network to ${this.name}; a release rolls back by itself over a new connection (PROD's crash guard restores on its own); if releaseflow status then shows an interrupted release: releaseflow recover`,
      });
    }
    return result;
  }

  /** Is the shared connection (ControlMaster) still there? */
  private async masterAlive(): Promise<boolean> {
    const args = this.sshArgs();
    args.splice(args.indexOf('--'), 0, '-O', 'check');
    const r = await runProcess('ssh', args, { timeoutMs: 5000 }).catch(() => undefined);
    return r?.code === 0;
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
    const child = spawn('ssh', [...this.sshArgs(), sshCommand(remote, this.config.sudo)], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
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
