// Makes the run's register of started processes (see register.ts).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUN_DIR_ENV } from './register';

export default function globalSetup(): void {
  process.env[RUN_DIR_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-test-run-'));
}
