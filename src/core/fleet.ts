// A rollout's mark on each host of the fleet: which hosts one release spans, and whether it ended.
// `recover` of a fleet reads them to finish a rollout that was killed halfway (pure: paths and scripts).
import { shQuote } from './quote.ts';
import { statePaths } from './state.ts';

export interface FleetMark {
  releaseId: string;
  from: string;
  hosts: string[];
  /** started: the rollout may have changed hosts; done: it ended (released, or every host rolled back). */
  state: 'started' | 'done';
  at: string;
}

/** The folder of the marks on a host. */
export function fleetDir(stateDir: string, app: string): string {
  return `${statePaths(stateDir, app).root}/fleet`;
}

/** Write (or overwrite) the mark of one rollout; the content comes on stdin. */
export function buildWriteMarkScript(dir: string, releaseId: string): string {
  const file = `${dir}/${releaseId}.json`;
  return `umask 077 && mkdir -p ${shQuote(dir)} && cat > ${shQuote(`${file}.tmp`)} && mv ${shQuote(`${file}.tmp`)} ${shQuote(file)}`;
}

/** Print every mark, one JSON document per line. */
export function buildReadMarksScript(dir: string): string {
  return `for f in ${shQuote(dir)}/*.json; do [ -f "$f" ] && tr -d '\\n' < "$f" && echo; done; true`;
}

/** Parse the marks a host printed; a damaged line is skipped. */
export function parseMarks(text: string): FleetMark[] {
  const out: FleetMark[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const m = JSON.parse(line) as FleetMark;
      if (typeof m.releaseId === 'string' && Array.isArray(m.hosts)) out.push(m);
    } catch {
      /* a mark cut by a crash */
    }
  }
  return out;
}
