// The scripts run in a host's state folder (lock, history, release journals, crash guard): pure builders.
// Each prints its answer after a marker where a login banner could come first.
import type { JournalPaths } from './journal.ts';
import { shQuote } from './quote.ts';
import { statePaths } from './state.ts';
import { ALIVE_FN } from './undo-lock.ts';

/**
 * Shell function: `rf_statedir DIR` sets d to DIR or its nearest existing ancestor (what `mkdir -p DIR`
 * needs to write) and w=ok when the current user may create files there, else w=no.
 */
export const STATE_DIR_FN = 'rf_statedir() { d=$1; while [ ! -e "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done; if [ -d "$d" ] && [ -w "$d" ] && [ -x "$d" ]; then w=ok; else w=no; fi; }';

/** Can the SSH user write the state folder `root` (or create it)? Prints `<marker> ok|no USER DIR`, DIR being root or the ancestor that decides. */
export function buildStateDirCheckScript(root: string, marker: string): string {
  return `${STATE_DIR_FN}\nrf_statedir ${shQuote(root)}; printf '%s %s %s %s\\n' ${shQuote(marker)} "$w" "$(id -un)" "$d"`;
}

/** Read the lock: prints `<marker> held` and its info.json, or `<marker> free`. */
export function buildReadLockScript(lockPath: string, marker: string): string {
  const m = shQuote(marker);
  return `if [ -d ${shQuote(lockPath)} ]; then printf '%s held\\n' ${m}; cat ${shQuote(`${lockPath}/info.json`)} 2>/dev/null; else printf '%s free\\n' ${m}; fi`;
}

/**
 * Take the lock (an atomic mkdir) and write its info.json from stdin: prints `<marker> locked`, or
 * `<marker> busy` and the holder's info.json, or `<marker> nowrite USER DIR` (exit 3) when the SSH user
 * cannot write the state folder `root`.
 */
export function buildAcquireLockScript(root: string, lockPath: string, marker: string): string {
  const m = shQuote(marker);
  return [
    // a state folder the SSH user cannot write (sudo: true covers docker only) is named, not taken for a held lock
    STATE_DIR_FN,
    `rf_statedir ${shQuote(root)}; if [ "$w" != ok ]; then printf '%s nowrite %s %s\\n' ${m} "$(id -un)" "$d"; exit 3; fi`,
    `umask 077; mkdir -p ${shQuote(root)} || exit 3`,
    `if mkdir ${shQuote(lockPath)} 2>/dev/null; then cat > ${shQuote(`${lockPath}/info.json`)}; printf '%s locked\\n' ${m}; else printf '%s busy\\n' ${m}; cat ${shQuote(`${lockPath}/info.json`)} 2>/dev/null; fi`,
  ].join('\n');
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

/** Exit code of the history read when the SSH user cannot read the state folder (it prints the user's name). */
export const HISTORY_UNREADABLE = 3;

/** Print the history (nothing when there is none); a state folder the SSH user cannot read exits 3 after the user's name. */
export function buildReadHistoryScript(root: string, historyPath: string): string {
  const q = shQuote(root);
  return `if [ -d ${q} ] && ! { [ -r ${q} ] && [ -x ${q} ]; }; then id -un; exit ${HISTORY_UNREADABLE}; fi\ncat ${shQuote(historyPath)} 2>/dev/null || true`;
}

/** Append stdin to the history, creating the state folder (0700) when needed. */
export function buildAppendHistoryScript(root: string, historyPath: string): string {
  return `umask 077 && mkdir -p ${shQuote(root)} && cat >> ${shQuote(historyPath)}`;
}

/** Words the guard check prints. */
export const GUARD_ALIVE = 'rf-guard-alive';
export const GUARD_GONE = 'rf-guard-gone';

/** Does the release's guard process still run? Prints rf-guard-alive or rf-guard-gone. */
export function buildGuardAliveScript(paths: JournalPaths): string {
  return `${ALIVE_FN}
p=$(cat ${shQuote(paths.guardPid)} 2>/dev/null); if [ -n "$p" ] && rf_alive "$p" ${shQuote(paths.dir)}; then echo ${GUARD_ALIVE}; else echo ${GUARD_GONE}; fi`;
}

/** Stop a guard that still waits without letting it restore: it is marked decided first, then ended. */
export function buildStopGuardScript(paths: JournalPaths): string {
  return `${ALIVE_FN}
mkdir ${shQuote(paths.guardDecided)} 2>/dev/null; p=$(cat ${shQuote(paths.guardPid)} 2>/dev/null); if [ -n "$p" ] && rf_alive "$p" ${shQuote(paths.dir)}; then kill -TERM "$p" 2>/dev/null; fi; true`;
}
