// The runtime image without an image builder: the Dockerfile's last stage is read, its files are
// assembled the same way in a folder with no node_modules on any parent path (production
// dependencies from `npm ci --omit=dev`, the built dist/, the CRDs), and the program is run from
// there. A dev dependency needed at run time, or a file the stage forgot, fails here.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { spawnTied } from '../../src/demo/childProcess';
import { LocalKube } from '../../src/localkube';
import { SETTLE_MS } from '../support/deadlines';

const ROOT = path.resolve(__dirname, '../..');
const DOCKERFILE = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

/** The instructions of the Dockerfile's last stage, continuation lines joined. */
function runtimeStage(): string[] {
  const lines = DOCKERFILE.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const last = lines.map((l, i) => (l.startsWith('FROM ') ? i : -1)).filter((i) => i >= 0).pop() ?? 0;
  return lines.slice(last);
}

/** What the last stage copies, as `source -> destination` (with --from=stage for other stages). */
function copies(): string[] {
  return runtimeStage()
    .filter((l) => l.startsWith('COPY '))
    .map((l) => {
      const parts = l.split(/\s+/).slice(1);
      const from = parts[0]?.startsWith('--from=') ? `${parts.shift()?.slice('--from='.length)}:` : '';
      const destination = parts.pop();
      return `${from}${parts.join(' ')} -> ${destination}`;
    });
}

describe('the Dockerfile', () => {
  it('copies into the runtime stage only production dependencies, dist/, package.json and the CRDs', () => {
    expect(copies()).toEqual([
      'production-dependencies:/app/node_modules -> ./node_modules',
      'build:/src/dist -> ./dist',
      'package.json -> ./',
      'manifests/crd.yaml -> ./manifests/crd.yaml',
      'third_party/crds -> ./third_party/crds',
    ]);
    expect(DOCKERFILE).toMatch(/npm ci --omit=dev/);
  });

  it('runs the CLI as a numeric non-root user, with nothing to write', () => {
    const stage = runtimeStage();
    const user = stage.find((l) => l.startsWith('USER '))?.slice('USER '.length);
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(stage.some((l) => /^(RUN|VOLUME)\b/.test(l))).toBe(false);
    expect(stage.find((l) => l.startsWith('ENTRYPOINT'))).toBe('ENTRYPOINT ["node", "/app/dist/cli/main.js"]');
  });
});

describe('the runtime stage\'s files, assembled without an image builder', () => {
  let dir = '';
  let local: LocalKube | undefined;
  const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const cli = (): string => path.join(dir, 'dist/cli/main.js');

  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `make build` first (make test does)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-image-'));
    for (const file of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
    // As the production-dependencies stage does: the registry, not this checkout's node_modules.
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'pipe', timeout: SETTLE_MS });
    fs.rmSync(path.join(dir, 'package-lock.json'));
    fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'manifests'));
    fs.copyFileSync(path.join(ROOT, 'manifests/crd.yaml'), path.join(dir, 'manifests/crd.yaml'));
    fs.cpSync(path.join(ROOT, 'third_party/crds'), path.join(dir, 'third_party/crds'), { recursive: true });
  }, SETTLE_MS + 30_000);

  afterAll(async () => {
    await local?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('holds no dev dependency and no node_modules on any parent path', () => {
    const installed = fs.readdirSync(path.join(dir, 'node_modules'));
    // Type packages may come in as dependencies of a production package (client-node declares
    // @types/node and @types/js-yaml); the tools (jest, typescript, swc, supertest) may not.
    const dev = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies).filter((d) => !d.startsWith('@types/'));
    expect(dev.length).toBeGreaterThan(3);
    expect(dev.filter((d) => installed.includes(d.split('/')[0] as string) && fs.existsSync(path.join(dir, 'node_modules', d)))).toEqual([]);
    for (let parent = path.dirname(dir); path.dirname(parent) !== parent; parent = path.dirname(parent)) {
      expect(fs.existsSync(path.join(parent, 'node_modules'))).toBe(false);
    }
  });

  it('answers --version and controller --help', () => {
    const env = { ...process.env, NODE_ENV: 'production' };
    expect(execFileSync(process.execPath, [cli(), '--version'], { cwd: dir, env, encoding: 'utf8' }).trim()).toBe(version);
    expect(execFileSync(process.execPath, [cli(), 'controller', '--help'], { cwd: dir, env, encoding: 'utf8' })).toContain('--leader-elect');
  });

  it('starts the controller against an API server, reports ready, serves the dashboard, and stops cleanly on SIGTERM', async () => {
    local = new LocalKube();
    await local.start();
    const kubeconfig = path.join(dir, 'kubeconfig');
    local.writeKubeconfig(kubeconfig);
    const controller = spawnTied(process.execPath, [cli(), 'controller', '--kubeconfig', kubeconfig, '--port', '0', '--log-format', 'json'], {
      cwd: dir,
      env: { ...process.env, NODE_ENV: 'production', KUBECONFIG: '' },
      output: { stdout: 'ignore', stderr: 'pipe' },
    });
    try {
      const log: string[] = [];
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: controller.child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
          log.push(line);
          const entry = JSON.parse(line.startsWith('{') ? line : '{}') as { message?: string; port?: number };
          if (entry.message === 'trafficshift controller starting' && typeof entry.port === 'number') resolve(entry.port);
        });
        void controller.exited.then((code) => reject(new Error(`the controller exited with ${code}:\n${log.join('\n')}`)));
      });
      const deadline = Date.now() + SETTLE_MS;
      while (!(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline) throw new Error(`not ready within ${SETTLE_MS} ms:\n${log.join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // The dashboard is in the image too: its page and its browser modules (package.json "build").
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      const modules = [...html.matchAll(/src="\/assets\/([\w.-]+\.js)"/g)].map((m) => m[1]);
      expect(modules.length).toBeGreaterThan(0);
      for (const module of modules) expect((await fetch(`http://127.0.0.1:${port}/assets/${module}`)).status).toBe(200);
      expect(await controller.stop(SETTLE_MS)).toBe(0);
    } finally {
      await controller.kill();
    }
  });
});
