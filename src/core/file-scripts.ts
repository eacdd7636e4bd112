// Scripts about plain files on a host: whether they can be read, their hashes, writing one from stdin (pure builders).
import { posix } from 'node:path';
import { shJoin, shQuote } from './quote.ts';

/** One line per path, in order: `readable` (a regular file the SSH user can read), `unreadable` (it exists) or `missing`. */
export function buildFileStatusScript(paths: readonly string[]): string {
  return `for f in ${shJoin(paths)}; do if [ -r "$f" ] && [ -f "$f" ]; then echo readable; elif [ -e "$f" ]; then echo unreadable; else echo missing; fi; done`;
}

/** `SHA256 PATH` for each path that is a regular file; nothing for the others. */
export function buildHashFilesScript(paths: readonly string[]): string {
  return `for f in ${shJoin(paths)}; do if [ -f "$f" ]; then printf '%s %s\\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$f"; fi; done`;
}

/** Exit codes of the write script: the file exists (and `force` was not given), or it could not be written. */
export const WRITE_EXISTS = 4;
export const WRITE_FAILED = 3;

/**
 * Write stdin to `path` (absolute) through a temporary file renamed into place, creating its folder;
 * an existing file is replaced only with `force`. Mode 0600 when `secret`, else 0644.
 */
export function buildWriteFileScript(path: string, opts: { force: boolean; secret: boolean }): string {
  const [p, t] = [shQuote(path), shQuote(`${path}.releaseflow-tmp`)];
  return [
    `mkdir -p ${shQuote(posix.dirname(path))} || exit ${WRITE_FAILED}`,
    opts.force ? '' : `if [ -e ${p} ]; then echo exists; exit ${WRITE_EXISTS}; fi`,
    `umask ${opts.secret ? '077' : '022'}; cat > ${t} && mv ${t} ${p} || exit ${WRITE_FAILED}`,
  ].join('\n');
}

/** Create a folder (and its parents) only the SSH user can read: release snapshots may hold secrets. */
export function buildPrivateDirScript(dir: string): string {
  return `umask 077 && mkdir -p ${shQuote(dir)}`;
}

/** Write `text` to `path` (mode 0644) through a temporary file renamed into place; the text is in the command, so it must hold no secret. */
export function buildWriteTextScript(path: string, text: string): string {
  const tmp = `${path}.releaseflow-tmp`;
  return `umask 022 && printf '%s' ${shQuote(text)} > ${shQuote(tmp)} && mv ${shQuote(tmp)} ${shQuote(path)}`;
}

/** Write stdin to a file only the SSH user can read (an env file, a snapshot with env values). */
export function buildPrivateFileScript(path: string): string {
  return `umask 077 && cat > ${shQuote(path)}`;
}
