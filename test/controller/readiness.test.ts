// Counting ready endpoints as the readiness gate reads them: EndpointSlices (nil ready is ready,
// an endpoint in two slices counts once) and Pods (Ready=True, not being deleted).
import { countReadyEndpoints, countReadyPods, selectorString } from '../../src/controller/readiness';

const slice = (endpoints: unknown[]) => ({ addressType: 'IPv4', endpoints });

describe('countReadyEndpoints', () => {
  it('counts ready and unset ready, not ready: false, each endpoint once across slices', () => {
    const a = slice([
      { addresses: ['10.0.0.1'], conditions: { ready: true } },
      { addresses: ['10.0.0.2'], conditions: {} },
      { addresses: ['10.0.0.3'] },
      { addresses: ['10.0.0.4'], conditions: { ready: false, serving: true } },
      { addresses: ['10.0.0.5'], conditions: { ready: null } },
    ]);
    const b = slice([{ addresses: ['10.0.0.1'], conditions: { ready: true } }, { addresses: ['10.0.0.6'], targetRef: { uid: 'pod-6' } }]);
    expect(countReadyEndpoints([a, b])).toBe(5);
  });

  it('counts nothing in a slice with no endpoints (null or empty) or a shape it cannot read', () => {
    expect(countReadyEndpoints([{ addressType: 'IPv4', endpoints: null }, slice([]), { endpoints: 'x' }])).toBe(0);
  });
});

describe('countReadyPods', () => {
  const pod = (ready: string, deleting = false) => ({
    metadata: { name: 'p', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: ready }] },
  });
  it('counts Pods with Ready=True that are not being deleted', () => {
    expect(countReadyPods([pod('True'), pod('False'), pod('True', true), { metadata: {}, status: { phase: 'Pending' } }, pod('True')])).toBe(2);
  });
});

it('writes a selector as a label selector, keys sorted', () => {
  expect(selectorString({ track: 'green', app: 'v2' })).toBe('app=v2,track=green');
});
