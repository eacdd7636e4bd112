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
    .option('--to <host>', 'target host (default: every host of to: in the config, the last first)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('-v, --verbose', 'show every command as it runs')
    .action(async (opts, c) => {
      await act(holder, c, async (config) => {
        // a fleet (to: [a, b, c]) is rolled back host by host, the last released first
        const hosts = opts.to ? [opts.to] : [...config.fleet].reverse();
        return await withSession(config, hosts, { verbose: opts.verbose }, async (s) => {
          let worst = 0;
          for (const to of hosts) {
            const code = await rollback(s.ports, { to, signal: s.signal, confirm: confirmer(opts.yes, (p) => `Roll back ${to} (${p.to.address}): ${p.containers.map((x) => `${x.name} ${x.fromRef} -> ${x.toRef}`).join(', ')}?`, s.showPlan) });
            worst = Math.max(worst, code);
          }
          return worst;
        });
      });
    });
  program.addCommand(cmd as unknown as Command);
};
