import type { CommandFactory } from '../context';
import { controllerCommand } from './controller';
import { crdCommand } from './crd';
import { localkubeCommand } from './localkube';
import { validateCommand } from './validate';

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: ReadonlyArray<CommandFactory> = [validateCommand, crdCommand, controllerCommand, localkubeCommand];
