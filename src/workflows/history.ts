// Release history on the target: one JSON line per release in the state folder.
import type { SshHost } from '../adapters/ssh.ts';
import type { Config } from '../core/config.ts';
import type { HistoryContainer } from '../core/rollback-plan.ts';
import { shQuote } from '../core/quote.ts';
import { statePaths } from '../core/state.ts';

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
  const r = await host.run({ script: `cat ${shQuote(p.history)} 2>/dev/null || true` });
  return parseHistory(r.stdout);
}
