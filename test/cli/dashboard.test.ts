// `trafficshift dashboard`: the URL with the kubeconfig user's bearer token in its fragment, from
// each way a kubeconfig gives one (a token, kubectl's tokenFile, an exec plugin), a clear refusal
// for a user with client certificates only, and a browser that cannot be opened never failing it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCommand, runDashboard, startDetached, type DashboardFlags } from '../../src/cli/commands/dashboard';
import { capture, cli } from './cliSupport';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-dashboard-cli-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig whose one user is `user` (YAML lines, indented under `user:`). */
function kubeconfig(name: string, user: string[]): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: test',
      'clusters:',
      '- name: test',
      '  cluster:',
      '    server: https://127.0.0.1:6443',
      'contexts:',
      '- name: test',
      '  context: {cluster: test, user: alice, namespace: shop}',
      'users:',
      '- name: alice',
      '  user:',
      ...user.map((line) => `    ${line}`),
      '',
    ].join('\n'),
  );
  return file;
}

it('prints the default address with the user\'s token in the fragment, and how to reach the controller', async () => {
  const file = kubeconfig('token', ['token: abc.def-ghi']);
  const run = await cli(['dashboard', '--kubeconfig', file, '--no-open']);
  expect(run.code).toBe(0);
  expect(run.stdout).toBe('http://127.0.0.1:8080/#token=abc.def-ghi\n');
  expect(run.stderr).toContain('kubectl port-forward -n trafficshift-system svc/trafficshift 8080');
  expect(run.stderr).toContain('"alice"');
});

it('takes --url (a trailing slash or not) and -n, which opens the overview on that namespace', async () => {
  const file = kubeconfig('url', ['token: t0ken']);
  const run = await cli(['dashboard', '--kubeconfig', file, '--no-open', '--url', 'https://dash.example.com/trafficshift/', '-n', 'payments']);
  expect(run.code).toBe(0);
  expect(run.stdout).toBe('https://dash.example.com/trafficshift/?namespace=payments#token=t0ken\n');
  const bad = await cli(['dashboard', '--kubeconfig', file, '--no-open', '--url', 'ftp://x']);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toContain('is not an http(s) URL');
});

it('reads kubectl\'s tokenFile, relative to the kubeconfig', async () => {
  fs.writeFileSync(path.join(dir, 'alice.token'), 'from-a-file\n');
  const file = kubeconfig('tokenfile', ['tokenFile: alice.token']);
  const run = await cli(['dashboard', '--kubeconfig', file, '--no-open']);
  expect([run.code, run.stderr]).toEqual([0, expect.any(String)]);
  expect(run.stdout).toBe('http://127.0.0.1:8080/#token=from-a-file\n');
});

it('runs an exec plugin for its token, as kubectl would', async () => {
  const plugin = path.join(dir, 'credential-plugin.js');
  fs.writeFileSync(
    plugin,
    `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'short-lived-from-exec', expirationTimestamp: new Date(Date.now() + 600000).toISOString() } }));\n`,
  );
  const file = kubeconfig('exec', ['exec:', '  apiVersion: client.authentication.k8s.io/v1', `  command: ${JSON.stringify(process.execPath)}`, `  args: [${JSON.stringify(plugin)}]`, '  interactiveMode: Never']);
  const run = await cli(['dashboard', '--kubeconfig', file, '--no-open']);
  expect([run.code, run.stderr]).toEqual([0, expect.not.stringContaining('error')]);
  expect(run.stdout).toBe('http://127.0.0.1:8080/#token=short-lived-from-exec\n');
});

it('refuses a user without a bearer token (client certificates) and says how to get one', async () => {
  const file = kubeconfig('certs', ['client-certificate-data: ' + Buffer.from('not really a cert').toString('base64'), 'client-key-data: ' + Buffer.from('nor a key').toString('base64')]);
  const run = await cli(['dashboard', '--kubeconfig', file, '--no-open']);
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr).toContain('the dashboard needs a bearer token');
  expect(run.stderr).toContain('kubectl create token <serviceaccount>');
});

it('says so when the exec plugin fails, without printing a URL', async () => {
  const file = kubeconfig('failing-exec', ['exec:', '  apiVersion: client.authentication.k8s.io/v1', `  command: ${JSON.stringify(path.join(dir, 'no-such-plugin'))}`, '  interactiveMode: Never']);
  const run = await cli(['dashboard', '--kubeconfig', file, '--no-open']);
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr).toContain('cannot get a token for the kubeconfig user "alice"');
});

it('opens the URL in a browser unless --no-open, and never fails when none can be opened', async () => {
  const file = kubeconfig('open', ['token: opened']);
  const flags: DashboardFlags = { kubeconfig: file, url: 'http://127.0.0.1:8080', open: true };
  const opened: string[] = [];
  const stdout = capture();
  const stderr = capture();
  const ctx = { stdout, stderr, stdin: process.stdin, setExitCode: () => undefined };
  expect(await runDashboard(flags, ctx, { openUrl: (url) => Promise.resolve(opened.push(url) > 0) })).toBe(0);
  expect(opened).toEqual(['http://127.0.0.1:8080/#token=opened']);
  for (const openUrl of [() => Promise.resolve(false), () => Promise.reject(new Error('no display'))]) {
    const err = capture();
    expect(await runDashboard(flags, { ...ctx, stderr: err }, { openUrl })).toBe(0);
    expect(err.text()).toContain('Could not open a browser here: open the URL above yourself.');
  }
});

it('knows each platform\'s opener, and a missing one is only a false', async () => {
  expect(openCommand('http://x/#token=a', 'linux')).toEqual(['xdg-open', ['http://x/#token=a']]);
  expect(openCommand('http://x/#token=a', 'darwin')).toEqual(['open', ['http://x/#token=a']]);
  expect(openCommand('http://x/?namespace=a&b#token=a', 'win32')).toEqual(['cmd', ['/c', 'start', '""', 'http://x/?namespace=a^&b#token=a']]);
  expect(await startDetached(path.join(dir, 'no-such-opener'), [])).toBe(false);
  expect(await startDetached(process.execPath, ['-e', ''])).toBe(true);
});
