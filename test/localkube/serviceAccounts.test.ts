// ServiceAccounts and the TokenRequest API (serviceaccounts/NAME/token): the answer's shape and
// errors, tokens that authenticate as the account until they expire or the account is deleted,
// TokenReview with audiences, and kubectl create serviceaccount / create token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { failure, Harness, kubeAs, kubectl, kubectlFound, raw, startHarness } from './support';

const itWithKubectl = kubectlFound ? it : it.skip;
const API_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';

let h: Harness;
let dir: string;
/** Seconds the server's clock is ahead of the real one (to expire tokens without waiting). */
let skew = 0;

beforeAll(async () => {
  // TLS, so kubectl sends the token of its kubeconfig.
  h = await startHarness({ tls: true, now: () => new Date(Date.now() + skew * 1000), tokens: { 'static-token': { username: 'bob', groups: ['sre'] } } });
  dir = mkdtempSync(join(tmpdir(), 'localkube-sa-'));
});
afterAll(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function account(name: string): Promise<k8s.V1ServiceAccount> {
  return h.core.createNamespacedServiceAccount({ namespace: 'shop', body: { metadata: { name } } });
}

async function token(name: string, spec: k8s.V1TokenRequestSpec = { audiences: [] }): Promise<k8s.AuthenticationV1TokenRequest> {
  return h.core.createNamespacedServiceAccountToken({ namespace: 'shop', name, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec } });
}

async function whoami(bearer: string): Promise<{ status: number; userInfo?: Record<string, unknown> }> {
  const r = await raw(h.server, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, { authorization: `Bearer ${bearer}` });
  return { status: r.status, ...(r.status === 201 ? { userInfo: (r.json.status as Record<string, Record<string, unknown>>).userInfo } : {}) };
}

async function tokenReview(bearer: string, audiences?: string[]): Promise<Record<string, unknown>> {
  const r = await raw(h.server, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: bearer, ...(audiences ? { audiences } : {}) } });
  expect(r.status).toBe(201);
  return r.json.status as Record<string, unknown>;
}

function claims(jwt: string): Record<string, any> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, any>;
}

describe('ServiceAccounts', () => {
  it('are served as core v1 serviceaccounts (short name sa) with a token subresource of kind TokenRequest', async () => {
    const { json } = await raw(h.server, 'GET', '/api/v1');
    const resources = json.resources as Array<Record<string, unknown>>;
    expect(resources).toContainEqual(expect.objectContaining({ name: 'serviceaccounts', namespaced: true, kind: 'ServiceAccount', shortNames: ['sa'] }));
    expect(resources).toContainEqual({ name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });
    const created = await account('reader');
    expect(created.metadata?.uid).toBeTruthy();
    expect((await h.core.listNamespacedServiceAccount({ namespace: 'shop' })).items.map((s) => s.metadata?.name)).toContain('reader');
  });
});

