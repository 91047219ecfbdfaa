import { Router } from 'express';
import request from 'supertest';
import { createApp, type AppDeps } from '../../src/api/app';
import { noAuth } from '../../src/api/auth';
import { HttpError } from '../../src/api/errors';
import { TrafficshiftMetrics } from '../../src/api/metrics';
import { silentLogger } from '../../src/controller/logger';
import { idleKube } from '../support/idleKube';
import { brotliCompressSync, gzipSync } from 'node:zlib';


function deps(overrides: Partial<AppDeps> = {}): AppDeps {
  const metrics = new TrafficshiftMetrics({ version: '9.9.9', processMetrics: false });
  return {
    controller: { enqueue: () => undefined, noteRequest: () => undefined, isLeader: true, cachedPlans: () => [], cachedPlan: () => undefined, onPlanChange: () => () => undefined, planFeed: () => ({ current: () => undefined, nextChange: () => Promise.resolve() }) },
    kube: idleKube(),
    registry: metrics.registry,
    ready: () => true,
    log: silentLogger(),
    // These routes are about the app's own plumbing (bodies, errors), not about who calls.
    auth: noAuth(silentLogger()),
    ...overrides,
  };
}

/** Posts `body` byte for byte with a Content-Encoding: superagent would JSON-encode a Buffer sent
 * as application/json, so its serializer is replaced by one that leaves the bytes alone. */
function postEncoded(app: ReturnType<typeof createApp>, path: string, encoding: string, body: Buffer): request.Test {
  return request(app)
    .post(path)
    .set('content-type', 'application/json')
    .set('content-encoding', encoding)
    .serialize(() => body as unknown as string)
    .send(body);
}

/** Routes that fail in the ways a bug does. */
const leaky = () =>
  Router()
    .get('/async-boom', async () => {
      await Promise.resolve();
      throw new Error('password hunter2 at /src/api/plans.ts:42');
    })
    .get('/secret-boom', () => {
      throw Object.assign(new Error('hunter2'), { status: 500, expose: true });
    })
    .get('/string-boom', () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw 'hunter2';
    });

/** A route like the steering API's: reads a JSON body, may refuse it. */
const echo = () =>
  Router()
    .post('/echo', (req, res) => {
      res.json({ received: req.body as unknown });
    })
    .post('/refuse', () => {
      throw new HttpError(400, 'spec.reason: must be a string', { field: 'reason' });
    })
    .get('/boom', () => {
      throw new Error('a bug');
    })
    .get('/param/:x', (req, res) => {
      res.json({ x: req.params['x'] });
    });

describe('probes', () => {
  it('/healthz answers 200 ok whether or not the cache synced', async () => {
    const res = await request(createApp(deps({ ready: () => false }))).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.text).toBe('ok');
  });

  it('/readyz answers 503 until ready() turns true, then 200', async () => {
    let synced = false;
    const app = createApp(deps({ ready: () => synced }));
    expect((await request(app).get('/readyz')).status).toBe(503);
    synced = true;
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.text).toBe('ok');
  });
});

