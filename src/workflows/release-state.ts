// What the target's lock and interrupted releases mean for the operator, and the refusal to release over one.
import type { SshHost } from '../adapters/ssh.ts';
import { describeHolder } from '../adapters/state/holder.ts';
import { type InterruptedRelease, type ReleaseState, readReleaseState } from '../adapters/state/release-state.ts';
import type { Config } from '../core/config.ts';
import { ReleaseflowError } from '../core/errors.ts';

const STATE_WORDS: Record<string, string> = {
  started: 'it was changing containers when it stopped',
  committed: 'the new version was healthy and kept; only its history entry is missing',
  'rolled-back': "PROD's crash guard already restored the previous containers",
  'rollback-failed': 'the automatic restore FAILED',
  unknown: 'its state is unknown',
};

/** One line for a release in progress. */
export function describeRunning(r: InterruptedRelease): string {
  const j = r.journal;
  return `release ${r.releaseId} is in progress: ${j ? `${j.kind} by ${j.holder} (pid ${j.pid} on ${j.machine}, started ${j.startedAt})` : 'journal unreadable'}`;
}

/** One operator-facing line for an interrupted release. */
export function describeInterrupted(r: InterruptedRelease): string {
  const j = r.journal;
  const who = j ? `${j.kind} by ${j.holder} (pid ${j.pid} on ${j.machine}, started ${j.startedAt})` : 'journal unreadable';
  const live = r.guardAlive && r.guardDecided ? '; its guard is restoring the previous containers right now' : '';
  return `release ${r.releaseId} was interrupted: ${who}; ${STATE_WORDS[r.state] ?? STATE_WORDS.unknown}${live}`;
}

/** Lines for status/doctor: the interrupted releases and a lock (with its holder). */
export function describeReleaseState(st: ReleaseState): { problems: string[]; fix?: string } {
  const problems = st.interrupted.map(describeInterrupted);
  if (st.lock.held && st.running.length === 0) problems.push(`the release lock is held by ${describeHolder(st.lock.info)}`);
  if (problems.length === 0) return { problems };
  const fix = st.interrupted.length
    ? 'run: releaseflow recover (it restores the previous containers, or records the release the guard kept, then removes the lock)'
    : 'if that run is dead: releaseflow lock release (or releaseflow recover)';
  return { problems, fix };
}

/** Refuse to start a release while the target has an interrupted one: only `recover` may touch it now. */
export async function assertNoInterrupted(to: SshHost, config: Config): Promise<ReleaseState> {
  const st = await readReleaseState(to, config);
  if (st.interrupted.length) {
    throw new ReleaseflowError(`${to.name} has an interrupted release: ${st.interrupted.map(describeInterrupted).join('; ')}`, {
      host: to.name,
      fix: 'run: releaseflow recover (it restores the previous containers or records the kept release, then removes the lock); then try again',
    });
  }
  return st;
}
