// An inline seccomp profile: docker inspect holds the profile's JSON, the docker CLI takes only a file.
// A release writes it to a file on the host (mode 0600) right before `docker create` reads it.
import { shQuote } from './quote.ts';

/** Where a container's profile goes in a folder of the host's state folder (a release's, or run-command's). */
export function seccompProfilePath(dir: string, container: string): string {
  return `${dir.replace(/\/+$/, '')}/${container}.seccomp.json`;
}

/** For a person: the lines that write the profile on the host (a quoted here-document, so nothing in it expands). */
export function renderSeccompWrite(path: string, profile: string): string {
  let eof = 'RELEASEFLOW_SECCOMP_EOF';
  while (profile.split('\n').includes(eof)) eof += '_';
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  return `( umask 077 && mkdir -p ${shQuote(dir)} && cat > ${shQuote(path)} ) <<'${eof}'\n${profile.replace(/\n$/, '')}\n${eof}`;
}
