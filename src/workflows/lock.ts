// The release lock on the target: an atomic mkdir in the state folder, with holder, time and version.
import { hostname, userInfo } from 'node:os';
import type { SshHost } from '../adapters/ssh.ts';
import type { Config } from '../core/config.ts';
import { ReleaseflowError } from '../core/errors.ts';
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

/** Take the lock or fail naming who holds it. */
export async function acquireLock(host: SshHost, config: Config, releaseId: string, kind: string): Promise<void> {
  const p = statePaths(host.config.stateDir, config.app);
  const info = JSON.stringify({ holder: operatorName(), pid: process.pid, releaseId, kind, at: new Date().toISOString() });
  const script = [
    `umask 077; mkdir -p ${shQuote(p.root)} || exit 3`,
    `if mkdir ${shQuote(p.lock)} 2>/dev/null; then cat > ${shQuote(`${p.lock}/info.json`)}; echo locked; else echo busy; cat ${shQuote(`${p.lock}/info.json`)} 2>/dev/null; fi`,
  ].join('\n');
  const r = await host.run({ script }, { stdin: info });
  if (r.code === 0 && r.stdout.includes('locked')) return;
  if (r.stdout.includes('busy')) {
    let holder = 'unknown holder';
    try {
      const j = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
      holder = `${j.holder} (${j.kind} ${j.releaseId}, since ${j.at}, pid ${j.pid})`;
    } catch {
      /* a lock without info: an older or interrupted run */
    }
    throw new ReleaseflowError(`another release holds the lock on ${host.name}: ${holder}`, {
      host: host.name,
      fix: `wait for it to finish; if that run is dead (releaseflow status shows no release running), remove the lock: releaseflow lock release`,
    });
  }
  throw new ReleaseflowError(`cannot create the state folder ${p.root} on ${host.name} (exit ${r.code}): ${r.stderr.trim()}`, {
    host: host.name,
    fix: `make ${host.config.stateDir} writable for the SSH user, or set stateDir: for the host`,
  });
}

/** Release the lock (also used by `releaseflow lock release`). */
export async function releaseLock(host: SshHost, config: Config): Promise<void> {
  const p = statePaths(host.config.stateDir, config.app);
  await host.check({ argv: ['rm', '-rf', p.lock] }, { what: 'removing the lock' });
}
