// `releaseflow lock status|release`: show the release lock on the target, or remove one left by a dead run.
import { Command } from '@commander-js/extra-typings';
import { ReleaseflowError } from '../../core/errors.ts';
import { describeHolder, holderLiveness } from '../../adapters/state/holder.ts';
import { releaseLock } from '../../adapters/state/lock.ts';
import { readReleaseState } from '../../adapters/state/release-state.ts';
import { describeInterrupted, describeRunning } from '../../workflows/release-state.ts';
import { withHost } from '../../workflows/hosts.ts';
import { act } from '../common.ts';
import type { Register } from './register.ts';

export const registerLock: Register = (program, holder) => {
  const lock = new Command('lock').description('manage the release lock on the target');
  lock
    .command('status')
    .description('show who holds the lock on the target (holder, machine, pid, release, since) and any interrupted release')
    .option('--to <host>', 'target host (default: to: in the config)')
    .action(async (opts, c) => {
      await act(holder, c, async (config) => {
        const to = opts.to ?? config.to;
        return await withHost(config, to, async (h) => {
          const st = await readReleaseState(h, config);
          process.stdout.write(`${st.lock.held ? `lock on ${to}: held by ${describeHolder(st.lock.info)}` : `lock on ${to}: free`}\n`);
          for (const r of st.running) process.stdout.write(`${describeRunning(r)}\n`);
          for (const r of st.interrupted) process.stdout.write(`${describeInterrupted(r)}\n  fix: releaseflow recover\n`);
          return 0;
        });
      });
    });
  lock
    .command('release')
    .description('remove the lock left by a dead run (an interrupted release needs releaseflow recover instead)')
    .option('--to <host>', 'target host (default: to: in the config)')
    .option('--force', 'remove it even when its holder may still run or a release was interrupted')
    .action(async (opts, c) => {
      await act(holder, c, async (config) => {
        const to = opts.to ?? config.to;
        return await withHost(config, to, async (h) => {
          const st = await readReleaseState(h, config);
          if (!st.lock.held) {
            process.stdout.write(`lock on ${to}: free; nothing to remove\n`);
            return 0;
          }
          if (!opts.force) {
            if (st.running.length || holderLiveness(st.lock.info) === 'alive') {
              throw new ReleaseflowError(`the lock on ${to} is held by a release that is still running: ${describeHolder(st.lock.info)}`, { host: to, fix: 'wait for it to finish; --force removes the lock anyway' });
            }
            if (st.interrupted.length) {
              throw new ReleaseflowError(`${describeInterrupted(st.interrupted[0]!)}; removing only the lock would leave it unfinished`, { host: to, fix: 'run: releaseflow recover (it finishes the release and removes the lock)' });
            }
          }
          await releaseLock(h, config);
          process.stdout.write(`lock on ${to} removed (it was held by ${describeHolder(st.lock.info)})\n`);
          return 0;
        });
      });
    });
  program.addCommand(lock as unknown as Command);
};
