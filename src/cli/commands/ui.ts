// `releaseflow ui [--port N] [--bind ADDR]`: serve the dashboard; prints its URL (with the token) as the first line.
import { isIP } from 'node:net';
import { Command } from '@commander-js/extra-typings';
import { ConfigError } from '../../core/errors.ts';
import { act } from '../common.ts';
import type { Register } from './register.ts';

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new ConfigError(`--port ${v} is not a port number`, { fix: 'pass --port 0 for a free port, or a number from 1 to 65535' });
  return n;
}

const isLoopback = (a: string) => a === 'localhost' || a === '::1' || a.startsWith('127.');

export const registerUi: Register = (program, holder, deps) => {
  const cmd = new Command('ui')
    .description('serve the dashboard (Release, Status, Diagnostics, History) on this machine; open the printed URL')
    .option('--port <n>', 'port to listen on (0: a free port)', '0')
    .option('--bind <address>', 'address to listen on', '127.0.0.1')
    .action(async (opts, c) => {
      await act(holder, c, async (config) => {
        const start = deps.startDashboard;
        if (!start) throw new ConfigError('this build of releaseflow has no dashboard', { fix: 'run releaseflow from its package (bin/releaseflow.js)' });
        const port = parsePort(opts.port);
        if (opts.bind !== 'localhost' && !isIP(opts.bind)) throw new ConfigError(`--bind ${opts.bind} is not an IP address`, { fix: 'pass --bind 127.0.0.1 (default), or an address of this machine such as 0.0.0.0' });
        const d = await start({ config, port, bind: opts.bind }).catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'EADDRINUSE') throw new ConfigError(`port ${port} on ${opts.bind} is in use`, { fix: 'pass another --port, or --port 0 for a free one' });
          if (e.code === 'EADDRNOTAVAIL') throw new ConfigError(`${opts.bind} is not an address of this machine`, { fix: 'pass --bind 127.0.0.1 (default)' });
          throw e;
        });
        process.stdout.write(`${d.url}\n`);
        process.stderr.write(`releaseflow ui: app ${config.app}, ${config.from} -> ${config.to} (${config.file}); open the URL above; Ctrl-C stops the server\n`);
        if (!isLoopback(opts.bind)) process.stderr.write(`warning: listening on ${opts.bind}: anyone who can reach it and has the URL can release to ${config.to}; prefer the default 127.0.0.1 with an SSH tunnel (ssh -L)\n`);
        await new Promise<void>((resolve) => {
          const stop = async () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            if (d.busy()) process.stderr.write('releaseflow ui: waiting for the running release to finish (PROD stays consistent)\n');
            await d.idle();
            await d.close();
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        return 0;
      });
    });
  program.addCommand(cmd as unknown as Command);
};
