// The releaseflow CLI: one thin file per command under src/cli/commands/, registered here.
import { Command, CommanderError } from '@commander-js/extra-typings';
import { ExitCode } from '../core/errors.ts';
import { commands } from './commands/index.ts';

/** Build the program; each command sets `exitCode` through the holder. */
export function buildProgram(holder: { code: number }): Command {
  const program = new Command('releaseflow')
    .description('Promote a tested release of Docker containers from a TEST host to a PROD host over SSH')
    .option('-c, --config <file>', 'config file (default: $RELEASEFLOW_CONFIG, then ./releaseflow.yml)')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program as unknown as Command, holder);
  return program as unknown as Command;
}

/** Entry point; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const holder = { code: ExitCode.ok };
  const program = buildProgram(holder);
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
