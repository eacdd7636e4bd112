// `releaseflow recover`: finish an interrupted release (restore the previous containers, or record the kept one) and remove the lock.
import { Command } from '@commander-js/extra-typings';
import { recoverFleet } from '../../workflows/fleet-recover.ts';
import { recover } from '../../workflows/recover.ts';
import { withSession } from '../../workflows/session.ts';
import { act } from '../common.ts';
import { confirmer } from '../confirm.ts';
import type { Register } from './register.ts';

export const registerRecover: Register = (program, holder) => {
  const cmd = new Command('recover')
    .description('finish a release that was interrupted (killed, Ctrl-C, lost connection): restore the previous containers from its journal, check health, record history, remove the lock')
    .option('--to <host>', 'target host (default: every host of to: in the config)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--force', 'also take over a release whose crash guard still runs, or a lock whose holder may be alive')
    .option('-v, --verbose', 'show every command as it runs')
    .action(async (opts, c) => {
      await act(holder, c, async (config) => {
        // a fleet (to: [a, b, c]): every host, then a rollout killed halfway is finished (fleet-recover.ts)
        const hosts = opts.to ? [opts.to] : config.fleet;
        return await withSession(config, hosts, { verbose: opts.verbose }, (s) => {
          const confirm = confirmer(opts.yes, (p) => `${p.kind === 'rollback' && p.header[0]?.startsWith('rollback') ? `Roll back ${p.to.name} (${p.to.address})` : `Recover ${p.to.name} (${p.to.address})`}: ${p.steps.length ? `put back ${p.containers.map((x) => x.name).join(', ')}` : 'remove the lock'}?`, s.showPlan);
          return hosts.length > 1 ? recoverFleet(s.ports, { hosts, force: opts.force, confirm }) : recover(s.ports, { to: hosts[0], force: opts.force, confirm });
        });
      });
    });
  program.addCommand(cmd as unknown as Command);
};
