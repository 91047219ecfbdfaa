import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import type { CliContext, CliStreams, CommandFactory } from './context';
import { packageVersion } from '../api/version';
import { COMMANDS } from './commands';

/** The name help and errors show. kubectl runs a plugin as `kubectl-trafficshift`, and people
 * type `kubectl trafficshift`, so that is what the usage line says under kubectl. */
export function programName(invokedAs: string | undefined): string {
  const base = path.basename(invokedAs ?? '').replace(/\.[cm]?js$/, '');
  if (base.startsWith('kubectl-')) return `kubectl ${base.slice('kubectl-'.length).replace(/_/g, '-')}`;
  return 'trafficshift';
}

function inheritSettings(cmd: Command, from: Command): void {
  cmd.copyInheritedSettings(from);
  for (const sub of cmd.commands) inheritSettings(sub, cmd);
}

export function buildProgram(ctx: CliContext, invokedAs?: string, commands: ReadonlyArray<CommandFactory> = COMMANDS): Command {
  const program = new Command(programName(invokedAs))
    .description('move traffic between two backends step by step, gated on metrics, with one-step rollback')
    .version(packageVersion(), '--version', 'print the version')
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    });
  for (const factory of commands) {
    const cmd = factory(ctx);
    inheritSettings(cmd, program);
    program.addCommand(cmd);
  }
  return program;
}

/** Runs the CLI on `argv` (as process.argv: node, script, args...) and resolves to the exit code. */
export async function runCli(argv: ReadonlyArray<string>, streams: CliStreams, commands?: ReadonlyArray<CommandFactory>): Promise<number> {
  let exitCode = 0;
  const ctx: CliContext = { ...streams, setExitCode: (code) => { exitCode = Math.max(exitCode, code); } };
  const program = buildProgram(ctx, argv[1], commands);
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    // exitOverride turns commander's own exits (help, a bad flag) into this error; it has
    // already written its message to stderr.
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return exitCode;
}
