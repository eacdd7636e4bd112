// How a command joins the program: it adds itself and sets the exit code through the holder.
import type { Command } from '@commander-js/extra-typings';
import type { Config } from '../../core/config.ts';

/** A running dashboard as the `ui` command sees it (src/web/server.ts makes it). */
export interface DashboardHandle {
  url: string;
  /** A release is running right now. */
  busy: () => boolean;
  /** Resolves once no release runs. */
  idle: () => Promise<void>;
  close: () => Promise<void>;
}

/** What the composition root (src/app.ts) hands the commands: the parts the CLI does not import itself. */
export interface CliDeps {
  startDashboard?: (opts: { config: Config; port: number; bind: string }) => Promise<DashboardHandle>;
}

export type Register = (program: Command, holder: { code: number }, deps: CliDeps) => void;
