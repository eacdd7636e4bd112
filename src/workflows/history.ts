// Release history on the target: one JSON line per release in the state folder.
import type { SshHost } from '../adapters/ssh.ts';
import type { Config } from '../core/config.ts';
import { ReleaseflowError } from '../core/errors.ts';
import type { HistoryContainer } from '../core/rollback-plan.ts';
import { shQuote } from '../core/quote.ts';
import { statePaths } from '../core/state.ts';
import { stateDirFix } from './lock.ts';

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
  const q = shQuote(p.root);
  const r = await host.run({ script: `if [ -d ${q} ] && ! { [ -r ${q} ] && [ -x ${q} ]; }; then id -un; exit 3; fi\ncat ${shQuote(p.history)} 2>/dev/null || true` });
  if (r.code === 3) {
    const user = r.stdout.trim().split('\n').pop() ?? '';
    throw new ReleaseflowError(`the state folder ${p.root} on ${host.name} is not readable for the SSH user ${user || '(unknown)'}: its history cannot be read`, {
      host: host.name,
      command: `cat ${p.history}`,
      fix: stateDirFix(host, p.root, user, p.root),
    });
  }
  return parseHistory(r.stdout);
}
