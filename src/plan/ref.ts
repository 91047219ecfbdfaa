// A plan's identity, in one place: the reference every layer passes around, the API resource it
// names, and the `namespace/name` key the caches and the work queue use.
import type { ResourceRef } from '../kube/client';
import { GROUP, PLURAL, VERSION } from './schema';

export interface PlanRef {
  readonly namespace: string;
  readonly name: string;
}

/** The migrationplans collection, across every namespace or in one. */
export function plansResource(namespace?: string): ResourceRef {
  return namespace === undefined ? { group: GROUP, version: VERSION, plural: PLURAL } : { group: GROUP, version: VERSION, plural: PLURAL, namespace };
}

/** One plan, as the API server addresses it. */
export function planResource(plan: PlanRef): ResourceRef {
  return { group: GROUP, version: VERSION, plural: PLURAL, namespace: plan.namespace, name: plan.name };
}

/** `namespace/name`: the key of the plan cache and the work queue. */
export function planKey(plan: PlanRef): string {
  return `${plan.namespace}/${plan.name}`;
}

/** The inverse of planKey. Names and namespaces cannot hold `/`, so the first one splits. */
export function parsePlanKey(key: string): PlanRef {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) throw new Error(`"${key}" is not a namespace/name plan key`);
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The reference of an object as the API server sent it (metadata.namespace and .name). */
export function planRefOf(obj: { metadata?: { namespace?: string | undefined; name?: string | undefined } | undefined }): PlanRef | undefined {
  const namespace = obj.metadata?.namespace;
  const name = obj.metadata?.name;
  return namespace && name ? { namespace, name } : undefined;
}
