// What every command shares: config lookup, and turning errors into exit codes.
import type { Command } from '@commander-js/extra-typings';
import { type Config, loadConfig, locateConfig } from '../core/config.ts';
import { ExitCode, ReleaseflowError, renderError } from '../core/errors.ts';

export interface GlobalOptions {
  config?: string;
}

type AnyCommand = Command<unknown[], Record<string, unknown>, Record<string, unknown>>;

/** The config named by --config, RELEASEFLOW_CONFIG or ./releaseflow.yml. */
export function configFrom(cmd: AnyCommand): Config {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  return loadConfig(locateConfig(opts.config));
}

/** Run a command body; print errors the operator can act on; return the exit code. */
export async function runCommand(body: () => Promise<number | undefined>): Promise<number> {
  try {
    return (await body()) ?? ExitCode.ok;
  } catch (e) {
    process.stderr.write(`${renderError(e)}\n`);
    return e instanceof ReleaseflowError ? e.exitCode : ExitCode.internal;
  }
}

/** The frame of every command: load its config, run the body, errors become exit codes, the code goes to the holder. */
export async function act(holder: { code: number }, cmd: unknown, body: (config: Config) => Promise<number | undefined>): Promise<void> {
  holder.code = await runCommand(() => body(configFrom(cmd as AnyCommand)));
}
