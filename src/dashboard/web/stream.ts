// The live feed: GET /api/v1/stream read with fetch() and a stream reader, because EventSource
// cannot send an Authorization header. Reconnects with a growing backoff. A 401 or 403 stops it: retrying will not change the
// answer, a new token will (the page restarts the stream then).
import { ApiError, authHeaders, errorOf } from './api.js';
import { parseSse, type SseEvent } from './sse.js';
import type { PlanRef, PlanView } from './types.js';

export interface StreamHandlers {
  snapshot(plans: PlanView[]): void;
  plan(plan: PlanView): void;
  deleted(ref: PlanRef): void;
  /** 'live' once the snapshot arrived; 'retrying' with the wait; 'refused' with the API's error. */
  state(state: { kind: 'live' } | { kind: 'retrying'; inMs: number; why: string } | { kind: 'refused'; error: ApiError }): void;
}

const MAX_BACKOFF_MS = 30_000;

/** Opens the stream (of `namespace`, or every namespace) and keeps it open until the returned
 * function is called. */
export function openStream(namespace: string | undefined, handlers: StreamHandlers): () => void {
  const abort = new AbortController();
  let retryMs = 2000;
  let failures = 0;
  const url = `/api/v1/stream${namespace ? `?namespace=${encodeURIComponent(namespace)}` : ''}`;

  const dispatch = (e: SseEvent): void => {
    const data = JSON.parse(e.data) as unknown;
    if (e.event === 'snapshot') {
      failures = 0;
      handlers.snapshot((data as { plans: PlanView[] }).plans);
      handlers.state({ kind: 'live' });
    } else if (e.event === 'plan') handlers.plan(data as PlanView);
    else if (e.event === 'deleted') handlers.deleted(data as PlanRef);
  };

  const run = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      let why: string;
      try {
        const response = await fetch(url, { headers: { accept: 'text/event-stream', ...authHeaders() }, cache: 'no-store', signal: abort.signal });
        if (response.status === 401 || response.status === 403) {
          handlers.state({ kind: 'refused', error: await errorOf(response) });
          return;
        }
        if (!response.ok || !response.body) throw await errorOf(response);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer = parseSse(buffer + value, dispatch, (ms) => (retryMs = ms));
        }
        why = 'the stream ended';
      } catch (error) {
        if (abort.signal.aborted) return;
        why = error instanceof Error ? error.message : String(error);
      }
      failures += 1;
      const inMs = Math.min(MAX_BACKOFF_MS, retryMs * 2 ** Math.min(failures - 1, 4));
      handlers.state({ kind: 'retrying', inMs, why });
      await new Promise((resolve) => setTimeout(resolve, inMs));
    }
  };
  void run();
  return () => abort.abort();
}
