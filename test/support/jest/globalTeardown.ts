// The last line of defence: kill and report every process group a test file left running (a
// worker that crashed never ran its environment's teardown), so jest exits and CI moves on.
import * as fs from 'node:fs';
import { describeLeftovers, killLeftovers, runDir } from './register';

export default function globalTeardown(): void {
  const dir = runDir();
  if (!dir) return;
  const killed = killLeftovers(dir);
  if (killed.length > 0) process.stderr.write(`${describeLeftovers(killed, 'global teardown')}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
}
