#!/usr/bin/env node
// The `trafficshift` executable, also installed as `kubectl-trafficshift`. Commands report what
// a user can act on themselves; anything that still gets here is a bug, printed as one line
// (TRAFFICSHIFT_DEBUG=1 adds the stack trace), never a stack dump in someone's terminal.
import { runCli } from './program';

const debug = process.env['TRAFFICSHIFT_DEBUG'] === '1';

function describe(err: unknown): string {
  if (debug) return err instanceof Error ? (err.stack ?? err.message) : String(err);
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return `${text.replace(/\s*\n\s*/g, ' ').trim()} (TRAFFICSHIFT_DEBUG=1 shows where)`;
}

function crash(err: unknown): void {
  process.stderr.write(`error: ${describe(err)}\n`);
  process.exit(1);
}

process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
// `trafficshift status --watch | head -3`: the reader is gone; stop quietly, as other tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  crash(err);
});

runCli(process.argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
  (code) => {
    process.exitCode = code;
    // The command is done; a connection or timer a library left behind must not keep a
    // kubectl plugin hanging. Unref'd: a process with nothing left exits at once.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`error: ${describe(err)}\n`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 2_000).unref();
  },
);
