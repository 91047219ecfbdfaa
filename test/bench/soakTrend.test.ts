// The soak's leak rule (src/bench/soakTrend.ts) on made-up series: what a healthy controller's
// heap looks like (flat, or a GC saw-tooth), and what a leak looks like.
import { floors, judgeSoak, leastSquaresSlope, trend, SOAK_RULES, type SoakSample } from '../../src/bench/soakTrend';

const MiB = 2 ** 20;
const MINUTE = 60_000;

/** One sample every 5 s for `minutes`, valued by f(t in minutes). */
function series(minutes: number, f: (min: number) => number): SoakSample[] {
  return Array.from({ length: (minutes * MINUTE) / 5000 + 1 }, (_, i) => ({ tMs: i * 5000, value: f((i * 5000) / MINUTE) }));
}

/** A seeded wobble in [-1, 1), so noisy series are the same on every run. */
function noise(seed: number): (ignored?: number) => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 30) - 1;
  };
}

describe('soak trend', () => {
  test('least squares finds the slope of a line', () => {
    expect(leastSquaresSlope([{ tMs: 0, value: 1 }, { tMs: 10, value: 21 }, { tMs: 20, value: 41 }])).toBeCloseTo(2);
    expect(leastSquaresSlope([{ tMs: 5, value: 1 }])).toBe(0);
  });

  test('floors are the minimum of each span of time', () => {
    const f = floors(series(6, (m) => 100 - m), 6);
    expect(f).toHaveLength(6);
    expect(f.map((s) => s.value)[0]).toBeGreaterThan(f.map((s) => s.value)[5] as number);
  });

  test('a flat heap with noise passes', () => {
    const wobble = noise(1);
    const heap = series(30, () => 60 * MiB + wobble(0) * 3 * MiB);
    const t = trend(heap, SOAK_RULES.heap);
    expect(t.judged).toBe(true);
    expect(t.growing).toBe(false);
  });

  test('a leaking heap fails: 1 MiB a minute under the same noise', () => {
    const wobble = noise(2);
    const heap = series(30, (m) => 60 * MiB + m * MiB + wobble(0) * 3 * MiB);
    const verdict = judgeSoak({ heap, rss: series(30, () => 170 * MiB), handles: series(30, () => 12) });
    expect(verdict.pass).toBe(false);
    expect(verdict.trends.heap.growing).toBe(true);
    expect(verdict.reasons.join('\n')).toMatch(/heap grows steadily/);
  });

  test('a GC saw-tooth passes wherever the run ends on the tooth', () => {
    // Climbs 20 MiB over 50 s, then a collection drops it back: the shape a healthy heap has.
    for (const end of [29, 29.5, 29.8, 30]) {
      const heap = series(end, (m) => 50 * MiB + ((m * 60) % 50) / 50 * 20 * MiB);
      expect(trend(heap, SOAK_RULES.heap).growing).toBe(false);
    }
  });

  test('a saw-tooth whose floor rises is a leak', () => {
    const heap = series(30, (m) => 50 * MiB + m * 0.8 * MiB + ((m * 60) % 50) / 50 * 20 * MiB);
    expect(trend(heap, SOAK_RULES.heap).growing).toBe(true);
  });

  test('growth during the warm-up (the first 20%) is not a leak', () => {
    const heap = series(30, (m) => (m < 5 ? 20 * MiB + m * 8 * MiB : 60 * MiB));
    expect(trend(heap, SOAK_RULES.heap).growing).toBe(false);
  });

  test('a short run is judged after its first minute at least', () => {
    // 3 minutes: 20% would be 36 s, inside the climb to the working size.
    const heap = series(3, (m) => (m < 1 ? 30 * MiB + m * 34 * MiB : 64 * MiB));
    expect(trend(heap, { ...SOAK_RULES.heap, buckets: 6 }).growing).toBe(false);
    expect(trend(heap, { ...SOAK_RULES.heap, buckets: 6, minWarmupMs: 0 }).growing).toBe(true);
  });

  test('open handles that keep growing fail; handles that swing with the plans alive pass', () => {
    const wobble = noise(3);
    const swinging = series(30, () => Math.round(12 + wobble(0) * 6));
    const leaking = series(30, (m) => Math.round(12 + m * 3 + wobble(0) * 6));
    const flat = { heap: series(30, () => 60 * MiB), rss: series(30, () => 170 * MiB) };
    expect(judgeSoak({ ...flat, handles: swinging }).pass).toBe(true);
    const verdict = judgeSoak({ ...flat, handles: leaking });
    expect(verdict.pass).toBe(false);
    expect(verdict.reasons.join('\n')).toMatch(/open handles keep growing/);
  });

  test('a run too short to hold three 2-minute spans after its warm-up is not judged', () => {
    expect(trend(series(3, (m) => 60 * MiB + m * 10 * MiB), SOAK_RULES.heap).judged).toBe(false);
    expect(trend(series(8, (m) => 60 * MiB + m * 10 * MiB), SOAK_RULES.heap)).toMatchObject({ judged: true, growing: true });
  });

  test('a run too short to judge is said so, and passes', () => {
    const t = trend([{ tMs: 0, value: 1 }, { tMs: 5000, value: 2 }], SOAK_RULES.heap);
    expect(t.judged).toBe(false);
    expect(t.growing).toBe(false);
  });
});
