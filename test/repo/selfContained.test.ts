// A clone of this repository alone builds, demos and passes its tests. Nothing the product or its
// tests run may reach outside the repository (a `shared/` folder beside a developer's checkout, a
// machine path), and the third-party CRDs it serves are vendored here, unchanged, with their
// provenance.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnTied } from '../../src/demo/childProcess';
import { THIRD_PARTY_CRDS } from '../../src/localkube/crd';

const ROOT = path.resolve(__dirname, '../..');
const VENDORED = path.join(ROOT, 'third_party/crds');

/** Everything that runs: source, tests, scripts, build and CI files. Prose (README) may mention anything. */
function runnableFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  const runnable = /^(src|test|scripts|bench|\.ci|charts|manifests)\/|^(Makefile|jest\.config\.js|package\.json|tsconfig[\w.]*\.json|Dockerfile)$/;
  return listed.filter((f) => runnable.test(f) && !f.endsWith('.md') && fs.existsSync(path.join(ROOT, f)));
}

// Built from parts so that this file does not match itself.
const OUTSIDE = [
  { what: 'a path to a shared folder beside the checkout', pattern: new RegExp(['\\.\\./', 'shared'].join('')) },
  { what: 'the shared CRD folder', pattern: new RegExp(['shared', '/crds'].join('')) },
  { what: 'the old shared-CRD variable', pattern: new RegExp(['TRAFFICSHIFT', '_SHARED'].join('')) },
  { what: 'a path of the machine it was written on', pattern: new RegExp(`(^|[\\s'"\`(])/(${['work', 'root'].join('|')})/`) },
];

describe('the repository stands alone', () => {
  const files = runnableFiles();

  it('finds the files it scans', () => {
    expect(files).toEqual(expect.arrayContaining(['Makefile', '.ci/run', 'src/localkube/crd.ts', 'test/support/cluster.ts', 'jest.config.js']));
  });

  it.each(OUTSIDE)('no runnable file names $what', ({ pattern }) => {
    const hits = files.flatMap((f) =>
      fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n').flatMap((line, i) => (pattern.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toStrictEqual([]);
  });
});

describe('the vendored third-party CRDs', () => {
  const readme = fs.readFileSync(path.join(VENDORED, 'README.md'), 'utf8');
  /** `| file | object | project | version | source | licence | sha256 |` rows, by file. */
  const rows = new Map(
    readme
      .split('\n')
      .filter((l) => /^\| `[^`]+\.yaml` \|/.test(l))
      .map((l) => l.split('|').slice(1, -1).map((c) => c.trim().replace(/^`|`$/g, '')))
      .map((cells) => [cells[0] as string, { project: cells[2], version: cells[3], source: cells[4], licence: cells[5], sha256: cells[6] }]),
  );

  it('are exactly the files the in-process server serves, each with a README row', () => {
    const onDisk = fs.readdirSync(VENDORED).filter((f) => f.endsWith('.yaml')).sort();
    expect(onDisk).toStrictEqual(Object.values(THIRD_PARTY_CRDS).sort());
    expect([...rows.keys()].sort()).toStrictEqual(onDisk);
  });

  it.each(Object.values(THIRD_PARTY_CRDS))('%s is unchanged from its release: project, version, source, licence and checksum recorded', (file) => {
    const row = rows.get(file);
    expect(row).toMatchObject({ project: expect.stringMatching(/\w\/\w/), version: expect.stringMatching(/\d/), source: expect.any(String), licence: 'Apache-2.0' });
    const sha256 = createHash('sha256').update(fs.readFileSync(path.join(VENDORED, file))).digest('hex');
    expect(sha256).toBe(row?.sha256);
    expect(fs.readFileSync(path.join(VENDORED, 'LICENSE-Apache-2.0.txt'), 'utf8')).toContain('Apache License');
  });
});

describe('the built package, copied where no shared folder is on any parent path', () => {
  let dir: string;
  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `make build` first (make test does)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trafficshift-alone-'));
    for (const part of ['package.json', 'dist', 'manifests', 'third_party']) fs.cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves the Gateway API, Istio and SMI route kinds from `trafficshift localkube`', async () => {
    let parent = dir;
    while (path.dirname(parent) !== parent) {
      expect(fs.existsSync(path.join(parent, 'shared'))).toBe(false);
      parent = path.dirname(parent);
    }
    const kubeconfig = path.join(dir, 'kubeconfig');
    const server = spawnTied(process.execPath, [path.join(dir, 'dist/cli/main.js'), 'localkube', '--kubeconfig-out', kubeconfig], { cwd: dir, output: { stdout: 'pipe', stderr: 'pipe' } });
    try {
      let printed = '';
      server.child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      // It starts in about a second; 30 s holds on a loaded 2-core machine.
      const deadline = Date.now() + 30_000;
      let url: string | undefined;
      while (url === undefined) {
        url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(printed)?.[1];
        if (url) break;
        if (!server.running || Date.now() > deadline) throw new Error(`localkube did not start: ${printed}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const groups = await (await fetch(`${url}/apis`)).json() as { groups: Array<{ name: string }> };
      expect(groups.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['gateway.networking.k8s.io', 'networking.istio.io', 'split.smi-spec.io', 'trafficshift.io']));
      const routes = await fetch(`${url}/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes`);
      expect(routes.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
