// What a bootstrap reads of the target (pure builders and parsers): its networks and volumes, the env
// names (never the values) of the env files the config names there, and whether compose files exist.
import { shQuote } from './quote.ts';

const MARK = 'rf-bootstrap';

/** One read-only script: network names, volume names, and each env file's names (or that it is unreadable). */
export function buildBootstrapObserveScript(envFiles: readonly string[]): string {
  const lines = [
    `echo ${MARK}:networks`,
    "docker network ls --format '{{.Name}}'",
    `echo ${MARK}:volumes`,
    'docker volume ls -q',
  ];
  for (const f of envFiles) {
    const q = shQuote(f);
    lines.push(`echo ${shQuote(`${MARK}:envfile:${f}`)}`);
    // names only: the value part of each line is cut off on the host, nothing secret crosses the wire
    lines.push(`if [ -f ${q} ] && [ -r ${q} ]; then grep -v '^[[:space:]]*#' ${q} | sed -n 's/^[[:space:]]*\\([A-Za-z_][A-Za-z0-9_]*\\).*/\\1/p'; else echo ${MARK}:unreadable; fi`);
  }
  lines.push(`echo ${MARK}:end`);
  return lines.join('\n');
}

export interface BootstrapObservation {
  networks: string[];
  volumes: string[];
  /** Each env file's names; undefined: missing or unreadable for the SSH user. */
  envFiles: Map<string, string[] | undefined>;
}

/** Parse the output of buildBootstrapObserveScript. */
export function parseBootstrapObserveOutput(stdout: string): BootstrapObservation {
  const out: BootstrapObservation = { networks: [], volumes: [], envFiles: new Map() };
  let list: string[] | undefined;
  let file: string | undefined;
  for (const line of stdout.split('\n').map((l) => l.trim())) {
    if (line === `${MARK}:networks`) list = out.networks;
    else if (line === `${MARK}:volumes`) list = out.volumes;
    else if (line.startsWith(`${MARK}:envfile:`)) {
      file = line.slice(`${MARK}:envfile:`.length);
      list = [];
      out.envFiles.set(file, list);
    } else if (line === `${MARK}:unreadable` && file !== undefined) {
      out.envFiles.set(file, undefined);
      list = undefined;
    } else if (line === `${MARK}:end`) list = undefined;
    else if (line && list) list.push(line);
  }
  return out;
}

/** Prints each of the files that does not exist (compose project files a bootstrap would need). */
export function buildMissingFilesScript(paths: readonly string[]): string {
  return paths.map((p) => `[ -f ${shQuote(p)} ] || echo ${shQuote(p)}`).join('\n');
}
