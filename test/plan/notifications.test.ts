// spec.notifications: formats, the PagerDuty routing key, and `every`.
import { MigrationPlanSpec } from '../../src/plan/schema';

const base = { targets: [{ provider: 'nginx', nginx: { ingress: 'a', canaryIngress: 'b' } }], steps: [{ weight: 100 }] };
const parse = (notification: Record<string, unknown>) => MigrationPlanSpec.safeParse({ ...base, notifications: [notification] });
const problems = (notification: Record<string, unknown>) => {
  const r = parse(notification);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const pd = { url: 'https://events.pagerduty.example/v2/enqueue', format: 'pagerduty', routingKeyFrom: { secretKeyRef: { name: 'pd', key: 'key' } } };

describe('spec.notifications', () => {
  it('defaults to slack and takes the contract\'s two entries', () => {
    const r = MigrationPlanSpec.parse({
      ...base,
      notifications: [
        { urlFrom: { secretKeyRef: { name: 'slack', key: 'url' } }, events: ['Started', 'RolledBack', 'Succeeded'], every: '15m' },
        { ...pd, events: ['RollingBack', 'RtoMissed', 'RollbackValidationFailed'] },
      ],
    });
    expect(r.notifications?.map((n) => n.format)).toEqual(['slack', 'pagerduty']);
  });

  it('pagerduty needs routingKeyFrom; no other format takes one', () => {
    expect(problems({ url: pd.url, format: 'pagerduty', events: ['RollingBack'] })).toEqual(['notifications.0.routingKeyFrom: format pagerduty needs routingKeyFrom']);
    expect(problems({ url: 'https://chat.example', format: 'teams', routingKeyFrom: pd.routingKeyFrom, events: ['Started'] })).toEqual([
      'notifications.0.routingKeyFrom: only format pagerduty takes a routing key (this one is teams)',
    ]);
  });

  it('pagerduty takes only events it triggers or resolves on, and no `every`', () => {
    expect(problems({ ...pd, events: ['RollingBack', 'Started', 'Succeeded'] })).toEqual([
      expect.stringMatching(/^notifications\.0\.events\.1: format pagerduty triggers on .*; Started is neither$/),
    ]);
    expect(problems({ ...pd, events: ['RollingBack'], every: '15m' })).toEqual([expect.stringMatching(/^notifications\.0\.every: /)]);
  });

  it('`every` is a duration of at least a minute, and Progress needs it', () => {
    expect(problems({ url: 'https://chat.example', events: ['Started'], every: '30s' })).toEqual(['notifications.0.every: must be at least 1m']);
    expect(problems({ url: 'https://chat.example', events: ['Progress'] })).toEqual(['notifications.0.events.0: Progress is sent every `every`: set every (e.g. 15m)']);
    expect(problems({ url: 'https://chat.example', events: ['Progress'], every: '1h' })).toEqual([]);
  });

  it('still needs exactly one of url or urlFrom, and knows no other format', () => {
    expect(problems({ events: ['Started'] })).toEqual(['notifications.0: needs exactly one of url or urlFrom']);
    expect(problems({ url: 'https://chat.example', format: 'discord', events: ['Started'] })).toEqual([expect.stringMatching(/^notifications\.0\.format: /)]);
  });
});
