// GET /api/v1/stream: the plans as Server-Sent Events, for the dashboard. Fed by the controller's
// plan cache (its one watch of plans), never by reading the API server: a snapshot of every plan
// the caller may list, then each plan as it changes and each deletion. Authorized exactly as
// GET /plans (verb list on migrationplans in ?namespace, or across the cluster), and refused with
// the same JSON errors before the stream starts.
//
// Browsers read it with fetch() and a stream reader (EventSource cannot send an Authorization
// header), so every event is written and flushed at once; nothing compresses or buffers it. A
// stream ends after STREAM_LIFETIME_MS and the client reconnects: the caller's token and
// permissions are checked again then, so a revoked token stops seeing plans within minutes.
import type { Response } from 'express';
import type { PlanRef } from '../plan/ref';
import { NotAPlan, planView, type PlanView } from '../steering/view';
import type { AppDeps } from './app';
import { authorize } from './auth';
import { HttpError } from './errors';
import { followPlans, PlanDiff, type PlanChange } from './planChanges';
import { authOf, parsePart, type Operation, type RouteSpec } from './routes';
import { StreamQuery } from './schemas';

export const STREAM_PING_MS = 15_000;
export const STREAM_LIFETIME_MS = 10 * 60_000;
/** What the client waits before reconnecting (the `retry:` field). */
export const STREAM_RETRY_MS = 2000;
/** A client that reads slower than the plans change is cut off (it reconnects and gets a fresh
 * snapshot) instead of the controller buffering for it without bound. */
export const STREAM_BUFFER_LIMIT = 4 * 1024 * 1024;

export interface StreamSettings {
  pingMs?: number;
  lifetimeMs?: number;
}

function viewOf(object: Parameters<typeof planView>[0]): PlanView | undefined {
  try {
    return planView(object);
  } catch (error) {
    if (error instanceof NotAPlan) return undefined;
    throw error;
  }
}

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

function eventOf(change: PlanChange): string | undefined {
  if (change.kind === 'deleted') return event('deleted', { namespace: change.plan.namespace, name: change.plan.name });
  const view = viewOf(change.object);
  return view === undefined ? undefined : event('plan', view);
}

const spec: RouteSpec = {
  method: 'get',
  path: '/stream',
  operationId: 'streamPlans',
  summary: 'Plans as Server-Sent Events, live from the controller\'s cache',
  description:
    'A `text/event-stream`: `retry: 2000`, then `event: snapshot` with `{"plans": [PlanView...]}` (as GET /plans answers: weights as the status says), then `event: plan` with a PlanView whenever a plan is added or changes, ' +
    '`event: deleted` with `{"namespace", "name"}`, and a `: ping` comment every 15 s. The stream ends after 10 minutes; reconnect (the token is checked again). ' +
    'Authorized as `list` on migrationplans in ?namespace (or across the cluster); refusals are JSON errors before the stream starts.',
  tags: ['plans'],
  query: StreamQuery,
  verb: 'list',
  responses: { 200: { description: 'The event stream.', mediaType: 'text/event-stream' } },
};

function openStream(res: Response): void {
  res.status(200);
  res.set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    // nginx (an ingress in front of the controller) would otherwise buffer the stream.
    'X-Accel-Buffering': 'no',
    Connection: 'keep-alive',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
}

export const streamOperation: Operation = {
  spec,
  mount(router, deps: AppDeps) {
    router.get(spec.path, async (req, res) => {
      const query = parsePart(StreamQuery, req.query, 'query parameter');
      const namespace = query.namespace || deps.namespace || '';
      await authorize(authOf(deps), res, { verb: 'list', namespace });
      if (!deps.ready()) throw new HttpError(503, 'the plan cache has not synced yet; retry in a moment', { reason: 'ServiceUnavailable' });

      const include = (plan: PlanRef): boolean => (deps.namespace === undefined || plan.namespace === deps.namespace) && (namespace === '' || plan.namespace === namespace);
      const closed = new AbortController();
      const done = AbortSignal.any([closed.signal, ...(deps.stopping ? [deps.stopping] : [])]);
      res.on('close', () => closed.abort());
      const write = (text: string): void => {
        if (done.aborted || res.writableEnded) return;
        res.write(text);
        if (res.writableLength > STREAM_BUFFER_LIMIT) res.end();
      };

      openStream(res);
      const diff = new PlanDiff(include);
      const plans: PlanView[] = [];
      for (const change of diff.update(deps.controller.cachedPlans())) {
        if (change.kind !== 'changed') continue;
        const view = viewOf(change.object);
        if (view !== undefined) plans.push(view);
      }
      plans.sort((a, b) => (a.namespace === b.namespace ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.namespace < b.namespace ? -1 : 1));
      write(`retry: ${STREAM_RETRY_MS}\n\n`);
      write(event('snapshot', { plans }));

      const ping = setInterval(() => write(': ping\n\n'), deps.stream?.pingMs ?? STREAM_PING_MS);
      const lifetime = setTimeout(() => res.end(), deps.stream?.lifetimeMs ?? STREAM_LIFETIME_MS);
      try {
        await followPlans(
          deps.controller,
          diff,
          (changes) => {
            for (const change of changes) {
              const text = eventOf(change);
              if (text !== undefined) write(text);
            }
          },
          done,
        );
      } finally {
        clearInterval(ping);
        clearTimeout(lifetime);
        if (!res.writableEnded) res.end();
      }
    });
  },
};

