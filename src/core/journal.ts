// The release journal on the target: what a release will change and how to undo it, written before
// anything changes, so an interrupted release can be finished by PROD's crash guard or `recover`.
import { shQuote } from './quote.ts';
import type { HistoryContainer, UndoTarget } from './rollback-plan.ts';
import { buildUndoScript } from './rollback-plan.ts';
import { statePaths } from './state.ts';
import { ALIVE_FN, withUndoLock } from './undo-lock.ts';

export { ALIVE_FN };

/** Where a release's journal lives: the release folder, next to its snapshot. */
export interface JournalPaths {
  root: string;
  dir: string;
  journal: string;
  /** One word: started, committed, rolled-back, rollback-failed, done. */
  state: string;
  undo: string;
  undoOut: string;
  guardPid: string;
  guardBeat: string;
  guardDecided: string;
  guardLog: string;
  /** The mutex every undo takes (per app): the guard, the client's rollback and `recover` never overlap. */
  undoLock: string;
}

export function journalPaths(stateDir: string, app: string, releaseId: string): JournalPaths {
  const p = statePaths(stateDir, app, releaseId);
  const dir = p.release;
  return {
    root: p.root,
    dir,
    journal: `${dir}/journal.json`,
    state: `${dir}/state`,
    undo: `${dir}/undo.sh`,
    undoOut: `${dir}/undo.out`,
    guardPid: `${dir}/guard.pid`,
    guardBeat: `${dir}/guard.beat`,
    guardDecided: `${dir}/guard.decided`,
    guardLog: `${dir}/guard.log`,
    undoLock: `${p.root}/undo.lock`,
  };
}

/** The states of a release as its journal records them; every state but `done` means "interrupted" once its run is gone. */
export type JournalState = 'started' | 'committed' | 'rolled-back' | 'rollback-failed' | 'done';

/** The journal: written on the target before the first change, read by the guard (as undo.sh) and by `recover`. */
export interface Journal {
  version: 1;
  releaseId: string;
  kind: 'promote' | 'rollback';
  app: string;
  stateDir: string;
  from?: { name: string; address: string };
  to: { name: string; address: string };
  /** user@machine, the machine's hostname and the pid of the releaseflow run. */
  holder: string;
  machine: string;
  pid: number;
  startedAt: string;
  logFile: string;
  /** How to put every container of the release back as it was (the input of buildUndoScript). */
  targets: UndoTarget[];
  /** What history records for this release. */
  history: HistoryContainer[];
  /** For a manual rollback: the release it undoes. */
  undoes?: string;
  /** Run after the containers' undo: each compose project put back (files from their snapshots, then compose up). */
  extraUndo?: string[];
}

/** undo.sh: every target restored (each tried even if another fails), under the undo mutex. */
export function buildUndoAllScript(targets: readonly UndoTarget[], paths: JournalPaths, sudo = false, extra: readonly string[] = []): string {
  const body = ['rc=0', ...targets.map((t) => `(\n${buildUndoScript(t)}\n) || rc=1`), ...extra.map((x) => `(\n${x}\n) || rc=1`), 'exit $rc'].join('\n');
  return withUndoLock(body, paths.undoLock, paths.undoOut, sudo);
}

/** Settings of the crash guard, in seconds. */
export interface GuardTimes {
  /** No word from releaseflow for this long (a network partition, a frozen machine): restore. */
  heartbeatTimeoutS: number;
  /** After releaseflow went away: let its last command finish before restoring. */
  graceS: number;
}

/** Lines the guard prints: `rf-guard armed PID`, `rf-guard ok WORD`, `rf-guard too-late STATE`. */
export const GUARD_TAG = 'rf-guard';

/**
 * The crash guard, a POSIX sh script that runs on the target for the whole release, fed by releaseflow:
 * `beat` lines keep it waiting; `end WORD` (committed, rolled-back, rollback-failed) records WORD as the
 * release's state and ends it. When its input closes without `end` (releaseflow was killed, Ctrl-C'd
 * past cleanup, or its connection cut) or no `beat` came for the heartbeat timeout, it runs undo.sh
 * itself: PROD goes back to the previous containers without anyone connected.
 */