describe('/metrics', () => {
  it('serves the registry in the Prometheus text format with the build info', async () => {
    const res = await request(createApp(deps())).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('trafficshift_build_info{version="9.9.9"} 1');
    expect(res.text).toContain('# TYPE trafficshift_check_duration_seconds histogram');
  });

  it('includes the process metrics when they are collected', async () => {
    const metrics = new TrafficshiftMetrics({ version: '1.0.0' });
    const res = await request(createApp(deps({ registry: metrics.registry }))).get('/metrics');
    expect(res.text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(res.text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });
});

describe('errors', () => {
  it('an unknown route is a JSON 404 naming it', async () => {
    const res = await request(createApp(deps())).get('/api/v1/nope');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toStrictEqual({ error: 'no route for GET /api/v1/nope', reason: 'NotFound' });
  });

  it('a body that is not JSON is a 400 that says so', async () => {
    const res = await request(createApp(deps(), [echo])).post('/api/v1/echo').set('content-type', 'application/json').send('{"reason": ');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^request body is not valid JSON: /);
    expect(res.body.reason).toBe('BadRequest');
  });

  it('a good JSON body reaches the route', async () => {
    const res = await request(createApp(deps(), [echo])).post('/api/v1/echo').send({ reason: 'errors' });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ received: { reason: 'errors' } });
  });

  it('an HttpError answers with its status, message and details', async () => {
    const res = await request(createApp(deps(), [echo])).post('/api/v1/refuse').send({});
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual({ error: 'spec.reason: must be a string', reason: 'BadRequest', field: 'reason' });
  });

  it('a body over the limit is a 413', async () => {
    const res = await request(createApp(deps(), [echo])).post('/api/v1/echo').set('content-type', 'application/json').send(`"${'x'.repeat(2 * 1024 * 1024)}"`);
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/^request body is too large/);
    expect(res.body.reason).toBe('RequestEntityTooLarge');
  });

  it('a gzip body is decoded before it reaches the route', async () => {
    const res = await postEncoded(createApp(deps(), [echo]), '/api/v1/echo', 'gzip', gzipSync('{"reason": "errors"}'));
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ received: { reason: 'errors' } });
  });

  it.each([
    ['gzip', 'plain JSON', Buffer.from('{"reason": "not compressed"}'), 'request body is not valid gzip: it does not decompress (Z_DATA_ERROR)'],
    ['gzip', 'cut short', gzipSync('{"reason": "cut short"}').subarray(0, 12), 'request body is not valid gzip: it does not decompress (Z_BUF_ERROR)'],
    ['deflate', 'plain JSON', Buffer.from('{"reason": "not compressed"}'), 'request body is not valid deflate: it does not decompress (Z_DATA_ERROR)'],
    ['br', 'plain JSON', Buffer.from('{"reason": "not compressed"}'), 'request body is not valid br: it does not decompress (ERR__ERROR_FORMAT_PADDING_2)'],
  ])('a %s body that is %s is a JSON 400 that says so, not a 500', async (encoding, _what, body, error) => {
    const res = await postEncoded(createApp(deps(), [echo]), '/api/v1/echo', encoding, body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toStrictEqual({ error, reason: 'BadRequest' });
  });

  it('an unknown content encoding is a JSON 415 naming it', async () => {
    const res = await postEncoded(createApp(deps(), [echo]), '/api/v1/echo', 'compress', Buffer.from('{}'));
    expect(res.status).toBe(415);
    expect(res.body).toStrictEqual({ error: 'request body has an unsupported content encoding: unsupported content encoding "compress"', reason: 'UnsupportedMediaType' });
  });

  it('a compressed body over the limit once decompressed is a 413, whatever its size on the wire', async () => {
    const bomb = gzipSync(`"${' '.repeat(2 * 1024 * 1024)}"`);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await postEncoded(createApp(deps(), [echo]), '/api/v1/echo', 'gzip', bomb);
    expect(res.status).toBe(413);
    expect(res.body).toStrictEqual({ error: 'request body is too large: request entity too large', reason: 'RequestEntityTooLarge' });
  });

  it('a brotli body over the limit is a 413 too', async () => {
    const res = await postEncoded(createApp(deps(), [echo]), '/api/v1/echo', 'br', brotliCompressSync(`"${'x'.repeat(2 * 1024 * 1024)}"`));
    expect(res.status).toBe(413);
    expect(res.body).toStrictEqual({ error: 'request body is too large: request entity too large', reason: 'RequestEntityTooLarge' });
  });

  it('any other failure is a JSON 500 that leaks nothing', async () => {
    const res = await request(createApp(deps(), [echo])).get('/api/v1/boom');
    expect(res.status).toBe(500);
    expect(res.body).toStrictEqual({ error: 'internal error; the controller log has the details', reason: 'InternalError' });
    expect(res.text).not.toContain('a bug');
    expect(res.text).not.toContain('at ');
  });

  it('an async failure, an error whose message would leak, and a thrown non-Error are the same 500', async () => {
    const app = createApp(deps(), [leaky]);
    for (const path of ['/api/v1/async-boom', '/api/v1/secret-boom', '/api/v1/string-boom']) {
      const res = await request(app).get(path);
      expect(res.status).toBe(500);
      expect(res.body).toStrictEqual({ error: 'internal error; the controller log has the details', reason: 'InternalError' });
      expect(res.text).not.toMatch(/hunter2|\.ts:\d+|node_modules/);
    }
  });

  it('a body that is not JSON is a 415, not a route reading no body', async () => {
    const res = await request(createApp(deps(), [echo])).post('/api/v1/echo').set('content-type', 'text/plain').send('reason=errors');
    expect(res.status).toBe(415);
    expect(res.body).toStrictEqual({ error: 'request body must be application/json, not text/plain', reason: 'UnsupportedMediaType' });
  });

  it('an empty POST with no Content-Type reaches the route', async () => {
    const res = await request(createApp(deps(), [echo])).post('/api/v1/echo');
    expect(res.status).toBe(200);
  });

  it('a path parameter that does not URL-decode is a 400 in the same shape', async () => {
    const res = await request(createApp(deps(), [echo])).get('/api/v1/param/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual({ error: 'the request is malformed (BadRequest)', reason: 'BadRequest' });
  });
});
