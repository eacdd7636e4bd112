// The releaseflow CLI: one thin file per command under src/cli/commands/, registered here.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { ExitCode } from '../core/errors.ts';
import { commands } from './commands/index.ts';
import type { CliDeps } from './commands/register.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Every subcommand's --help lists -c/--config too (commander shows it only at the top by default). */
function showGlobalOptions(cmd: Command): void {
  cmd.configureHelp({ ...cmd.configureHelp(), showGlobalOptions: true });
  for (const sub of cmd.commands as Command[]) showGlobalOptions(sub);
}

/** Build the program; each command sets `exitCode` through the holder. */
export function buildProgram(holder: { code: number }, deps: CliDeps = {}): Command {
  const program = new Command('releaseflow')
    .description('Promote a tested release of Docker containers from a TEST host to a PROD host over SSH')
    .version(pkg.version, '-V, --version', 'print the version')
    .option('-c, --config <file>', 'config file (default: $RELEASEFLOW_CONFIG, then ./releaseflow.yml)')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program as unknown as Command, holder, deps);
  showGlobalOptions(program as unknown as Command);
  return program as unknown as Command;
}

/** Entry point; returns the process exit code. `deps` come from the composition root (src/app.ts). */
export async function main(argv: string[], deps: CliDeps = {}): Promise<number> {
  const holder = { code: ExitCode.ok };
  const program = buildProgram(holder, deps);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.ok;
      return ExitCode.usage;
    }
    throw e;
  }
  return holder.code;
}
