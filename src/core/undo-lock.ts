// The undo mutex on the target: the crash guard, the client's rollback and `recover` never undo at once.
import { shQuote } from './quote.ts';

/**
 * A shell function: is pid $1 alive AND running a command line that contains $2? PIDs are reused
 * (pid_max is often 32768), so a bare `kill -0` would take a stranger for our guard.
 */
export const ALIVE_FN = `rf_alive() { kill -0 "$1" 2>/dev/null || return 1; [ -r "/proc/$1/cmdline" ] || return 0; tr '\\000' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"; }`;

/**
 * Wrap a script in the undo mutex: wait (up to 120 s) for `lockDir`, steal it from a dead holder, and
 * run the body immune to a lost connection (HUP/PIPE ignored, output to a file, printed at the end).
 */
export function withUndoLock(body: string, lockDir: string, outFile: string, sudo = false): string {
  const lk = shQuote(lockDir);
  return [
    "trap '' HUP PIPE",
    // hosts configured with sudo: true reach docker through sudo -n, in our scripts too
    ...(sudo ? ['docker() { sudo -n docker "$@"; }'] : []),
    ALIVE_FN,
    `lk=${lk}; i=0`,
    'until mkdir "$lk" 2>/dev/null; do',
    '  p=$(cat "$lk/pid" 2>/dev/null)',
    // a holder that died (or whose pid now runs something else) left the lock behind: take it over
    '  if [ -n "$p" ] && ! rf_alive "$p" "$(dirname "$lk")"; then rm -rf "$lk"; continue; fi',
    `  i=$((i + 1)); [ "$i" -le 1200 ] || { echo "releaseflow: another rollback holds $lk for 120s; if none runs: rm -r $lk" >&2; exit 75; }`,
    '  sleep 0.1 2>/dev/null || sleep 1',
    'done',
    'echo $$ >"$lk/pid"',
    `trap 'rm -rf "$lk"' EXIT`,
    "trap 'exit 143' TERM",
    `( ${body}\n) >${shQuote(outFile)} 2>&1 </dev/null`,
    'rc=$?',
    `cat ${shQuote(outFile)} 2>/dev/null`,
    'exit $rc',
  ].join('\n');
}
