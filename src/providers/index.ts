// The factory: one provider per target, chosen by target.provider.
import type { Target } from '../plan/schema';
import type { ObjectClient, ResourceRef } from '../kube';
import * as gatewayApi from './gatewayApi';
import * as istio from './istio';
import * as nginx from './nginx';
import * as service from './service';
import * as smi from './smi';
import type { Backends, LiveLookup, TrafficProvider } from './types';

export function createProvider(kube: ObjectClient, namespace: string, target: Target): TrafficProvider {
  switch (target.provider) {
    case 'nginx': return nginx.nginxProvider(kube, namespace, target);
    case 'gatewayAPI': return gatewayApi.gatewayApiProvider(kube, namespace, target);
    case 'istio': return istio.istioProvider(kube, namespace, target);
    case 'smi': return smi.smiProvider(kube, namespace, target);
    case 'service': return service.serviceProvider(kube, namespace, target);
  }
}

/** How messages and views name a target (`gatewayAPI HTTPRoute shop/checkout`), with no request;
 * `?` for a name its missing provider block would have given. */
export function describeTarget(namespace: string, target: Target): string {
  switch (target.provider) {
    case 'nginx': return target.nginx ? nginx.describe(namespace, target.nginx) : 'nginx ?';
    case 'gatewayAPI': return target.gatewayAPI ? gatewayApi.describe(namespace, target.gatewayAPI) : 'gatewayAPI ?';
    case 'istio': return target.istio ? istio.describe(namespace, target.istio) : 'istio ?';
    case 'smi': return target.smi ? smi.describe(namespace, target.smi) : 'smi ?';
    case 'service': return target.service ? service.describe(namespace, target.service) : 'service ?';
  }
}

/** The objects a target reads (so a controller can watch them and wake its plans on a hand
 * edit). Empty when the target lacks its provider block (the spec is invalid then). */
export function targetObjects(namespace: string, target: Target): ResourceRef[] {
  switch (target.provider) {
    case 'nginx': return target.nginx ? nginx.targetObjects(namespace, target.nginx) : [];
    case 'gatewayAPI': return target.gatewayAPI ? gatewayApi.targetObjects(namespace, target.gatewayAPI) : [];
    case 'istio': return target.istio ? istio.targetObjects(namespace, target.istio) : [];
    case 'smi': return target.smi ? smi.targetObjects(namespace, target.smi) : [];
    case 'service': return target.service ? service.targetObjects(namespace, target.service) : [];
  }
}

/** The backends a target sends canary and stable traffic to, for the readiness gate. `live` looks
 * up the target's objects (targetObjects) for providers that name backends only there (nginx). */
export function backendServices(namespace: string, target: Target, live: LiveLookup): Backends {
  const none: Backends = { canary: [], stable: [] };
  switch (target.provider) {
    case 'nginx': return target.nginx ? nginx.backendServices(namespace, target.nginx, live) : none;
    case 'gatewayAPI': return target.gatewayAPI ? gatewayApi.backendServices(namespace, target.gatewayAPI) : none;
    case 'istio': return target.istio ? istio.backendServices(namespace, target.istio) : none;
    case 'smi': return target.smi ? smi.backendServices(namespace, target.smi) : none;
    case 'service': return target.service ? service.backendServices(namespace, target.service) : none;
  }
}

/** Whether a target's backends can be named without its live objects. */
export function backendsNeedLiveObjects(target: Target): boolean {
  return target.provider === 'nginx';
}

export {
  type BackendRef,
  type Backends,
  type LiveLookup,
  type TrafficProvider,
  type TargetState,
  type TargetProblem,
  type PatchPlan,
  InvalidWeightError,
  assertWeight,
  canaryPercent,
} from './types';
