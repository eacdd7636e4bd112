// Who runs releaseflow on this machine, and whether the holder a lock or journal names still runs.
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';

/** user@machine of the operator, for history and the lock. */
export function operatorName(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry in some containers */
  }
  return `${user}@${hostname()}`;
}

/** What the lock's info.json says about its holder. */
export interface LockInfo {
  holder?: string;
  machine?: string;
  pid?: number;
  releaseId?: string;
  kind?: string;
  at?: string;
}

/** Is the holder still running? Only a holder on this machine can be checked (its pid). */
export type Liveness = 'alive' | 'dead' | 'unknown';

/** A process of ours (node running releaseflow) with this pid on this machine? */
export function isReleaseflowPid(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // a recycled pid of an unrelated program does not hold our lock
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /node|releaseflow|tsx/.test(cmd);
  } catch {
    return true;
  }
}

/** Whether the lock's holder still runs, as far as this machine can tell. */
export function holderLiveness(info: LockInfo | undefined): Liveness {
  if (!info?.machine || !info.pid || info.machine !== hostname()) return 'unknown';
  return isReleaseflowPid(info.pid) ? 'alive' : 'dead';
}

/** One line naming the holder: who, which release, since when, which pid on which machine, and whether it runs. */
export function describeHolder(info: LockInfo | undefined): string {
  if (!info) return 'an unknown holder (the lock has no info.json: a run was killed while taking it)';
  const who = `${info.holder ?? 'unknown'} (${info.kind ?? 'release'} ${info.releaseId ?? '?'}, since ${info.at ?? '?'}, pid ${info.pid ?? '?'} on ${info.machine ?? '?'})`;
  const l = holderLiveness(info);
  if (l === 'dead') return `${who}; that run is DEAD: pid ${info.pid} no longer runs on this machine`;
  if (l === 'alive') return `${who}; it is still running on this machine`;
  return `${who}; it runs on another machine, so releaseflow cannot tell whether it is still running`;
}
