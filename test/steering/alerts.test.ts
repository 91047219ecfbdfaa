import { AlertmanagerPayload, matchAlerts, type PlanMatcher } from '../../src/steering/alerts';

const plans: PlanMatcher[] = [
  { namespace: 'shop', name: 'checkout-v2', matchLabels: { migration: 'checkout-v2' } },
  { namespace: 'shop', name: 'payments-v2', matchLabels: { migration: 'payments-v2', severity: 'page' } },
];

function payload(alerts: unknown[]): unknown {
  return { version: '4', status: 'firing', receiver: 'trafficshift', groupKey: '{}:{}', alerts };
}

describe('Alertmanager payloads', () => {
  it('accepts a real version-4 payload with extra fields', () => {
    const parsed = AlertmanagerPayload.safeParse({
      ...(payload([{ status: 'firing', labels: { alertname: 'HighErrorRate', migration: 'checkout-v2' }, annotations: {}, startsAt: '2026-11-27T10:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prom/graph', fingerprint: 'abc' }]) as object),
      groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am', truncatedAlerts: 0,
    });
    expect(parsed.success).toBe(true);
  });

  it.each([
    ['a wrong version', { ...(payload([]) as object), version: '3' }, 'version'],
    ['alerts missing', { version: '4', status: 'firing' }, 'alerts'],
    ['an alert without labels', payload([{ status: 'firing' }]), 'alerts.0.labels'],
    ['an unknown alert status', payload([{ status: 'burning', labels: {} }]), 'alerts.0.status'],
  ])('rejects %s, naming the field', (_what, body, field) => {
    const parsed = AlertmanagerPayload.safeParse(body);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toContain(field);
  });
});

describe('matchAlerts', () => {
  const parse = (alerts: unknown[]) => AlertmanagerPayload.parse(payload(alerts));

  it('matches a firing alert that carries every matchLabel, and names it in the reason', () => {
    const matches = matchAlerts(parse([{ status: 'firing', labels: { alertname: 'HighErrorRate', migration: 'checkout-v2', team: 'shop' }, startsAt: '2026-11-27T10:00:00Z' }]), plans);
    expect(matches.map((m) => [m.name, m.reason])).toEqual([['checkout-v2', 'alert HighErrorRate firing since 2026-11-27T10:00:00Z']]);
  });

  it.each([
    ['a resolved alert', { status: 'resolved', labels: { migration: 'checkout-v2' } }],
    ['an alert missing one of the labels', { status: 'firing', labels: { migration: 'payments-v2' } }],
    ['an alert with a different value', { status: 'firing', labels: { migration: 'checkout-v3' } }],
  ])('does not match %s', (_what, alert) => {
    expect(matchAlerts(parse([alert]), plans)).toEqual([]);
  });

  it('rolls a plan back once however many of its alerts fire', () => {
    const matches = matchAlerts(parse([
      { status: 'firing', labels: { alertname: 'A', migration: 'checkout-v2' } },
      { status: 'firing', labels: { alertname: 'B', migration: 'checkout-v2' } },
    ]), plans);
    expect(matches).toHaveLength(1);
  });

  it('never matches a plan with empty matchLabels', () => {
    expect(matchAlerts(parse([{ status: 'firing', labels: { a: 'b' } }]), [{ namespace: 'x', name: 'y', matchLabels: {} }])).toEqual([]);
  });
});
