import type { CommandFactory } from '../context';
import { crdCommand } from './crd';
import { validateCommand } from './validate';

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: ReadonlyArray<CommandFactory> = [validateCommand, crdCommand];
