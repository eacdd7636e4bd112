// The dashboard's SSH hosts: each opened on first use and kept, so the page's polling (status, plan,
// doctor, history, logs) shares one connection per host; closed with the dashboard. A release run
// opens its own session and never uses these.
import type { SshHost } from '../adapters/ssh.ts';
import type { Config } from '../core/config.ts';
import { CommandError, HostUnreachableError } from '../core/errors.ts';
import { openHosts } from '../workflows/hosts.ts';

/** Opens hosts by name (openHosts; a test passes a fake). */
export type HostOpener = (config: Config, names: readonly string[]) => Map<string, SshHost>;

interface Kept {
  host: SshHost;
  usedAt: number;
  users: number;
  /** An answer with it failed: replaced once nobody uses it. */
  stale: boolean;
}

export interface HostPoolOptions {
  opener?: HostOpener;
  /** Replace a host idle for longer (its ControlMaster persists 120 s after the last command). */
  maxIdleMs?: number;
  now?: () => number;
}

/** One open SshHost per host name for the dashboard's read-only answers. */
export class HostPool {
  private readonly kept = new Map<string, Kept>();
  private readonly opener: HostOpener;
  private readonly maxIdleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly config: Config,
    o: HostPoolOptions = {},
  ) {
    this.opener = o.opener ?? openHosts;
    this.maxIdleMs = o.maxIdleMs ?? 90_000;
    this.now = o.now ?? Date.now;
  }

  /** Run `body` with the named hosts, opened once and reused; after a failure they are opened afresh next time. */
  async use<T>(names: readonly string[], body: (hosts: Map<string, SshHost>) => Promise<T>): Promise<T> {
    const taken = new Map<string, Kept>();
    for (const n of names) if (!taken.has(n)) taken.set(n, this.take(n));
    try {
      return await body(new Map([...taken].map(([n, k]) => [n, k.host])));
    } catch (e) {
      // a lost or hung connection: the next answer opens the host afresh
      if (e instanceof HostUnreachableError || e instanceof CommandError) for (const k of taken.values()) k.stale = true;
      throw e;
    } finally {
      for (const k of taken.values()) {
        k.users--;
        k.usedAt = this.now();
      }
    }
  }

  private take(name: string): Kept {
    const old = this.kept.get(name);
    if (old && old.users === 0 && (old.stale || this.now() - old.usedAt > this.maxIdleMs)) {
      this.kept.delete(name);
      void old.host.close().catch(() => undefined);
    }
    let k = this.kept.get(name);
    if (!k) {
      k = { host: this.opener(this.config, [name]).get(name)!, usedAt: this.now(), users: 0, stale: false };
      this.kept.set(name, k);
    }
    k.users++;
    return k;
  }

  /** Close every kept host (the dashboard stops). */
  async close(): Promise<void> {
    const all = [...this.kept.values()];
    this.kept.clear();
    await Promise.all(all.map((k) => k.host.close().catch(() => undefined)));
  }
}
