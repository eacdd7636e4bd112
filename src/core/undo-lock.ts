// The undo mutex on the target: the crash guard, the client's rollback and `recover` never undo at once.
import { shQuote } from './quote.ts';

/**
 * A shell function: is pid $1 alive AND running a command line that contains $2? PIDs are reused
 * (pid_max is often 32768), so a bare `kill -0` would take a stranger for our guard.
 */
export const ALIVE_FN = `rf_alive() { kill -0 "$1" 2>/dev/null || return 1; [ -r "/proc/$1/cmdline" ] || return 0; tr '\\000' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"; }`;

/**
 * Take over the lock only if it still names exactly the dead holder `$1` (pid and token) we saw: the
 * re-check and the removal run as one claim (under flock where present, else under an atomic `mkdir`
 * of `$lk.steal`), so two waiters that both saw the dead holder cannot both remove a lock, and nobody
 * removes the lock a third waiter has just taken.
 */
const STEAL_FN = [
  'rf_steal() {',
  '  if command -v flock >/dev/null 2>&1; then',
  '    ( flock -w 5 9 || exit 1; [ "$(cat "$lk/pid" 2>/dev/null)" = "$1" ] || exit 1; rm -rf "$lk" ) 9>>"$lk.flock"',
  '  else',
  '    mkdir "$lk.steal" 2>/dev/null || return 1',
  '    r=1; if [ "$(cat "$lk/pid" 2>/dev/null)" = "$1" ]; then rm -rf "$lk"; r=0; fi',
  '    rmdir "$lk.steal"; return $r',
  '  fi',
  '}',
].join('\n');

/**
 * Wrap a script in the undo mutex: wait (up to 120 s) for `lockDir`, steal it from a dead holder, and
 * run the body immune to a lost connection (HUP/PIPE ignored, output to a file, printed at the end).
 * The lock holds "pid token"; the token (time and random) makes each holding unique, so a steal
 * decision about one holding can never apply to a later one that reuses the pid.
 */
export function withUndoLock(body: string, lockDir: string, outFile: string, sudo = false): string {
  const lk = shQuote(lockDir);
  return [
    "trap '' HUP PIPE",
    // hosts configured with sudo: true reach docker through sudo -n, in our scripts too
    ...(sudo ? ['docker() { sudo -n docker "$@"; }'] : []),
    ALIVE_FN,
    `lk=${lk}; i=0`,
    STEAL_FN,
    'me="$$ $(date +%s).$(od -An -N4 -tu4 /dev/urandom 2>/dev/null | tr -d \' \')"',
    'until mkdir "$lk" 2>/dev/null; do',
    '  h=$(cat "$lk/pid" 2>/dev/null); p=$(echo $h | cut -d" " -f1)',
    // a holder that died (or whose pid now runs something else) left the lock behind: take it over
    '  if [ -n "$p" ] && ! rf_alive "$p" "$(dirname "$lk")" && rf_steal "$h"; then continue; fi',
    `  i=$((i + 1)); [ "$i" -le 1200 ] || { echo "releaseflow: another rollback holds $lk for 120s; if none runs: rm -r $lk $lk.steal" >&2; exit 75; }`,
    '  sleep 0.1 2>/dev/null || sleep 1',
    'done',
    'echo "$me" >"$lk/pid"',
    // release only our own holding
    `trap '[ "$(cat "$lk/pid" 2>/dev/null)" = "$me" ] && rm -rf "$lk"' EXIT`,
    "trap 'exit 143' TERM",
    `( ${body}\n) 9>&- >${shQuote(outFile)} 2>&1 </dev/null`,
    'rc=$?',
    `cat ${shQuote(outFile)} 2>/dev/null`,
    'exit $rc',
  ].join('\n');
}
