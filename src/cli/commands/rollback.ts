// `releaseflow rollback`: bring back the previous release on the target.
import { Command } from '@commander-js/extra-typings';
import { rollback } from '../../workflows/rollback.ts';
import { withSession } from '../../workflows/session.ts';
import { act } from '../common.ts';
import { confirmer } from '../confirm.ts';
import type { Register } from './register.ts';

export const registerRollback: Register = (program, holder) => {
  const cmd = new Command('rollback')
    .description('bring back the containers the last successful release replaced (kept stopped on the target), health-check, record')
    .option('--to <host>', 'target host (default: to: in the config)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('-v, --verbose', 'show every command as it runs')
    .action(async (opts, c) => {
      await act(holder, c, async (config) => {
        const to = opts.to ?? config.to;
        return await withSession(config, [to], { verbose: opts.verbose }, (s) =>
           rollback(s.ports, { to, signal: s.signal, confirm: confirmer(opts.yes, (p) => `Roll back ${to} (${p.to.address}): ${p.containers.map((x) => `${x.name} ${x.fromRef} -> ${x.toRef}`).join(', ')}?`) }),
        );
      });
    });
  program.addCommand(cmd as unknown as Command);
};
