// `releaseflow lock release`: remove a lock left by a dead run.
import { Command } from '@commander-js/extra-typings';
import { releaseLock } from '../../workflows/lock.ts';
import { closeHosts, configFrom, openHosts, runCommand } from '../common.ts';
import type { Register } from './index.ts';

export const registerLock: Register = (program, holder) => {
  const lock = new Command('lock').description('manage the release lock on the target');
  lock
    .command('release')
    .description('remove the lock left by an interrupted release (check first that no release is running)')
    .option('--to <host>', 'target host (default: to: in the config)')
    .action(async (opts, c) => {
      holder.code = await runCommand(async () => {
        const config = configFrom(c);
        const to = opts.to ?? config.to;
        const hosts = openHosts(config, [to]);
        try {
          await hosts.get(to)!.connect();
          await releaseLock(hosts.get(to)!, config);
          process.stdout.write(`lock on ${to} removed\n`);
          return 0;
        } finally {
          await closeHosts(hosts.values());
        }
      });
    });
  program.addCommand(lock as unknown as Command);
};
