// The client's end of PROD's crash guard: start it, feed it heartbeats, end it with the release's outcome.
import type { ChildProcess } from 'node:child_process';
import { ReleaseflowError } from '../../core/errors.ts';
import { buildGuardScript, GUARD_TAG, type GuardTimes, type JournalPaths } from '../../core/journal.ts';
import { tail } from '../../core/noise.ts';
import type { SshHost } from '../ssh.ts';

/** How `end` went: the guard recorded the word, had already restored (too late), or could not be reached. */
export type GuardEnd = { ok: true } | { ok: false; why: 'too-late' | 'lost'; detail: string };

/** A running crash guard on the target. */
export class CrashGuard {
  private lostReason: string | undefined;
  private ended = false;
  private stdout = '';
  private stderr = '';
  private readonly waiters: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout;

  private constructor(
    readonly host: SshHost,
    readonly paths: JournalPaths,
    private readonly child: ChildProcess,
    beatMs: number,
  ) {
    child.stdout!.on('data', (b: Buffer) => {
      this.stdout += b.toString('utf8');
      for (const w of this.waiters.splice(0)) w();
    });
    child.stderr!.on('data', (b: Buffer) => {
      this.stderr += b.toString('utf8');
    });
    child.stdin!.on('error', () => {});
    child.on('close', (code, signal) => {
      if (!this.ended) this.lostReason = `the guard's ssh session ended (${signal ? `ssh killed by ${signal}` : `exit ${code}`})${this.stderr.trim() ? `: ${tail(this.stderr, 2).trim()}` : ''}`;
      clearInterval(this.timer);
      for (const w of this.waiters.splice(0)) w();
    });
    this.timer = setInterval(() => this.write('beat\n'), beatMs);
    this.timer.unref();
  }

  /** Start the guard on the target and wait until it is armed; throws (nothing changed yet) when it cannot be. */
  static async start(host: SshHost, paths: JournalPaths, times: GuardTimes, timeoutMs = 30_000): Promise<CrashGuard> {
    const { child } = host.spawnStream({ script: buildGuardScript(paths, times) });
    const beatMs = Math.max(200, Math.min(5000, (times.heartbeatTimeoutS * 1000) / 4));
    const g = new CrashGuard(host, paths, child, beatMs);
    const line = await g.waitLine(`${GUARD_TAG} armed `, timeoutMs);
    if (!line) {
      g.child.kill('SIGTERM');
      throw new ReleaseflowError(`could not start the crash guard on ${host.name}: ${g.lostReason ?? `no answer in ${Math.round(timeoutMs / 1000)}s`}`, {
        host: host.name,
        command: `sh guard script (journal in ${paths.dir})`,
        output: tail(`${g.stdout}${g.stderr}`, 10),
        fix: `check that the SSH user's shell on ${host.name} runs POSIX sh scripts and can write ${paths.dir}; nothing was changed`,
      });
    }
    return g;
  }

  /** True once `end` was called (whatever it answered). */
  isEnded(): boolean {
    return this.ended;
  }

  /** Why the guard is gone, if it is: the release must not go on without it. */
  lost(): string | undefined {
    return this.ended ? undefined : this.lostReason;
  }

  /** Tell the guard the outcome; it records it as the release's state and exits without touching containers. */
  async end(word: 'committed' | 'rolled-back' | 'rollback-failed', timeoutMs = 20_000): Promise<GuardEnd> {
    clearInterval(this.timer);
    if (this.lostReason) return { ok: false, why: 'lost', detail: this.lostReason };
    this.write(`end ${word}\n`);
    const line = await this.waitLine(`${GUARD_TAG} `, timeoutMs, (l) => !l.startsWith(`${GUARD_TAG} armed`));
    this.ended = true;
    this.child.stdin!.end();
    if (line?.startsWith(`${GUARD_TAG} ok `)) return { ok: true };
    if (line?.startsWith(`${GUARD_TAG} too-late`)) return { ok: false, why: 'too-late', detail: `the guard had already restored the previous containers (state ${line.split(' ')[2] ?? '?'})` };
    return { ok: false, why: 'lost', detail: this.lostReason ?? `no answer from the guard in ${Math.round(timeoutMs / 1000)}s` };
  }

  private write(text: string): void {
    if (this.child.stdin!.writable) this.child.stdin!.write(text);
  }

  /** The first stdout line starting with `prefix` (banners before it are ignored), or undefined. */
  private waitLine(prefix: string, timeoutMs: number, accept: (line: string) => boolean = () => true): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve) => {
      const check = () => {
        const found = this.stdout.split('\n').find((l, i, all) => i < all.length - 1 && l.startsWith(prefix) && accept(l));
        if (found !== undefined) return resolve(found);
        if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > deadline) return resolve(undefined);
        this.waiters.push(check);
        setTimeout(check, Math.max(0, deadline - Date.now()) + 10).unref();
      };
      check();
    });
  }
}
