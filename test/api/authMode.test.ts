// `trafficshift controller --auth kubernetes|none`: the flag, and what the running process serves
// with each: without a token, kubernetes answers 401 and none answers, warning at start-up and
// on every request.
import { Readable, Writable } from 'node:stream';
import * as winston from 'winston';
import { NO_AUTH_WARNING } from '../../src/api/auth';
import { runController, type ControllerFlags } from '../../src/cli/commands/controller';
import type { CliContext } from '../../src/cli/context';
import { runCli } from '../../src/cli/program';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';

function context(): { ctx: CliContext; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    ctx: { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, stdin: Readable.from(['']), setExitCode: () => undefined },
    out: () => out,
    err: () => err,
  };
}

/** A logger that keeps each entry's level and message. */
function recordingLogger(): { log: winston.Logger; entries: Array<{ level: string; message: string }> } {
  const entries: Array<{ level: string; message: string }> = [];
  const sink = new Writable({
    objectMode: true,
    write(info: { level: string; message: string }, _encoding, done) {
      entries.push({ level: info.level, message: info.message });
      done();
    },
  });
  return { log: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream: sink })] }), entries };
}

describe('--auth', () => {
  it('is documented with its choices, defaults to kubernetes, and refuses anything else', async () => {
    const help = context();
    expect(await runCli(['node', 'trafficshift', 'controller', '--help'], help.ctx)).toBe(0);
    expect(help.out().replace(/\s+/g, ' ')).toMatch(/--auth <mode> .*\(choices: "kubernetes", "none", default: "kubernetes"\)/);
    const bad = context();
    expect(await runCli(['node', 'trafficshift', 'controller', '--auth', 'basic'], bad.ctx)).not.toBe(0);
    expect(bad.err()).toContain('basic');
  });
});

describe('the controller process', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster('auth-mode');
  });
  afterAll(async () => {
    await cluster.close();
  });

  const flags = (auth: ControllerFlags['auth']): ControllerFlags => ({
    kubeconfig: cluster.kubeconfigPath, namespace: cluster.namespace, port: 0, leaderElect: false, leaseName: 'l', leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000, logFormat: 'text', concurrency: 2, resync: 30_000,
    ...(auth ? { auth } : {}),
  });

  async function withController(auth: ControllerFlags['auth'], body: (url: string, entries: Array<{ level: string; message: string }>) => Promise<void>): Promise<void> {
    const stop = new AbortController();
    const { log, entries } = recordingLogger();
    let url = '';
    const exit = runController(flags(auth), context().ctx, stop.signal, { log, onListening: (u) => (url = u) });
    try {
      await waitFor(() => url !== '', 10_000, 'the HTTP server to listen');
      await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 10_000, 'ready');
      await body(url, entries);
    } finally {
      stop.abort();
    }
    expect(await exit).toBe(0);
  }

  it('with the default (kubernetes) answers 401 to a request without a token', async () => {
    await withController(undefined, async (url, entries) => {
      const res = await fetch(`${url}/api/v1/plans`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toMatchObject({ reason: 'Unauthorized' });
      expect(entries.filter((e) => e.message === NO_AUTH_WARNING)).toEqual([]);
      // The document is open.
      expect((await fetch(`${url}/api/v1/openapi.json`)).status).toBe(200);
    });
  });

  it('with none serves without a token, warning at start-up and on every request', async () => {
    await withController('none', async (url, entries) => {
      expect(entries).toContainEqual({ level: 'warn', message: NO_AUTH_WARNING });
      const before = entries.filter((e) => e.level === 'warn').length;
      for (let i = 0; i < 3; i++) expect((await fetch(`${url}/api/v1/plans`)).status).toBe(200);
      expect(entries.filter((e) => e.level === 'warn').length - before).toBe(3);
    });
  });
});
