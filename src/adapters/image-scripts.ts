// Remote scripts of an image transfer (POSIX sh, dash-safe; every argument quoted with shQuote).
// The save side prints marker lines before the data so the operator can read facts in band:
//   <marker> manifest <manifest.json on one line>   (delta only; then it reads the member list)
//   <marker> bytes <N>                               (uncompressed bytes that follow, when known)
//   <marker> start
// and everything after the `start` line is the (compressed) tar stream.
import { type Compression, compressorArgv } from '../core/layers.ts';
import { shJoin, shQuote } from '../core/quote.ts';
import { dockerFn } from './image-facts.ts';

/** Name prefix of our temporary directories on the source host. */
export const TEMP_PREFIX = 'releaseflow-xfer-';

/** The glob-free prefix of one transfer's temporary directory (mktemp adds a random suffix). */
export function tempDirPrefix(tmpBase: string, token: string): string {
  return `${tmpBase.replace(/\/+$/, '') || '/'}/${TEMP_PREFIX}${token}.`;
}

const signalTraps = `trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 141' PIPE`;

function compressTo3(c: Compression): string {
  const argv = compressorArgv(c);
  return argv ? `${shJoin(argv)} >&3` : 'cat >&3';
}

/**
 * Save the whole image, compressed, to stdout. Fails with docker save's own exit code when it
 * fails (dash has no pipefail: the code travels through fd 4 out of the pipeline).
 */
export function buildSaveFullScript(opts: { imageId: string; marker: string; sudo: boolean; compression: Compression; rawBytes?: number }): string {
  const m = shQuote(opts.marker);
  return [
    'set -e',
    dockerFn(opts.sudo),
    signalTraps,
    'exec 3>&1',
    opts.rawBytes !== undefined ? `printf '%s bytes %s\\n' ${m} ${shQuote(String(opts.rawBytes))}` : ':',
    `printf '%s start\\n' ${m}`,
    `if rc=$( { { d ${shJoin(['save', opts.imageId])} </dev/null; echo $? >&4; } | ${compressTo3(opts.compression)}; } 4>&1 ); then :; else echo 'releaseflow: the compressor failed' >&2; exit 5; fi`,
    '[ "$rc" = 0 ] || { [ -n "$rc" ] || rc=1; exit "$rc"; }',
  ].join('\n');
}

/**
 * Save the image into a private temporary directory, print its manifest, read the member list
 * (one per line, ended by a line `.`) from stdin, then send only those members, compressed.
 * The directory goes on exit, on a signal, and when the operator disappears (stdin closes).
 */
export function buildSaveDeltaScript(opts: { imageId: string; marker: string; sudo: boolean; compression: Compression; tmpBase: string; token: string }): string {
  const m = shQuote(opts.marker);
  return [
    'set -e',
    'umask 077',
    dockerFn(opts.sudo),
    'exec 3>&1',
    `printf '%s pid %s\\n' ${m} $$`,
    `tmp=$(mktemp -d ${shQuote(`${tempDirPrefix(opts.tmpBase, opts.token)}XXXXXX`)})`,
    `trap 'rm -rf "$tmp"' EXIT`,
    signalTraps,
    'mkdir "$tmp/x"',
    `if rc=$( { { d ${shJoin(['save', opts.imageId])} </dev/null; echo $? >&4; } | tar -x -C "$tmp/x" -f - >&2; } 4>&1 ); then :; else [ "$rc" != 0 ] || rc=3; fi`,
    `[ "$rc" = 0 ] || { echo "releaseflow: docker save | tar -x failed (exit $rc)" >&2; exit "\${rc:-3}"; }`,
    `[ -f "$tmp/x/manifest.json" ] || { echo 'releaseflow: docker save wrote no manifest.json' >&2; exit 3; }`,
    `printf '%s manifest ' ${m}; tr -d '\\n' <"$tmp/x/manifest.json"; printf '\\n'`,
    'set --; m=',
    'while IFS= read -r m; do [ "$m" = . ] && break; set -- "$@" "$m"; done',
    `[ "$m" = . ] || { echo 'releaseflow: the operator went away before sending the member list' >&2; exit 4; }`,
    'cd "$tmp/x"',
    `printf '%s bytes %s\\n' ${m} "$(ls -lnL "$@" | awk '{ s += $5 } END { printf "%d", s }')"`,
    `printf '%s start\\n' ${m}`,
    `if rc=$( { { tar -c -f - "$@"; echo $? >&4; } | ${compressTo3(opts.compression)}; } 4>&1 ); then :; else echo 'releaseflow: the compressor failed' >&2; exit 5; fi`,
    `[ "$rc" = 0 ] || { echo "releaseflow: tar of the selected members failed (exit $rc)" >&2; exit "\${rc:-1}"; }`,
  ].join('\n');
}

/** Load from stdin, then print the image ID the target has under `imageId` (or `missing`). */
export function buildLoadScript(opts: { imageId: string; marker: string; sudo: boolean; decompress?: string[] }): string {
  const m = shQuote(opts.marker);
  const load = opts.decompress ? `${shJoin(opts.decompress)} | d load` : 'd load';
  return [
    dockerFn(opts.sudo),
    `${load} || exit $?`,
    `d ${shJoin(['image', 'inspect', '-f', `${opts.marker} id {{.Id}}`, opts.imageId])} 2>/dev/null || printf '%s id missing\\n' ${m}`,
  ].join('\n');
}

/**
 * The operator's side of the clean-up of a cut delta stream: stop the save script's process group
 * (only while its directory exists, so a reused PID is never signalled), then remove the directory.
 */
export function buildCleanupScript(tmpBase: string, token: string, pid?: number): string {
  const glob = `${shQuote(tempDirPrefix(tmpBase, token))}*`;
  const lines = [`found=; for f in ${glob}; do [ -d "$f" ] && found=1; done`];
  if (pid !== undefined && Number.isInteger(pid) && pid > 1) {
    // dash's builtin kill takes no process group: the external one does (procps needs --, busybox refuses it)
    const g = `-${pid}`;
    lines.push(`if [ -n "$found" ]; then env kill -s TERM -- ${g} 2>/dev/null || env kill -s TERM ${g} 2>/dev/null || kill -s TERM ${pid} 2>/dev/null || true; sleep 0.2 2>/dev/null || sleep 1; fi`);
  }
  lines.push(`rm -rf -- ${glob}`);
  return lines.join('\n');
}
