// `releaseflow history`: the target's releases, newest first.
import { Command } from '@commander-js/extra-typings';
import { formatDuration } from '../../core/human.ts';
import { type HistoryEntry, readHistory } from '../../adapters/state/history.ts';
import { withHost } from '../../workflows/hosts.ts';
import { act } from '../common.ts';
import type { Register } from './register.ts';
import { shortId } from '../../core/host-facts.ts';


export const registerHistory: Register = (program, holder) => {
  const cmd = new Command('history')
    .description("list the target's releases: time, operator, from/to, images per container, result, duration, log file")
    .option('--to <host>', 'target host (default: every host of to: in the config)')
    .option('--json', 'print JSON')
    .action(async (opts, c) => {
      await act(holder, c, async (config) => {
        const hosts = opts.to ? [opts.to] : config.fleet;
        const all: Record<string, unknown> = {};
        for (const to of hosts) {
          await withHost(config, to, async (h) => {
            const entries = (await readHistory(h, config)).reverse();
            if (opts.json) {
              all[to] = entries;
              return;
            }
            if (hosts.length > 1) process.stdout.write(`== ${to}\n`);
            printHistory(to, entries);
          });
        }
        // one host: its entries; a fleet: the entries of each host by name
        if (opts.json) process.stdout.write(`${JSON.stringify(hosts.length > 1 ? all : all[hosts[0]!], null, 2)}\n`);
        return 0;
      });
    });
  program.addCommand(cmd as unknown as Command);
};

/** One host's history for humans, newest first. */
function printHistory(to: string, entries: HistoryEntry[]): void {
  if (entries.length === 0) process.stdout.write(`no releases recorded on ${to}\n`);
  for (const e of entries) {
    process.stdout.write(`${e.at}  ${e.kind.padEnd(8)} ${e.result.padEnd(15)} ${formatDuration(e.durationMs).padStart(7)}  ${e.operator}  ${e.from ? `${e.from.name} -> ` : ''}${e.to.name}  id ${e.releaseId}\n`);
    for (const ct of e.containers) process.stdout.write(`    ${ct.name}: ${ct.fromRef} (${shortId(ct.fromId)}) -> ${ct.toRef} (${shortId(ct.toId)})\n`);
    process.stdout.write(`    log: ${e.logFile}\n`);
  }
}
