// Read-only: the target's lock and any interrupted release (a journal not marked done), in one round trip.
import { randomBytes } from 'node:crypto';
import type { SshHost } from '../adapters/ssh.ts';
import type { Config } from '../core/config.ts';
import { ReleaseflowError } from '../core/errors.ts';
import { ALIVE_FN, type Journal, type JournalState } from '../core/journal.ts';
import { shQuote } from '../core/quote.ts';
import { statePaths } from '../core/state.ts';
import { describeHolder, type LockInfo } from './lock.ts';
import { parseSections } from '../core/sections.ts';

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

/** The script: lock state and info, then per unfinished release its state, guard liveness, journal and guard log tail. */
export function buildReleaseStateScript(stateDir: string, app: string, marker: string): string {
  const p = statePaths(stateDir, app);
  const m = shQuote(marker);
  const sec = (name: string, body: string) => `printf '%s begin %s\\n' ${m} "${name}"\n${body}\nprintf '\\n%s end %s %s\\n' ${m} "${name}" $?`;
  return [
    `if [ -d ${shQuote(p.lock)} ]; then printf '%s lock held\\n' ${m}; else printf '%s lock free\\n' ${m}; fi`,
    sec('lockinfo', `cat ${shQuote(`${p.lock}/info.json`)} 2>/dev/null`),
    ALIVE_FN,
    `for d in ${shQuote(p.releases)}/*; do`,
    '  [ -f "$d/journal.json" ] || continue',
    '  s=$(cat "$d/state" 2>/dev/null); [ "$s" = done ] && continue',
    '  id=$(basename "$d"); g=dead; gp=$(cat "$d/guard.pid" 2>/dev/null)',
    '  if [ -n "$gp" ] && rf_alive "$gp" "$d"; then g=alive; fi',
    '  dec=no; [ -d "$d/guard.decided" ] && dec=yes',
    `  printf '%s rel %s %s %s %s\\n' ${m} "$id" "\${s:-unknown}" "$g" "$dec"`,
    `  ${sec('j:$id', 'cat "$d/journal.json"')}`,
    `  ${sec('g:$id', 'tail -n 5 "$d/guard.log" 2>/dev/null')}`,
    'done',
    'true',
  ].join('\n');
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