export function buildGuardScript(paths: JournalPaths, t: GuardTimes): string {
  const q = shQuote;
  const hb = Math.max(1, Math.round(t.heartbeatTimeoutS));
  const grace = Math.max(0, Math.round(t.graceS));
  return [
    "trap '' HUP PIPE INT",
    `rel=${q(paths.dir)}; beat=${q(paths.guardBeat)}; dec=${q(paths.guardDecided)}; st=${q(paths.state)}; log=${q(paths.guardLog)}`,
    'echo $$ >' + q(paths.guardPid),
    'echo 0 >"$beat"',
    'now() { date -u +%Y-%m-%dT%H:%M:%SZ; }',
    ALIVE_FN,
    // only one of the reader and the watchdog decides: mkdir is atomic
    'decide() { mkdir "$dec" 2>/dev/null; }',
    'setst() { [ "$(cat "$st" 2>/dev/null)" = done ] || echo "$1" >"$st"; }',
    'fire() {',
    '  exec >>"$log" 2>&1 </dev/null',
    `  echo "$(now) guard: $1; restoring the previous containers in ${grace}s"`,
    `  sleep ${grace}`,
    '  n=0',
    '  while :; do',
    '    n=$((n + 1))',
    // a state set meanwhile by releaseflow or recover (done) is not overwritten
    `    if sh ${q(paths.undo)}; then setst rolled-back; echo "$(now) guard: previous containers restored"; return 0; fi`,
    '    if [ "$n" -ge 3 ]; then setst rollback-failed; echo "$(now) guard: restore FAILED 3 times; run: releaseflow recover"; return 1; fi',
    '    sleep 2',
    '  done',
    '}',
    '(',
    '  last=; idle=0',
    '  while sleep 1; do',
    '    [ -d "$dec" ] && exit 0',
    '    b=$(cat "$beat" 2>/dev/null)',
    '    if [ "$b" = "$last" ]; then idle=$((idle + 1)); else idle=0; last=$b; fi',
    // restored while releaseflow's session may still be open (a partition keeps it half-open for hours): end the reader too
    `    if [ "$idle" -ge ${hb} ]; then if decide; then fire "no word from releaseflow for ${hb}s"; rf_alive $$ "$rel" && kill -TERM $$ 2>/dev/null; fi; exit 0; fi`,
    '  done',
    ') </dev/null >>"$log" 2>&1 &',
    `echo "${GUARD_TAG} armed $$"`,
    'n=0',
    'while IFS= read -r line; do',
    '  case $line in',
    '    beat) n=$((n + 1)); echo "$n" >"$beat" ;;',
    '    "end committed"|"end rolled-back"|"end rollback-failed")',
    `      w=\${line#end }`,
    `      if decide; then echo "$w" >"$st"; echo "$(now) guard: releaseflow ended the release: $w" >>"$log"; echo "${GUARD_TAG} ok $w"`,
    `      else echo "${GUARD_TAG} too-late $(cat "$st" 2>/dev/null)"; fi`,
    '      exit 0 ;;',
    '  esac',
    'done',
    'decide && fire "releaseflow went away (its connection closed)"',
    'exit 0',
  ].join('\n');
}

/** The script that writes the journal (JSON on stdin), undo.sh and state=started, before anything changes. */
export function buildWriteJournalScript(paths: JournalPaths, undoScript: string): string {
  const q = shQuote;
  return [
    'set -e',
    'umask 077',
    `mkdir -p ${q(paths.dir)}`,
    `cat >${q(`${paths.journal}.tmp`)}`,
    `mv ${q(`${paths.journal}.tmp`)} ${q(paths.journal)}`,
    `printf '%s\\n' ${q(undoScript)} >${q(paths.undo)}`,
    `rm -rf ${q(paths.guardDecided)}`,
    `echo started >${q(paths.state)}`,
  ].join('\n');
}

/** Set the release's state word (e.g. done once history is recorded); leftover env files (secrets) go too. */
export function buildSetStateScript(paths: JournalPaths, state: JournalState): string {
  return `rm -f ${shQuote(paths.dir)}/*.env; echo ${shQuote(state)} >${shQuote(paths.state)}`;
}

/** Exit code of a forward command refused because the guard already decided. */
export const GUARD_REFUSED = 97;

/** A forward command of a guarded release on the target: refused (exit 97) once the guard has decided (`decidedDir` exists). */
export function buildRefuseAfterGuardScript(decidedDir: string, command: string): string {
  return `if [ -d ${shQuote(decidedDir)} ]; then echo 'releaseflow: the crash guard has taken over this release' >&2; exit ${GUARD_REFUSED}; fi\n${command}`;
}
