// The command registry: add a command by adding its register function here.
import { registerHistory } from './history.ts';
import { registerLock } from './lock.ts';
import { registerPromote } from './promote.ts';
import { registerRecover } from './recover.ts';
import { registerRollback } from './rollback.ts';
import { registerRunCommand } from './run-command.ts';
import { registerStatus } from './status.ts';
import { registerDoctor } from './doctor.ts';
import { registerExportCompose } from './export-compose.ts';
import type { Register } from './register.ts';
import { registerUi } from './ui.ts';

export const commands: Register[] = [
  registerStatus,
  registerDoctor,
  registerPromote,
  registerRollback,
  registerRecover,
  registerHistory,
  registerRunCommand,
  registerExportCompose,
  registerLock,
  registerUi,
];
