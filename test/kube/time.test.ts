import { metaTime, microTime } from '../../src/kube';

describe('microTime', () => {
  it.each([
    ['2026-11-27T09:48:29.142Z', '2026-11-27T09:48:29.142000Z'],
    ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000000Z'],
    ['1999-12-31T23:59:59.999Z', '1999-12-31T23:59:59.999000Z'],
  ])('%s -> %s (exactly six fractional digits)', (iso, expected) => {
    expect(microTime(new Date(iso))).toBe(expected);
    expect(microTime(new Date(iso))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});

describe('metaTime', () => {
  it('drops the fraction, as the server stores metav1.Time', () => {
    expect(metaTime(new Date('2026-11-27T09:48:29.142Z'))).toBe('2026-11-27T09:48:29Z');
  });
});