describe('TokenRequest', () => {
  let sa: k8s.V1ServiceAccount;
  beforeAll(async () => {
    sa = await account('steerer');
  });

  it('answers 201 with the token, its expiry and the defaulted spec, as kube-apiserver does', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await raw(h.server, 'POST', '/api/v1/namespaces/shop/serviceaccounts/steerer/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: 'steerer', namespace: 'shop', creationTimestamp: expect.stringMatching(/Z$/) },
      spec: { audiences: [API_AUDIENCE], expirationSeconds: 3600, boundObjectRef: null },
    });
    const status = r.json.status as { token: string; expirationTimestamp: string };
    const created = Date.parse(String((r.json.metadata as Record<string, unknown>).creationTimestamp));
    expect(Date.parse(status.expirationTimestamp) - created).toBe(3600_000);
    const c = claims(status.token);
    expect(c).toMatchObject({
      aud: [API_AUDIENCE], iss: API_AUDIENCE, sub: 'system:serviceaccount:shop:steerer',
      'kubernetes.io': { namespace: 'shop', serviceaccount: { name: 'steerer', uid: sa.metadata?.uid } },
    });
    expect(c.exp - c.iat).toBe(3600);
    expect(c.iat).toBeGreaterThanOrEqual(before);
  });

  it('answers 404 for an account that does not exist and 422 for too short a token', async () => {
    const missing = await failure(token('nobody'));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({ reason: 'NotFound', message: 'serviceaccounts "nobody" not found', details: { name: 'nobody', kind: 'serviceaccounts' } });
    const short = await failure(token('steerer', { audiences: [], expirationSeconds: 60 }));
    expect(short.code).toBe(422);
    expect(short.body.message).toBe('TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');
    const renamed = await raw(h.server, 'POST', '/api/v1/namespaces/shop/serviceaccounts/steerer/token', { metadata: { name: 'other' }, spec: {} });
    expect(renamed.status).toBe(422);
    expect(renamed.json.message).toBe('TokenRequest.authentication.k8s.io "steerer" is invalid: metadata.name: Invalid value: "other": must match the service account name if specified');
    const wrongType = await raw(h.server, 'POST', '/api/v1/namespaces/shop/serviceaccounts/steerer/token', { spec: { expirationSeconds: '600' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.message).toBe('TokenRequest in version "v1" cannot be handled as a TokenRequest: json: cannot unmarshal string into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64');
  });

  it('the token authenticates as the account, with its uid and groups, in requests and TokenReviews', async () => {
    const t = (await token('steerer')).status?.token as string;
    expect(await whoami(t)).toStrictEqual({
      status: 201,
      userInfo: {
        username: 'system:serviceaccount:shop:steerer',
        uid: sa.metadata?.uid,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${String(claims(t).jti)}`] },
      },
    });
    const { kube } = kubeAs(h.server, dir, t);
    expect((await kube.get({ group: '', version: 'v1', plural: 'namespaces', name: 'shop' }))['metadata']).toMatchObject({ name: 'shop' });
    expect(await tokenReview(t)).toStrictEqual({
      authenticated: true,
      user: {
        username: 'system:serviceaccount:shop:steerer', uid: sa.metadata?.uid,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${String(claims(t).jti)}`] },
      },
      audiences: [API_AUDIENCE],
    });
  });

  it('a token for another audience is refused by the API server but reviewed for that audience', async () => {
    const vault = (await token('steerer', { audiences: ['vault'] })).status?.token as string;
    expect((await whoami(vault)).status).toBe(401);
    expect(await tokenReview(vault)).toStrictEqual({ user: {}, error: `token audiences ["vault"] is invalid for the target audiences ["${API_AUDIENCE}"]` });
    expect(await tokenReview(vault, ['vault', 'other'])).toMatchObject({ authenticated: true, user: { username: 'system:serviceaccount:shop:steerer' }, audiences: ['vault'] });
    // Static tokens are audience-agnostic: good for the API server's audience only.
    expect(await tokenReview('static-token')).toStrictEqual({ authenticated: true, user: { username: 'bob', groups: ['sre', 'system:authenticated'] }, audiences: [API_AUDIENCE] });
    expect(await tokenReview('static-token', ['vault'])).toStrictEqual({ user: {}, error: 'invalid bearer token' });
  });

  it('a token stops authenticating when it expires (after the minute of leeway a real server allows)', async () => {
    const t = (await token('steerer', { audiences: [], expirationSeconds: 600 })).status?.token as string;
    expect((await whoami(t)).status).toBe(201);
    skew = 650;
    expect((await whoami(t)).status).toBe(201);
    skew = 665;
    try {
      const { status, json } = await raw(h.server, 'GET', '/api/v1/namespaces', undefined, { authorization: `Bearer ${t}` });
      expect(status).toBe(401);
      expect(json).toStrictEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
      expect(await tokenReview(t)).toStrictEqual({ user: {}, error: 'service account token has expired' });
    } finally {
      skew = 0;
    }
  });

  it('deleting the account revokes its tokens, and a new account of the same name does not revive them', async () => {
    await account('temp');
    const old = (await token('temp')).status?.token as string;
    expect((await whoami(old)).status).toBe(201);
    await h.core.deleteNamespacedServiceAccount({ namespace: 'shop', name: 'temp' });
    expect((await whoami(old)).status).toBe(401);
    expect(await tokenReview(old)).toStrictEqual({ user: {}, error: 'serviceaccounts "temp" not found' });
    const again = await account('temp');
    expect((await whoami(old)).status).toBe(401);
    expect((await tokenReview(old)).error).toMatch(new RegExp(`^service account UID \\(${String(again.metadata?.uid)}\\) does not match claim \\(`));
    const fresh = (await token('temp')).status?.token as string;
    expect((await whoami(fresh)).status).toBe(201);
  });

  it('a token bound to a Secret dies with the Secret', async () => {
    const secret = await h.core.createNamespacedSecret({ namespace: 'shop', body: { metadata: { name: 'binding' }, stringData: { a: 'b' } } });
    const t = (await token('steerer', { audiences: [], boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: 'binding', uid: secret.metadata?.uid } })).status?.token as string;
    expect(claims(t)['kubernetes.io'].secret).toStrictEqual({ name: 'binding', uid: secret.metadata?.uid });
    expect((await whoami(t)).status).toBe(201);
    await h.core.deleteNamespacedSecret({ namespace: 'shop', name: 'binding' });
    expect((await whoami(t)).status).toBe(401);
    const pod = await failure(token('steerer', { audiences: [], boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p' } }));
    expect(pod).toMatchObject({ code: 404, body: { message: 'pods "p" not found' } });
  });
});

describe('kubectl', () => {
  const run = (...args: string[]) => kubectl(h.kubeconfigPath, join(dir, 'cache'), '-n', 'shop', ...args);

  itWithKubectl('create serviceaccount, get sa and create token; the printed token is the account', async () => {
    expect((await run('create', 'serviceaccount', 'cli')).stdout.trim()).toBe('serviceaccount/cli created');
    const table = await run('get', 'sa', 'cli');
    expect(table.stdout.split('\n')[0]?.split(/\s+/)).toStrictEqual(['NAME', 'SECRETS', 'AGE']);
    expect(table.stdout.split('\n')[1]?.split(/\s+/).slice(0, 2)).toStrictEqual(['cli', '0']);
    const created = await run('create', 'token', 'cli', '--duration=20m', '--audience=vault', `--audience=${API_AUDIENCE}`);
    expect(created.stderr).toBe('');
    const t = created.stdout.trim();
    const c = claims(t);
    expect(c.exp - c.iat).toBe(1200);
    expect(c.aud).toStrictEqual(['vault', API_AUDIENCE]);
    const { kubeconfigPath } = kubeAs(h.server, dir, t, 'shop');
    const who = await kubectl(kubeconfigPath, join(dir, 'cache-cli'), 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}');
    expect(who.stdout).toBe('system:serviceaccount:shop:cli');
    const missing = await run('create', 'token', 'nope');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim()).toBe('error: failed to create token: serviceaccounts "nope" not found');
  });
});
