// Ctrl-C and SIGTERM for the commands that run until stopped: the first signal aborts (a wait
// stops its watch and says where things stand; the controller finishes its writes and releases
// its lease), a second one exits at once.
import type { CliContext } from './context';

export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

/** Exit code of a wait cut short by Ctrl-C, as a shell reports a process ended by SIGINT. */
export const INTERRUPTED = 130;

/** `again`: what a second signal says before the process exits with `exitCode`. */
export function onInterrupt(ctx: CliContext, again: { message: string; exitCode: number } = { message: 'exiting at once', exitCode: INTERRUPTED }): Interrupt {
  const abort = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      ctx.stderr.write(`${name} again: ${again.message}\n`);
      process.exit(again.exitCode);
    }
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Runs `work` with an interrupt signal, removing the handlers after. */
export async function interruptible<T>(ctx: CliContext, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const interrupt = onInterrupt(ctx);
  try {
    return await work(interrupt.signal);
  } finally {
    interrupt.dispose();
  }
}
