// The app's state folder on a host: can the SSH user write it, and what to do when it cannot.
import { randomBytes } from 'node:crypto';
import type { Config } from '../../core/config.ts';
import { ExitCode, ReleaseflowError } from '../../core/errors.ts';
import { buildStateDirCheckScript } from '../../core/state-scripts.ts';
import { statePaths } from '../../core/state.ts';
import type { SshHost } from '../ssh.ts';

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

/** Whether the SSH user may write the app's state folder (or create it), as which user, and which directory decides (root or its nearest existing ancestor); undefined when the host printed no answer. */
export async function readStateDirAccess(host: SshHost, config: Config): Promise<{ root: string; writable: boolean; user: string; blocking: string } | undefined> {
  const root = statePaths(host.config.stateDir, config.app).root;
  const m = `@@rf-${randomBytes(6).toString('hex')}`;
  const r = await host.check({ script: buildStateDirCheckScript(root, m) }, { what: 'checking the state folder' });
  const line = r.stdout.split('\n').find((l) => l.startsWith(`${m} `));
  if (!line) return undefined;
  const [, w, user = '', ...dir] = line.split(' ');
  return { root, writable: w === 'ok', user, blocking: dir.join(' ') };
}
