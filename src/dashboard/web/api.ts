// Calls to the controller's REST API with the viewer's bearer token. The token is the viewer's
// own (RBAC decides what it may do); it is kept in sessionStorage only, so it is gone when the tab
// closes, and it arrives either pasted into the page or in the URL fragment (#token=…, which
// `trafficshift dashboard` prints: a fragment is never sent to the server) and is then removed
// from the address bar at once.
import type { Info } from './types.js';

const TOKEN_KEY = 'trafficshift.token';

/** Moves a `#token=` fragment into sessionStorage and out of the address bar (and history). */
export function adoptFragmentToken(): void {
  const match = /^#token=(.+)$/.exec(location.hash);
  if (!match?.[1]) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
  history.replaceState(history.state, '', location.pathname + location.search);
}

export function token(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function setToken(value: string): void {
  sessionStorage.setItem(TOKEN_KEY, value.trim());
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** A failure the API answered with its `{error, reason}` body, or a network failure (status 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

export async function errorOf(response: Response): Promise<ApiError> {
  let body: { error?: unknown; reason?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not JSON: a proxy's page, say; the status says enough
  }
  const message = typeof body.error === 'string' ? body.error : `${response.status} ${response.statusText}`;
  return new ApiError(response.status, message, typeof body.reason === 'string' ? body.reason : '');
}

export async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: { accept: 'application/json', ...authHeaders(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, `the controller did not answer (${error instanceof Error ? error.message : String(error)})`, 'Unreachable');
  }
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

/** The controller's version and whether it checks tokens at all. An older controller without
 * /info is taken to check them. */
export async function info(): Promise<Info> {
  try {
    return await call<Info>('GET', '/api/v1/info');
  } catch {
    return { version: '?', authMode: 'kubernetes' };
  }
}

export function planPath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/plans/${encodeURIComponent(name)}`;
}
