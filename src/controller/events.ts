// Kubernetes Events on the plan, so `kubectl describe mp` tells its story. A repeat of the same
// reason and message within a few minutes bumps the existing Event's count instead of adding one.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { metaTime, microTime, type Kube, type KubeObject } from '../kube';
import { API_VERSION, KIND, ObjectMeta } from '../plan/schema';
import type { EventSink } from './reconcile';

const EVENTS = { group: '', version: 'v1', plural: 'events' } as const;
const AGGREGATE_WINDOW_MS = 10 * 60_000;

interface Recent {
  name: string;
  count: number;
  at: number;
}

export class KubeEventSink implements EventSink {
  private readonly recent = new Map<string, Recent>();
  private readonly instance = `${hostname()}-${process.pid}`;

  constructor(private readonly kube: Kube, private readonly now: () => number = Date.now) {}

  async record(plan: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const meta = ObjectMeta.parse(plan['metadata']);
    const namespace = meta.namespace ?? 'default';
    const key = `${namespace}/${meta.name}/${meta.uid ?? ''}/${type}/${reason}/${message}`;
    const now = this.now();
    const stamp = metaTime(new Date(now));
    const seen = this.recent.get(key);
    if (seen && now - seen.at < AGGREGATE_WINDOW_MS) {
      seen.count++;
      seen.at = now;
      try {
        await this.kube.mergePatch({ ...EVENTS, namespace, name: seen.name }, { count: seen.count, lastTimestamp: stamp });
        return;
      } catch {
        this.recent.delete(key); // the Event expired or was removed: write a new one
      }
    }
    const name = `${meta.name}.${randomBytes(8).toString('hex')}`;
    await this.kube.create(
      { ...EVENTS, namespace },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: { apiVersion: API_VERSION, kind: KIND, name: meta.name, namespace, uid: meta.uid, resourceVersion: meta.resourceVersion },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: stamp,
        lastTimestamp: stamp,
        // eventTime is a MicroTime: six fractional digits, or a real server answers 400.
        eventTime: microTime(new Date(now)),
        action: reason,
        reportingComponent: 'trafficshift.io/controller',
        reportingInstance: this.instance,
        source: { component: 'trafficshift' },
      },
    );
    this.recent.set(key, { name, count: 1, at: now });
    if (this.recent.size > 1000) {
      for (const [k, r] of this.recent) if (now - r.at >= AGGREGATE_WINDOW_MS) this.recent.delete(k);
    }
  }
}
