// A test that fails or times out kills every process it started, so jest always exits and CI
// never waits out its limit on a straggler. Proven on a real jest run of a test that hangs.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { spawnTied } from '../../src/demo/childProcess';
import globalTeardown from '../support/jest/globalTeardown';
import { liveGroupMembers, register, RUN_DIR_ENV } from '../support/jest/register';

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);

/** Whether the group still has a live process after `ms`: a SIGKILLed process takes a moment to die. */
async function groupAliveAfter(pid: number, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (liveGroupMembers(pid).length > 0) {
    if (Date.now() > deadline) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-guard-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

it('a test file that times out with a process running: the process is killed when the file ends, and reported', async () => {
  const config = JSON.parse(JSON.stringify(require('../../jest.config.js'))) as Record<string, unknown>;
  Object.assign(config, { rootDir: ROOT, roots: ['<rootDir>/test/fixtures/leaky'], testMatch: ['**/*.fixture.ts'] });
  const pidFile = path.join(tmp, 'pid');
  const result = await run(process.execPath, [require.resolve('jest/bin/jest'), '--config', JSON.stringify(config), '--ci', '--no-cache'], {
    cwd: ROOT,
    env: { ...process.env, LEAKY_PID_FILE: pidFile },
    // jest starts in a few seconds; two minutes holds on a loaded 2-core machine.
    timeout: 120_000,
  }).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }),
  );
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('Exceeded timeout');
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  expect(pid).toBeGreaterThan(1);
  expect(result.stderr).toContain(`1 process group(s) a test started were still running and were killed:\n  pid ${pid} (sleep)`);
  expect(await groupAliveAfter(pid)).toBe(false);
}, 150_000);

it('the global teardown kills a group no file ended (a crashed worker), reports it, and removes the register', async () => {
  const saved = process.env[RUN_DIR_ENV];
  const dir = path.join(tmp, 'run');
  fs.mkdirSync(dir);
  process.env[RUN_DIR_ENV] = dir;
  const child = spawnTied('sleep', ['600']);
  const written: string[] = [];
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
  try {
    register({ pid: child.pid, command: 'sleep', testPath: '/gone/worker.test.ts', startedAt: new Date().toISOString() });
    expect(liveGroupMembers(child.pid).length).toBeGreaterThan(0);
    globalTeardown();
    expect(await child.exited).toBe(137);
    expect(await groupAliveAfter(child.pid)).toBe(false);
    expect(written.join('')).toContain(`pid ${child.pid} (sleep) started`);
    expect(fs.existsSync(dir)).toBe(false);
  } finally {
    write.mockRestore();
    await child.kill();
    if (saved === undefined) delete process.env[RUN_DIR_ENV];
    else process.env[RUN_DIR_ENV] = saved;
  }
});

it('a tied child dies when the process that started it is SIGKILLed (no exit handler runs)', async () => {
  const pidFile = path.join(tmp, 'pid');
  const script = `const { spawnTied } = require(${JSON.stringify(path.join(ROOT, 'dist/demo/childProcess.js'))}); const c = spawnTied('sleep', ['600']); require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setInterval(() => {}, 1000);`;
  const parent = spawnTied(process.execPath, ['-e', script]);
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, 'utf8') === '') {
    if (Date.now() > deadline) throw new Error('the parent never started its child');
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  expect(liveGroupMembers(pid).length).toBeGreaterThan(0);
  // Only the node process, not its group: the child's own group must notice on its own.
  const nodePid = Number((await run('pgrep', ['-P', String(parent.pid), '-f', 'node'])).stdout.trim().split('\n')[0]);
  process.kill(nodePid, 'SIGKILL');
  // The pipe closes at once; the watchdog stops the child within a second or so.
  expect(await groupAliveAfter(pid, 30_000)).toBe(false);
  await parent.kill();
}, 60_000);
