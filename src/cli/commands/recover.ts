// `releaseflow recover`: finish an interrupted release (restore the previous containers, or record the kept one) and remove the lock.
import { Command } from '@commander-js/extra-typings';
import { recover } from '../../workflows/recover.ts';
import { withSession } from '../../workflows/session.ts';
import { act } from '../common.ts';
import { confirmer } from '../confirm.ts';
import type { Register } from './register.ts';

export const registerRecover: Register = (program, holder) => {
  const cmd = new Command('recover')
    .description('finish a release that was interrupted (killed, Ctrl-C, lost connection): restore the previous containers from its journal, check health, record history, remove the lock')
    .option('--to <host>', 'target host (default: to: in the config)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--force', 'also take over a release whose crash guard still runs, or a lock whose holder may be alive')
    .option('-v, --verbose', 'show every command as it runs')
    .action(async (opts, c) => {
      await act(holder, c, async (config) => {
        const to = opts.to ?? config.to;
        return await withSession(config, [to], { verbose: opts.verbose }, (s) =>
           recover(s.ports, {
            to,
            force: opts.force,
            confirm: confirmer(opts.yes, (p) => `Recover ${to} (${p.to.address}): ${p.steps.length ? `put back ${p.containers.map((x) => x.name).join(', ')}` : 'remove the lock'}?`, s.showPlan),
          }),
        );
      });
    });
  program.addCommand(cmd as unknown as Command);
};
