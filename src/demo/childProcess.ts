// A child process that cannot outlive us. The demo's Prometheus and the test suites' controllers
// and servers run this way.
//
// Two mechanisms, because each misses a case:
// - The child leads a process group of its own, so one kill reaches it and everything it started
//   (a shell, the server under it, their helpers).
// - It runs under a small shell that stops it when the shell's stdin closes. The pipe closes when
//   this process ends in any way: a SIGKILL, or a jest worker torn down, runs no exit handler
//   (and jest's sandboxed `process` never fires one), so only the pipe is sure to notice.
// TERM and INT to the shell reach the server; the shell exits with the server's exit code.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'server=$!',
  "trap 'kill -TERM $server 2>/dev/null' TERM",
  "trap 'kill -INT $server 2>/dev/null' INT",
  '(read -r _ <&3; kill -TERM $server 2>/dev/null) &',
  'watcher=$!',
  'wait $server; code=$?',
  // wait returns early when a trapped signal arrives: wait again for the server itself.
  'while kill -0 $server 2>/dev/null; do wait $server; code=$?; done',
  'kill $watcher 2>/dev/null',
  'exit $code',
].join('\n');

export interface TiedChild {
  readonly child: ChildProcess;
  /** The process group's id (the watchdog shell's pid). */
  readonly pid: number;
  /** The server's exit code; a server killed by signal N gives 128 + N, as a shell reports it. */
  readonly exited: Promise<number | null>;
  readonly running: boolean;
  /** SIGTERM to the server, then SIGKILL to the whole group after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL to the whole group at once: a crash, with no chance to clean up. */
  kill(): Promise<number | null>;
}

export type TiedSpawnOptions = Omit<SpawnOptions, 'stdio' | 'detached' | 'shell'> & {
  /** stdout and stderr: 'pipe' to read them, 'ignore' to drop them. */
  output?: { stdout: 'pipe' | 'ignore'; stderr: 'pipe' | 'ignore' };
};

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    // ESRCH: the group is gone already, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

type SpawnListener = (child: TiedChild, command: string) => void;
const listeners = new Set<SpawnListener>();

/** Tells `listener` of every tied child started from now on (the test suites keep a register of
 * them, to kill and report any that a failed test left behind). Returns the unsubscribe. */
export function onTiedSpawn(listener: SpawnListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function spawnTied(command: string, args: readonly string[], options: TiedSpawnOptions = {}): TiedChild {
  const { output = { stdout: 'ignore', stderr: 'pipe' }, ...rest } = options;
  const child = spawn('/bin/sh', ['-c', WATCHDOG, command, command, ...args], { ...rest, stdio: ['pipe', output.stdout, output.stderr], detached: true });
  let running = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      // The shell itself killed by a signal (a group SIGKILL): report it as a shell would.
      resolve(code ?? (signal ? 128 + (signalNumbers[signal] ?? 0) : null));
    });
    child.once('error', () => {
      running = false;
      resolve(null);
    });
  });
  // Our end of the pipe must not keep this process alive, nor the child's stdin error crash us.
  child.stdin?.on('error', () => undefined);
  const pid = child.pid;
  if (pid === undefined) {
    return { child, pid: -1, exited, running: false, stop: () => exited, kill: () => exited };
  }
  const finish = (): void => {
    child.stdin?.destroy();
  };
  void exited.then(finish);
  const tied: TiedChild = {
    child,
    pid,
    exited,
    get running() {
      return running;
    },
    async stop(graceMs = 5000) {
      if (!running) return exited;
      // To the shell alone, which hands it on once: a second TERM would cut a graceful shutdown short.
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone already
      }
      const killer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(killer);
        // Helpers the server left in the group (and the watcher) go too.
        signalGroup(pid, 'SIGKILL');
      }
    },
    async kill() {
      signalGroup(pid, 'SIGKILL');
      return exited;
    },
  };
  for (const listener of listeners) listener(tied, command);
  return tied;
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
