// The dashboard's pages: one index.html (the client routes on location.pathname) at `/` and
// `/plans/{namespace}/{name}`, and the built client files under `/assets/`. Static and served
// without a token: they hold no data; the page asks /api/v1 for everything with the viewer's
// token. Every answer carries a Content-Security-Policy that lets the page load and call nothing
// but this controller.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Router, type Response } from 'express';

/** Outside /api/v1, so not in the OpenAPI document. */
export const DASHBOARD_PATHS = ['/', '/plans/:namespace/:name', '/assets', '/assets/*file'] as const;

export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** A path segment of a file the build wrote: no `..`, no hidden files, no separators. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** dist/dashboard/assets: next to the compiled module (dist/api -> dist/dashboard/assets: in a
 * checkout, the npm package and the image alike), else under the package root's dist/ (the
 * sources run by jest after a build). The first when neither exists: its 404 names it. */
export function defaultAssetsDir(start = __dirname): string {
  const besideModule = path.resolve(start, '..', 'dashboard', 'assets');
  if (existsSync(besideModule)) return besideModule;
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) {
      const underDist = path.join(dir, 'dist', 'dashboard', 'assets');
      return existsSync(underDist) ? underDist : besideModule;
    }
    if (path.dirname(dir) === dir) return besideModule;
  }
}

async function sendFile(res: Response, file: string, status = 200): Promise<boolean> {
  let body: Buffer;
  try {
    body = await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return false;
    throw error;
  }
  res.status(status).set(DASHBOARD_HEADERS).type(CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream').send(body);
  return true;
}

function notFound(res: Response, message: string): void {
  res.status(404).set(DASHBOARD_HEADERS).type('text/plain; charset=utf-8').send(`${message}\n`);
}

export function dashboardRouter(assetsDir: string): Router {
  const router = Router();
  const root = path.resolve(assetsDir);
  const page = async (_req: unknown, res: Response): Promise<void> => {
    if (!(await sendFile(res, path.join(root, 'index.html')))) {
      notFound(res, `the dashboard is not in this build: ${path.join(root, 'index.html')} is missing (make build writes it)`);
    }
  };
  router.get('/', page);
  router.get('/plans/:namespace/:name', page);
  router.get('/assets', (_req, res) => notFound(res, 'no such dashboard asset'));
  router.get('/assets/*file', async (req, res) => {
    const segments = (req.params as { file?: string[] }).file ?? [];
    const file = path.join(root, ...segments);
    if (segments.length === 0 || !segments.every((s) => SEGMENT.test(s)) || !file.startsWith(root + path.sep) || !(await sendFile(res, file))) {
      notFound(res, 'no such dashboard asset');
    }
  });
  return router;
}
