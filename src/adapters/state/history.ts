// Release history on the target: one JSON line per release in the state folder (history.jsonl).
import type { Config } from '../../core/config.ts';
import { ReleaseflowError } from '../../core/errors.ts';
import type { HistoryContainer } from '../../core/rollback-plan.ts';
import { buildAppendHistoryScript, buildReadHistoryScript, HISTORY_UNREADABLE } from '../../core/state-scripts.ts';
import { statePaths } from '../../core/state.ts';
import type { SshHost } from '../ssh.ts';
import { stateDirFix } from './state-dir.ts';

export interface HistoryEntry {
  releaseId: string;
  kind: 'promote' | 'rollback';
  at: string;
  durationMs: number;
  operator: string;
  from?: { name: string; address: string };
  to: { name: string; address: string };
  result: string;
  exitCode: number;
  logFile: string;
  containers: HistoryContainer[];
}

/** Parse history lines; a damaged line is skipped, not fatal. */
export function parseHistory(text: string): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as HistoryEntry);
    } catch {
      /* a line cut by a crash */
    }
  }
  return out;
}

/** Read the target's history (oldest first). */
export async function readHistory(host: SshHost, config: Config): Promise<HistoryEntry[]> {
  const p = statePaths(host.config.stateDir, config.app);
  // a state folder the SSH user cannot read (left by root, sudo: true covers docker only) is named, not taken for "no history"
  const r = await host.run({ script: buildReadHistoryScript(p.root, p.history) });
  if (r.code === HISTORY_UNREADABLE) {
    const user = r.stdout.trim().split('\n').pop() ?? '';
    throw new ReleaseflowError(`the state folder ${p.root} on ${host.name} is not readable for the SSH user ${user || '(unknown)'}: its history cannot be read`, {
      host: host.name,
      command: `cat ${p.history}`,
      fix: stateDirFix(host, p.root, user, p.root),
    });
  }
  return parseHistory(r.stdout);
}

/** Append one line to the target's history: the one writer of history.jsonl. */
export async function appendHistory(host: SshHost, config: Config, entry: object): Promise<void> {
  const p = statePaths(host.config.stateDir, config.app);
  await host.check({ script: buildAppendHistoryScript(p.root, p.history) }, { stdin: `${JSON.stringify(entry)}\n`, what: 'recording history' });
}
