// The release lock on the target: an atomic mkdir in the state folder, with holder, machine, pid, time and release.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../../core/config.ts';
import { ReleaseflowError } from '../../core/errors.ts';
import { buildAcquireLockScript, buildReadLockScript, buildReleaseLockScript } from '../../core/state-scripts.ts';
import { statePaths } from '../../core/state.ts';
import { type Clock, systemClock } from '../clock.ts';
import type { SshHost } from '../ssh.ts';
import { describeHolder, holderLiveness, type LockInfo, operatorName } from './holder.ts';
import { stateDirError } from './state-dir.ts';

const newMarker = () => `@@rf-${randomBytes(6).toString('hex')}`;

/** Read the lock on the target: undefined when free. */
export async function readLock(host: SshHost, config: Config): Promise<{ held: boolean; info?: LockInfo }> {
  const p = statePaths(host.config.stateDir, config.app);
  const m = newMarker();
  const r = await host.check({ script: buildReadLockScript(p.lock, m) }, { what: 'reading the lock' });
  return parseLockOutput(r.stdout, m);
}

/** Parse `<marker> held|free|locked|busy` and the info.json after it (banner lines before are ignored). */
export function parseLockOutput(stdout: string, marker: string): { held: boolean; state?: string; info?: LockInfo } {
  const i = stdout.indexOf(`${marker} `);
  if (i < 0) return { held: false };
  const rest = stdout.slice(i + marker.length + 1);
  const nl = rest.indexOf('\n');
  const state = (nl < 0 ? rest : rest.slice(0, nl)).trim();
  let info: LockInfo | undefined;
  try {
    const text = nl < 0 ? '' : rest.slice(nl + 1).trim();
    if (text) info = JSON.parse(text) as LockInfo;
  } catch {
    /* a lock cut while its info was written */
  }
  return { held: state === 'held' || state === 'busy', state, info };
}

/** Take the lock or fail naming who holds it, whether that run is alive, and what to do. */
export async function acquireLock(host: SshHost, config: Config, releaseId: string, kind: string, clock: Clock = systemClock): Promise<void> {
  const p = statePaths(host.config.stateDir, config.app);
  const info: LockInfo = { holder: operatorName(), machine: hostname(), pid: process.pid, releaseId, kind, at: clock().toISOString() };
  const m = newMarker();
  const r = await host.run({ script: buildAcquireLockScript(p.root, p.lock, m) }, { stdin: JSON.stringify(info) });
  const out = parseLockOutput(r.stdout, m);
  if (r.code === 0 && out.state === 'locked') return;
  if (out.state?.startsWith('nowrite ')) {
    const [, user = '', ...dir] = out.state.split(' ');
    throw stateDirError(host, p.root, user, dir.join(' '));
  }
  if (out.state === 'busy') throw lockBusyError(host, p.lock, out.info);
  throw new ReleaseflowError(`cannot create the state folder ${p.root} on ${host.name} (exit ${r.code}): ${r.stderr.trim()}`, {
    host: host.name,
    command: `mkdir -p ${p.root}`,
    fix: `make ${host.config.stateDir} writable for the SSH user, or set stateDir: for the host`,
  });
}

/** The error for a lock held by another run: who, whether it still runs, and what to do. */
export function lockBusyError(host: SshHost, lockPath: string, info: LockInfo | undefined): ReleaseflowError {
  const l = holderLiveness(info);
  return new ReleaseflowError(`another release holds the lock on ${host.name} (${lockPath}): ${describeHolder(info)}`, {
    host: host.name,
    command: `mkdir ${lockPath}`,
    fix:
      l === 'alive'
        ? `wait for it to finish (releaseflow status shows its progress)`
        : l === 'dead'
          ? `run: releaseflow recover (it finishes or rolls back the interrupted release and removes the lock)`
          : `ask ${info?.holder ?? 'its holder'} whether it still runs; if it is dead: releaseflow recover (releaseflow lock release only removes the lock)`,
  });
}

/**
 * Release the lock. With `releaseId`, only while it still holds that release (a lock removed by
 * `lock release --force` and taken by another run is left to that run). Without it (`releaseflow lock
 * release`), whoever holds it.
 */
export async function releaseLock(host: SshHost, config: Config, releaseId?: string): Promise<'released' | 'gone' | 'other'> {
  const p = statePaths(host.config.stateDir, config.app);
  if (releaseId === undefined) {
    await host.check({ argv: ['rm', '-rf', p.lock] }, { what: 'removing the lock' });
    return 'released';
  }
  const m = newMarker();
  const r = await host.check({ script: buildReleaseLockScript(p.lock, releaseId, m) }, { what: 'removing the lock' });
  const state = parseLockOutput(r.stdout, m).state;
  return state === 'released' || state === 'gone' ? state : 'other';
}
