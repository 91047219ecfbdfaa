// HTTPS serving: a CA and serving certificate made at start, clients that verify them (the
// project's Kube client, client-node, kubectl), one TLS connection reused for many requests, and
// kubectl sending its token over TLS so anonymous auth can be off.
import * as https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { Kube, KubeError, loadKubeConfig } from '../../src/kube';
import { LocalKube } from '../../src/localkube';
import { generateServingCertificates } from '../../src/localkube/tls';
import { failure, Harness, kubeAs, kubectl, kubectlFound, startHarness } from './support';

const NAMESPACES = { group: '', version: 'v1', plural: 'namespaces' } as const;
const itWithKubectl = kubectlFound ? it : it.skip;

describe('LocalKube over TLS', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness({ tls: true, anonymous: false });
    dir = mkdtempSync(join(tmpdir(), 'localkube-tls-'));
  });
  afterAll(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves https on loopback with a certificate for 127.0.0.1 and localhost signed by its own CA', () => {
    expect(h.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = new X509Certificate(h.server.caPem);
    expect(ca.ca).toBe(true);
    const config = yaml.load(readFileSync(h.kubeconfigPath, 'utf8')) as { clusters: Array<{ cluster: Record<string, unknown> }> };
    const cluster = config.clusters[0]?.cluster ?? {};
    expect(cluster['insecure-skip-tls-verify']).toBeUndefined();
    expect(Buffer.from(String(cluster['certificate-authority-data']), 'base64').toString()).toBe(h.server.caPem);
  });

  it('the certificate names localhost and the kubernetes.default names, and no other host', async () => {
    const port = Number(new URL(h.server.url).port);
    const get = (servername: string) => new Promise<number>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/version', servername, ca: h.server.caPem, agent: false, headers: { authorization: `Bearer ${h.server.token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    expect(await get('localhost')).toBe(200);
    expect(await get('kubernetes.default.svc')).toBe(200);
    await expect(get('example.com')).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('the project Kube client verifies the server with the kubeconfig CA and sends its token', async () => {
    const { kube } = kubeAs(h.server, dir);
    const ns = await kube.get({ ...NAMESPACES, name: 'shop' });
    expect((ns['metadata'] as { name: string }).name).toBe('shop');
    // client-node's generated clients take the same path.
    expect((await h.core.listNamespace()).items.map((n) => n.metadata?.name)).toContain('shop');
  });

  it('refuses anonymous requests and unknown tokens with 401 (anonymous: false)', async () => {
    const bare = await fetchWithCa(h.server.caPem, `${h.server.url}/api/v1/namespaces`, {});
    expect(bare.status).toBe(401);
    expect(bare.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const { kube } = kubeAs(h.server, dir, 'not-a-token');
    await expect(kube.get({ ...NAMESPACES, name: 'shop' })).rejects.toMatchObject({ status: 401 });
  });

  it('a client that trusts another CA is refused by TLS verification', async () => {
    const other = await generateServingCertificates();
    const wrong = join(dir, 'wrong-ca');
    const config = yaml.load(h.server.kubeconfigYaml()) as { clusters: Array<{ cluster: Record<string, unknown> }> };
    (config.clusters[0] as { cluster: Record<string, unknown> }).cluster['certificate-authority-data'] = Buffer.from(other.caPem).toString('base64');
    writeFileSync(wrong, yaml.dump(config));
    const kube = new Kube(loadKubeConfig({ kubeconfig: wrong }));
    const error = await kube.get({ ...NAMESPACES, name: 'shop' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeError);
    expect(String((error as KubeError).message) + String((error as Error).cause ?? '')).toMatch(/self[- ]signed|unable to verify|certificate/i);
    const served = await fetchWithCa(other.caPem, `${h.server.url}/version`, { authorization: `Bearer ${h.server.token}` }).catch((e: unknown) => e);
    expect((served as { code?: unknown }).code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('keeps one TLS connection alive across requests', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: h.server.caPem });
    try {
      const reused: boolean[] = [];
      for (let i = 0; i < 4; i++) {
        const answer = await new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
          const req = https.get(`${h.server.url}/api/v1/namespaces/shop`, { agent, headers: { authorization: `Bearer ${h.server.token}` } }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          });
          req.on('error', reject);
        });
        expect(answer.status).toBe(200);
        reused.push(answer.reused);
      }
      expect(reused).toStrictEqual([false, true, true, true]);
    } finally {
      agent.destroy();
    }
  });

  itWithKubectl('kubectl verifies the CA, sends its token, and gets namespaces', async () => {
    const { stdout, stderr, code } = await kubectl(h.kubeconfigPath, join(dir, 'cache'), 'get', 'ns');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]?.split(/\s+/)).toStrictEqual(['NAME', 'STATUS', 'AGE']);
    expect(stdout).toMatch(/^shop\s+Active/m);
    const whoami = await kubectl(h.kubeconfigPath, join(dir, 'cache'), 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}');
    expect(whoami.stdout).toBe('localkube-admin');
  });

  itWithKubectl('kubectl with a kubeconfig that trusts another CA fails on the certificate', async () => {
    const other = await generateServingCertificates();
    const wrong = join(dir, 'kubectl-wrong-ca');
    writeFileSync(wrong, h.server.kubeconfigYaml().replace(Buffer.from(h.server.caPem).toString('base64'), Buffer.from(other.caPem).toString('base64')));
    const { code, stderr } = await kubectl(wrong, join(dir, 'cache-wrong'), 'get', 'ns');
    expect(code).not.toBe(0);
    expect(stderr).toContain('x509: certificate signed by unknown authority');
  });

  it('answers 404 through the TLS server exactly as through plain HTTP', async () => {
    const { code, body } = await failure(h.core.readNamespace({ name: 'nowhere' }));
    expect(code).toBe(404);
    expect(body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'namespaces "nowhere" not found' });
  });
});

describe('restart', () => {
  it('keeps the CA and serving certificate, as a restarted kube-apiserver keeps its PKI', async () => {
    const server = new LocalKube({ tls: true, namespaces: ['default'] });
    await server.start();
    try {
      const ca = server.caPem;
      await server.stop();
      await server.start();
      expect(server.caPem).toBe(ca);
      const answer = await fetchWithCa(ca, `${server.url}/api/v1/namespaces/default`, { authorization: `Bearer ${server.token}` });
      expect(answer.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe('caPem', () => {
  it('is refused for a plain-HTTP server', async () => {
    const h = await startHarness({}, []);
    try {
      expect(h.server.url).toMatch(/^http:\/\//);
      expect(() => h.server.caPem).toThrow(/tls: true/);
    } finally {
      await h.stop();
    }
  });
});

async function fetchWithCa(ca: string, url: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
  });
}
