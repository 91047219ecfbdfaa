// setupFilesAfterEnv: every tied child a test file starts (controllers, Prometheus, Alertmanager,
// the CLI) goes into the run's register, and leaves it when it exits.
import { onTiedSpawn } from '../../../src/demo/childProcess';
import { register, unregister } from './register';

onTiedSpawn((child, command) => {
  register({ pid: child.pid, command, testPath: expect.getState().testPath ?? 'unknown', startedAt: new Date().toISOString() });
  void child.exited.then(() => unregister(child.pid));
});
