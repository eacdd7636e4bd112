// The release lock on the target: an atomic mkdir in the state folder, with holder, machine, pid, time and release.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { SshHost } from '../adapters/ssh.ts';
import type { Config } from '../core/config.ts';
import { ExitCode, ReleaseflowError } from '../core/errors.ts';
import { shQuote } from '../core/quote.ts';
import { statePaths } from '../core/state.ts';

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

/** Read the lock on the target: undefined when free. */
export async function readLock(host: SshHost, config: Config): Promise<{ held: boolean; info?: LockInfo }> {
  const p = statePaths(host.config.stateDir, config.app);
  const m = `@@rf-${randomBytes(6).toString('hex')}`;
  const r = await host.check({ script: `if [ -d ${shQuote(p.lock)} ]; then printf '%s held\\n' ${shQuote(m)}; cat ${shQuote(`${p.lock}/info.json`)} 2>/dev/null; else printf '%s free\\n' ${shQuote(m)}; fi` }, { what: 'reading the lock' });
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
export async function acquireLock(host: SshHost, config: Config, releaseId: string, kind: string): Promise<void> {
  const p = statePaths(host.config.stateDir, config.app);
  const info: LockInfo = { holder: operatorName(), machine: hostname(), pid: process.pid, releaseId, kind, at: new Date().toISOString() };
  const m = `@@rf-${randomBytes(6).toString('hex')}`;
  const script = [
    // a state folder the SSH user cannot write (sudo: true covers docker only) is named, not taken for a held lock
    STATE_DIR_FN,
    `rf_statedir ${shQuote(p.root)}; if [ "$w" != ok ]; then printf '%s nowrite %s %s\\n' ${shQuote(m)} "$(id -un)" "$d"; exit 3; fi`,
    `umask 077; mkdir -p ${shQuote(p.root)} || exit 3`,
    `if mkdir ${shQuote(p.lock)} 2>/dev/null; then cat > ${shQuote(`${p.lock}/info.json`)}; printf '%s locked\\n' ${shQuote(m)}; else printf '%s busy\\n' ${shQuote(m)}; cat ${shQuote(`${p.lock}/info.json`)} 2>/dev/null; fi`,
  ].join('\n');
  const r = await host.run({ script }, { stdin: JSON.stringify(info) });
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

/**
 * Shell function: `rf_statedir DIR` sets d to DIR or its nearest existing ancestor (what `mkdir -p DIR`
 * needs to write) and w=ok when the current user may create files there, else w=no.
 */
export const STATE_DIR_FN = 'rf_statedir() { d=$1; while [ ! -e "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done; if [ -d "$d" ] && [ -w "$d" ] && [ -x "$d" ]; then w=ok; else w=no; fi; }';

/** What to do when the SSH user cannot write the app's state folder `root` because `blocking` (root or an ancestor) is not writable. */
export function stateDirFix(host: SshHost, root: string, user: string, blocking: string): string {
  const u = user || 'the SSH user';
  const once = blocking === root ? `chown -R ${u}: ${root}` : `install -d -o ${u} -m 0750 ${host.config.stateDir}`;
  return `as root on ${host.name}, once: ${once} (releaseflow writes its state folder as the SSH user; sudo: true is used for docker only), or set hosts.${host.name}.stateDir to a directory ${u} owns`;
}

/** Why the SSH user cannot write the app's state folder `root` (for doctor and for the error below). */
export function stateDirProblem(host: SshHost, root: string, user: string, blocking: string): string {
  const why = blocking === root ? '' : ` (${blocking}, where it would be created, is not writable)`;
  return `the state folder ${root} on ${host.name} is not writable for the SSH user ${user || '(unknown)'}${why}`;
}

/** The error for a state folder the SSH user cannot write: which folder, which user, which directory blocks it, and the fix. */
export function stateDirError(host: SshHost, root: string, user: string, blocking: string): ReleaseflowError {
  // a set-up problem found before anything changed: exit 2, like a bad config
  return new ReleaseflowError(`${stateDirProblem(host, root, user, blocking)}; nothing was changed`, {
    host: host.name,
    command: `mkdir -p ${root}`,
    fix: stateDirFix(host, root, user, blocking),
  }, ExitCode.usage);
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
 * The script that removes the lock only while its info.json names `releaseId`: the lock is renamed away
 * (atomic), the moved copy checked again, and put back if another run took the lock in between.
 * Prints `<marker> released|gone|other`.
 */
export function buildReleaseLockScript(lockPath: string, releaseId: string, marker: string): string {
  const lk = shQuote(lockPath);
  const mine = shQuote(`"releaseId":${JSON.stringify(releaseId)}`);
  const m = shQuote(marker);
  return [
    `lk=${lk}; tmp="$lk.rm.$$"`,
    `if [ ! -d "$lk" ]; then printf '%s gone\\n' ${m}; exit 0; fi`,
    `grep -qF -- ${mine} "$lk/info.json" 2>/dev/null || { printf '%s other\\n' ${m}; exit 0; }`,
    `mv "$lk" "$tmp" 2>/dev/null || { printf '%s gone\\n' ${m}; exit 0; }`,
    `if grep -qF -- ${mine} "$tmp/info.json" 2>/dev/null; then rm -rf "$tmp"; printf '%s released\\n' ${m}; exit 0; fi`,
    // not ours after all (taken between the check and the rename): give it back
    `[ -e "$lk" ] || mv "$tmp" "$lk"; printf '%s other\\n' ${m}`,
  ].join('\n');
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
  const m = `@@rf-${randomBytes(6).toString('hex')}`;
  const r = await host.check({ script: buildReleaseLockScript(p.lock, releaseId, m) }, { what: 'removing the lock' });
  const state = parseLockOutput(r.stdout, m).state;
  return state === 'released' || state === 'gone' ? state : 'other';
}
