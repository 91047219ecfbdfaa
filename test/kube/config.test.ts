import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfigError, loadKubeConfig } from '../../src/kube';

function kubeconfig(server: string, contexts: string[] = ['main']): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${contexts[0]}`,
    'clusters:',
    ...contexts.map((c) => `- name: ${c}\n  cluster: {server: "${server}/${c}", insecure-skip-tls-verify: true}`),
    'users:',
    '- name: u\n  user: {token: t}',
    'contexts:',
    ...contexts.map((c) => `- name: ${c}\n  context: {cluster: ${c}, user: u}`),
  ].join('\n');
}

let dir: string;
let home: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  home = join(dir, 'home');
  mkdirSync(join(home, '.kube'), { recursive: true });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

const server = (kc: ReturnType<typeof loadKubeConfig>) => kc.getCurrentCluster()?.server;

describe('loadKubeConfig search order', () => {
  it('--kubeconfig wins over $KUBECONFIG and ~/.kube/config', () => {
    const flag = write('flag', kubeconfig('https://flag'));
    const env = write('env', kubeconfig('https://env'));
    writeFileSync(join(home, '.kube', 'config'), kubeconfig('https://home'));
    expect(server(loadKubeConfig({ kubeconfig: flag }, { env: { KUBECONFIG: env }, home, fsRoot: dir }))).toBe('https://flag/main');
  });

  it('$KUBECONFIG wins over ~/.kube/config', () => {
    const env = write('env', kubeconfig('https://env'));
    writeFileSync(join(home, '.kube', 'config'), kubeconfig('https://home'));
    expect(server(loadKubeConfig({}, { env: { KUBECONFIG: env }, home, fsRoot: dir }))).toBe('https://env/main');
  });

  it('~/.kube/config when nothing else is given', () => {
    writeFileSync(join(home, '.kube', 'config'), kubeconfig('https://home'));
    expect(server(loadKubeConfig({}, { env: {}, home, fsRoot: dir }))).toBe('https://home/main');
  });

  it('--context picks another context of the file', () => {
    const flag = write('flag', kubeconfig('https://flag', ['main', 'staging']));
    expect(server(loadKubeConfig({ kubeconfig: flag, context: 'staging' }, { env: {}, home, fsRoot: dir }))).toBe('https://flag/staging');
  });

  it.each([
    ['nothing found', {}, /no kubeconfig found/],
    ['a missing --kubeconfig file', { kubeconfig: '/nonexistent/kubeconfig' }, /\/nonexistent\/kubeconfig \(from --kubeconfig\) does not exist/],
  ])('%s is an error that says where it looked', (_name, opts, message) => {
    expect(() => loadKubeConfig(opts, { env: {}, home, fsRoot: dir })).toThrow(message);
    expect(() => loadKubeConfig(opts, { env: {}, home, fsRoot: dir })).toThrow(KubeConfigError);
  });

  it('an unknown --context lists the known ones', () => {
    const flag = write('flag', kubeconfig('https://flag', ['main', 'staging']));
    expect(() => loadKubeConfig({ kubeconfig: flag, context: 'prod' }, { env: {}, home, fsRoot: dir })).toThrow(
      'context "prod" is not in the kubeconfig (contexts: main, staging)',
    );
  });
});
