import type { CommandFactory } from '../context';
import { controllerCommand } from './controller';
import { crdCommand } from './crd';
import { dashboardCommand } from './dashboard';
import { listCommand } from './list';
import { localkubeCommand } from './localkube';
import { rollbackCommand } from './rollback';
import { statusCommand } from './status';
import { pauseCommand, promoteCommand, resumeCommand, retryCommand } from './steer';
import { validateCommand } from './validate';
import { waitCommand } from './wait';

/** Every subcommand, in the order `--help` lists them: steering first, as people use it most. */
export const COMMANDS: ReadonlyArray<CommandFactory> = [
  listCommand,
  statusCommand,
  pauseCommand,
  resumeCommand,
  promoteCommand,
  rollbackCommand,
  retryCommand,
  waitCommand,
  dashboardCommand,
  validateCommand,
  crdCommand,
  controllerCommand,
  localkubeCommand,
];
