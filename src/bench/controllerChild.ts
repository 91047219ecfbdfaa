// The benches run `trafficshift controller --port 0 --log-format json` as a child process: this
// reads the address it listens on from its start-up log line, and keeps its latest log lines for
// an error message.
import { createInterface } from 'node:readline';
import type { TiedChild } from '../demo/childProcess';

const LOG_LINES_KEPT = 50;

/** Resolves with the controller's URL once it logs that it listens; rejects if it exits first.
 * `log` keeps filling with its latest lines after that. */
export function controllerListening(child: TiedChild): { url: Promise<string>; log: string[] } {
  const log: string[] = [];
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      log.push(line);
      if (log.length > LOG_LINES_KEPT) log.shift();
      try {
        const entry = JSON.parse(line) as { message?: string; port?: number };
        if (entry.message === 'trafficshift controller starting' && typeof entry.port === 'number') resolve(`http://127.0.0.1:${entry.port}`);
      } catch {
        // not a log line of ours
      }
    });
    void child.exited.then((code) => reject(new Error(`controller exited with ${code} before it listened:\n${log.join('\n')}`)));
  });
  return { url, log };
}
