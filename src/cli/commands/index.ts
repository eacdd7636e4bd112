// The command registry: add a command by adding its register function here.
import type { Command } from '@commander-js/extra-typings';

export type Register = (program: Command, holder: { code: number }) => void;

export const commands: Register[] = [];
