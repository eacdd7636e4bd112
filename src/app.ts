// The composition root: the CLI with the dashboard wired in (the CLI and the dashboard never import each other).
import { main as cli } from './cli/main.ts';
import { startDashboard } from './web/server.ts';

/** The releaseflow program; returns the process exit code. */
export function main(argv: string[]): Promise<number> {
  return cli(argv, {
    startDashboard: async (opts) => {
      const d = await startDashboard(opts);
      return { url: d.url, busy: () => Boolean(d.runner.state()?.running), idle: () => d.runner.idle(), close: () => d.close() };
    },
  });
}
