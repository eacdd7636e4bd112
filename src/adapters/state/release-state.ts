// Read-only: the target's lock and any interrupted release (a journal not marked done), in one round trip.
import { randomBytes } from 'node:crypto';
import type { Config } from '../../core/config.ts';
import type { Journal, JournalState } from '../../core/journal.ts';
import { parseSections } from '../../core/sections.ts';
import { buildReleaseStateScript } from '../../core/state-scripts.ts';
import type { SshHost } from '../ssh.ts';
import type { LockInfo } from './holder.ts';

/** A release whose journal is not marked done. */
export interface InterruptedRelease {
  releaseId: string;
  state: JournalState | 'unknown';
  journal?: Journal;
  /** The guard process on the target still runs (the release is live, or the guard is restoring). */
  guardAlive: boolean;
  /** The guard decided (ended by releaseflow, or restoring by itself). */
  guardDecided: boolean;
  guardLog: string;
}

export interface ReleaseState {
  lock: { held: boolean; info?: LockInfo };
  /** Releases not marked done whose guard is gone or restoring: someone must run `recover`. */
  interrupted: InterruptedRelease[];
  /** Releases in progress right now (their guard runs and has not decided). */
  running: InterruptedRelease[];
}

/** Parse the script's output (pure). */
export function parseReleaseState(stdout: string, marker: string): ReleaseState {
  const lines = stdout.split('\n').map((l) => l.replace(/\r$/, ''));
  const held = lines.some((l) => l === `${marker} lock held`);
  const s = parseSections(stdout, marker);
  let info: LockInfo | undefined;
  try {
    const t = s.get('lockinfo')?.text.trim();
    if (t) info = JSON.parse(t) as LockInfo;
  } catch {
    /* cut while written */
  }
  const interrupted: InterruptedRelease[] = [];
  const running: InterruptedRelease[] = [];
  for (const l of lines) {
    if (!l.startsWith(`${marker} rel `)) continue;
    const [id = '', state = 'unknown', g = 'dead', dec = 'no'] = l.slice(marker.length + 5).split(' ');
    let journal: Journal | undefined;
    try {
      journal = JSON.parse(s.get(`j:${id}`)?.text ?? '') as Journal;
    } catch {
      /* a journal cut while written: nothing was changed yet */
    }
    const r: InterruptedRelease = { releaseId: id, state: state as JournalState, journal, guardAlive: g === 'alive', guardDecided: dec === 'yes', guardLog: s.get(`g:${id}`)?.text.trim() ?? '' };
    (r.guardAlive && !r.guardDecided && r.state === 'started' ? running : interrupted).push(r);
  }
  return { lock: held ? { held, info } : { held: false }, interrupted, running };
}

/** Read the target's lock and interrupted releases. */
export async function readReleaseState(host: SshHost, config: Config): Promise<ReleaseState> {
  const marker = `@@rf-${randomBytes(6).toString('hex')}`;
  const r = await host.check({ script: buildReleaseStateScript(host.config.stateDir, config.app, marker) }, { what: 'reading the release journal' });
  return parseReleaseState(r.stdout, marker);
}
