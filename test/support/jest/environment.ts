// The test environment: Node's, plus one duty at the end of each test file, after every hook of
// the file ran (or timed out): kill the processes the file started that still run, and say so.
// A failed or timed-out test must not leave a controller writing weights into the next file's
// namespace, nor keep jest from exiting.
import { TestEnvironment } from 'jest-environment-node';
import { describeLeftovers, killLeftovers, runDir } from './register';

export default class ProcessGuardEnvironment extends TestEnvironment {
  private readonly testPath: string;

  constructor(...args: ConstructorParameters<typeof TestEnvironment>) {
    super(...args);
    this.testPath = args[1].testPath;
  }

  override async teardown(): Promise<void> {
    const dir = runDir();
    if (dir) {
      const killed = killLeftovers(dir, this.testPath);
      if (killed.length > 0) process.stderr.write(`${describeLeftovers(killed, this.testPath)}\n`);
    }
    await super.teardown();
  }
}
