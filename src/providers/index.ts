// The factory: one provider per target, chosen by target.provider.
import type { Target } from '../plan/schema';
import type { Kube } from '../kube';
import { GatewayApiProvider } from './gatewayApi';
import { IstioProvider } from './istio';
import { NginxProvider } from './nginx';
import { ServiceProvider } from './service';
import { SmiProvider } from './smi';
import type { TrafficProvider } from './types';

export function createProvider(kube: Kube, namespace: string, target: Target): TrafficProvider {
  switch (target.provider) {
    case 'nginx': return new NginxProvider(kube, namespace, target);
    case 'gatewayAPI': return new GatewayApiProvider(kube, namespace, target);
    case 'istio': return new IstioProvider(kube, namespace, target);
    case 'smi': return new SmiProvider(kube, namespace, target);
    case 'service': return new ServiceProvider(kube, namespace, target);
  }
}

export {
  type TrafficProvider,
  type TargetState,
  type TargetProblem,
  type PatchPlan,
  InvalidWeightError,
  assertWeight,
  canaryPercent,
} from './types';
