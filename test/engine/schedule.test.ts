import { inChangeWindow, localTime, nextMinuteBoundary } from '../../src/engine/schedule';
import { Schedule } from '../../src/plan/schema';

const utc = (s: string) => Date.parse(s);
const schedule = (timeZone: string, windows: Array<{ days: string[]; start: string; end: string }>) => Schedule.parse({ timeZone, windows });

const acrossMidnight = schedule('UTC', [{ days: ['Mon'], start: '22:00', end: '02:00' }]);
const berlinOffice = schedule('Europe/Berlin', [{ days: ['Mon', 'Tue', 'Wed', 'Thu'], start: '09:00', end: '16:00' }]);
const newYork = schedule('America/New_York', [{ days: ['Fri'], start: '17:00', end: '18:00' }]);

describe('change windows', () => {
  it.each([
    ['across midnight: Monday 23:00 is inside (the window starts Monday)', acrossMidnight, '2026-11-23T23:00:00Z', true],
    ['across midnight: Tuesday 01:59 is inside (it belongs to Monday)', acrossMidnight, '2026-11-24T01:59:00Z', true],
    ['across midnight: Tuesday 02:00 is outside (end is exclusive)', acrossMidnight, '2026-11-24T02:00:00Z', false],
    ['across midnight: Monday 01:00 is outside (Sunday has no window)', acrossMidnight, '2026-11-23T01:00:00Z', false],
    ['across midnight: Tuesday 22:30 is outside (only Monday starts one)', acrossMidnight, '2026-11-24T22:30:00Z', false],
    ['Berlin winter (UTC+1): 08:30 UTC is 09:30 local, inside', berlinOffice, '2026-01-13T08:30:00Z', true],
    ['Berlin winter (UTC+1): 07:30 UTC is 08:30 local, outside', berlinOffice, '2026-01-13T07:30:00Z', false],
    ['Berlin summer (UTC+2): 07:30 UTC is 09:30 local, inside', berlinOffice, '2026-07-14T07:30:00Z', true],
    ['Berlin summer (UTC+2): 14:30 UTC is 16:30 local, outside', berlinOffice, '2026-07-14T14:30:00Z', false],
    ['Berlin, the Monday the clocks went forward (2026-03-30 09:00 local = 07:00 UTC), inside', berlinOffice, '2026-03-30T07:00:00Z', true],
    ['Berlin, Friday is not a window day', berlinOffice, '2026-01-16T10:00:00Z', false],
    ['New York: Friday 22:30 UTC is 17:30 local (UTC-5), inside', newYork, '2026-11-27T22:30:00Z', true],
    ['New York: Saturday 00:30 UTC is still Friday 19:30 local, outside', newYork, '2026-11-28T00:30:00Z', false],
    ['no schedule: always inside', undefined, '2026-11-28T00:30:00Z', true],
  ])('%s', (_name, sched, when, inside) => {
    expect(inChangeWindow(sched, utc(when))).toBe(inside);
  });

  it('reads local weekday and minutes in the zone', () => {
    expect(localTime('Asia/Kolkata', utc('2026-11-27T18:45:00Z'))).toEqual({ day: 'Sat', minutes: 15 }); // UTC+5:30
  });

  it('polls at the next minute boundary', () => {
    expect(nextMinuteBoundary(utc('2026-11-27T10:00:42.500Z'))).toBe(utc('2026-11-27T10:01:00Z'));
    expect(nextMinuteBoundary(utc('2026-11-27T10:00:00Z'))).toBe(utc('2026-11-27T10:01:00Z'));
  });
});
