// `releaseflow recover`: finish an interrupted release (restore the previous containers, or record the kept one) and remove the lock.
import { Command } from '@commander-js/extra-typings';
import { recover } from '../../workflows/recover.ts';
import { configFrom, runCommand } from '../common.ts';
import { confirmer, openSession } from '../release-session.ts';
import type { Register } from './index.ts';

export const registerRecover: Register = (program, holder) => {
  const cmd = new Command('recover')
    .description('finish a release that was interrupted (killed, Ctrl-C, lost connection): restore the previous containers from its journal, check health, record history, remove the lock')
    .option('--to <host>', 'target host (default: to: in the config)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--force', 'also take over a release whose crash guard still runs, or a lock whose holder may be alive')
    .option('-v, --verbose', 'show every command as it runs')
    .action(async (opts, c) => {
      holder.code = await runCommand(async () => {
        const config = configFrom(c);
        const to = opts.to ?? config.to;
        const s = openSession(config, [to], { verbose: opts.verbose });
        try {
          return await recover(s.ports, {
            to,
            force: opts.force,
            confirm: confirmer(opts.yes, (p) => `Recover ${to} (${p.to.address}): ${p.steps.length ? `put back ${p.containers.map((x) => x.name).join(', ')}` : 'remove the lock'}?`, s.showPlan),
          });
        } finally {
          await s.close();
        }
      });
    });
  program.addCommand(cmd as unknown as Command);
};
