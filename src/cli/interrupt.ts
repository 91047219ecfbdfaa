// Ctrl-C for the commands that wait (status --watch, rollback, wait): the first SIGINT or SIGTERM
// aborts the wait, so the command stops its watch and says where things stand; a second one
// exits at once.
import type { CliContext } from './context';

export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

/** Exit code of a wait cut short by Ctrl-C, as a shell reports a process ended by SIGINT. */
export const INTERRUPTED = 130;

export function onInterrupt(ctx: CliContext): Interrupt {
  const abort = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      ctx.stderr.write(`${name} again: exiting at once\n`);
      process.exit(INTERRUPTED);
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
