// `releaseflow rollback`: bring back the previous release on the target.
import { Command } from '@commander-js/extra-typings';
import { rollback } from '../../workflows/rollback.ts';
import { configFrom, runCommand } from '../common.ts';
import { confirmer, openSession } from '../release-session.ts';
import type { Register } from './index.ts';

export const registerRollback: Register = (program, holder) => {
  const cmd = new Command('rollback')
    .description('bring back the containers the last successful release replaced (kept stopped on the target), health-check, record')
    .option('--to <host>', 'target host (default: to: in the config)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('-v, --verbose', 'show every command as it runs')
    .action(async (opts, c) => {
      holder.code = await runCommand(async () => {
        const config = configFrom(c);
        const to = opts.to ?? config.to;
        const s = openSession(config, [to], { verbose: opts.verbose });
        try {
          return await rollback(s.ports, { to, signal: s.signal, confirm: confirmer(opts.yes, (p) => `Roll back ${to} (${p.to.address}): ${p.containers.map((x) => `${x.name} ${x.fromRef} -> ${x.toRef}`).join(', ')}?`, s.showPlan) });
        } finally {
          await s.close();
        }
      });
    });
  program.addCommand(cmd as unknown as Command);
};
