// One release's lines out of the local [ReleaseFlow] log file, for the History tab.
import { existsSync, readFileSync } from 'node:fs';
import { HttpError } from './http.ts';

/** A run in the log: from its `==== kind from -> to ====` line up to the next one. */
export interface LogBlock {
  at: string;
  lines: string[];
}

const START = / \[ReleaseFlow\] ==== /;

/** Split log text into runs; lines before the first run are dropped (pure). */
export function splitLogBlocks(text: string): LogBlock[] {
  const blocks: LogBlock[] = [];
  for (const line of text.split('\n')) {
    if (START.test(line)) blocks.push({ at: line.slice(0, line.indexOf(' ')), lines: [] });
    if (line && blocks.length) blocks.at(-1)!.lines.push(line);
  }
  return blocks;
}

/** The block of a release: by its ID in the first header line, else the first run started near `at` (pure). */
export function findReleaseBlock(blocks: LogBlock[], releaseId: string, at?: string): LogBlock | undefined {
  const own = new RegExp(`\\[ReleaseFlow\\] (release|rollback) ${releaseId.replace(/[^0-9A-Za-z]/g, '')}\\b`);
  const byId = blocks.find((b) => own.test(b.lines[1] ?? ''));
  if (byId || !at) return byId;
  // a release that failed before planning has no ID in its header: match by start time
  const t = Date.parse(at);
  return blocks.find((b) => {
    const d = Date.parse(b.at) - t;
    return d >= -2000 && d <= 120_000;
  });
}

/** Read the lines of one release from the local log file, with errors that say where to look instead. */
export function readReleaseLog(logFile: string, releaseId: string, at?: string, recordedLogFile?: string): { file: string; lines: string[] } {
  if (!existsSync(logFile)) {
    throw new HttpError(404, `the log file ${logFile} does not exist on this machine`, `releases run from another machine log there${recordedLogFile ? ` (this one recorded ${recordedLogFile})` : ''}; log.file in the config names this machine's file`);
  }
  const block = findReleaseBlock(splitLogBlocks(readFileSync(logFile, 'utf8')), releaseId, at);
  if (!block) {
    throw new HttpError(404, `release ${releaseId} is not in ${logFile}`, `it was probably run from another machine or with another config${recordedLogFile ? `: its log is ${recordedLogFile} where it ran` : ''}`);
  }
  return { file: logFile, lines: block.lines };
}
