// The informer's list and watch over the API server: lists through the one client module, and
// watches through client-node's Watch with bookmarks and a server-side timeout, so a watch is
// renewed regularly even when nothing changes.
import { Watch } from '@kubernetes/client-node';
import { Kube, resourcePath, describeRef, type ResourceRef } from '../kube';
import type { ListAndWatchSource, WatchEvent, WatchEventType } from './informer';

const EVENT_TYPES = new Set<WatchEventType>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

export interface KubeSourceOptions {
  labelSelector?: string;
  /** e.g. `metadata.name=checkout`, to watch one object. */
  fieldSelector?: string;
  /** Server-side watch timeout; the informer rewatches from the last resourceVersion. */
  watchTimeoutSeconds?: number;
}

export function kubeSource(kube: Kube, ref: ResourceRef, options: KubeSourceOptions = {}): ListAndWatchSource {
  const path = resourcePath(ref);
  return {
    description: describeRef(ref),
    async list() {
      return kube.list(ref, {
        ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
        ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
      });
    },
    watch(resourceVersion, onEvent: (event: WatchEvent) => void, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) return resolve();
        let controller: AbortController | undefined;
        let settled = false;
        const settle = (error?: unknown): void => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          if (error && !signal.aborted) reject(error);
          else resolve();
        };
        // Watch hands out its abort handle only once headers arrive; a hung connect is left to
        // die on its own while the informer moves on.
        const onAbort = (): void => {
          controller?.abort();
          settle();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const query: Record<string, string | number | boolean> = {
          allowWatchBookmarks: true,
          timeoutSeconds: options.watchTimeoutSeconds ?? 300,
        };
        if (resourceVersion) query['resourceVersion'] = resourceVersion;
        if (options.labelSelector) query['labelSelector'] = options.labelSelector;
        if (options.fieldSelector) query['fieldSelector'] = options.fieldSelector;
        new Watch(kube.kubeConfig)
          .watch(
            path,
            query,
            (type: string, object: unknown) => {
              if (EVENT_TYPES.has(type as WatchEventType)) onEvent({ type: type as WatchEventType, object });
            },
            (error: unknown) => settle(error ?? undefined),
          )
          .then((c) => {
            controller = c;
            if (signal.aborted) c.abort();
          })
          .catch((error: unknown) => settle(error));
      });
    },
  };
}
