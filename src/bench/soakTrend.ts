// The soak's verdict on a series of samples: does a quantity (heap, RSS, open handles) grow
// steadily, or only wobble? Pure, so the rule is unit-tested (test/bench/soakTrend.test.ts).
//
// The rule, per quantity:
// 1. Drop the first `warmupFraction` (20%) of the run by time, and at least `minWarmupMs` (1 min):
//    caches fill, the JIT compiles, connection pools open, and the heap grows to its working size
//    (under the soak's load the controller's heap floor climbs for about a minute, 54 -> 64 MiB,
//    then holds; a 3-minute run judged after 36 s read that climb as a leak).
// 2. Split the rest into equal spans of time of at least `minBucketMs` (2 min; at most 24 spans;
//    `buckets` overrides), and take each span's minimum: the floor. A span must hold a major GC:
//    under the soak's load the controller's heap climbs 60 -> 100+ MiB between them, 30-60 s
//    apart, so a shorter span that ends mid-climb reads as a leak (3-minute runs with 24 s spans
//    did, every time the run ended on a climb). Hence a run needs about 8 minutes to be judged. A garbage-collected heap is a saw-tooth, and where a run ends on the tooth would tilt
//    a fit through every point; what a leak raises is what survives collection, the floor.
// 3. Fit a least-squares line through the floors (time of the minimum, value): its slope per
//    minute, and the growth it predicts over the judged span.
// 4. Growing (FAIL) when the slope is above `maxSlopePerMin` AND the fitted growth is above
//    `maxGrowth` (SOAK_RULES below): the slope keeps a long run honest, the growth keeps the noise
//    of a short run (floors wobble by a few MiB) from reading as a leak. So a short run only
//    catches a fast leak: over a 3-minute run the heap must gain 8 MiB in 2.4 minutes.
// Fewer than 3 floors (a run too short to judge) is reported as such and never fails.

export interface SoakSample {
  /** Milliseconds since the soak started. */
  tMs: number;
  value: number;
}

export interface TrendRule {
  /** Bytes (or handles) per minute. */
  maxSlopePerMin: number;
  /** Bytes (or handles) over the judged span. */
  maxGrowth: number;
  warmupFraction?: number;
  minWarmupMs?: number;
  minBucketMs?: number;
  buckets?: number;
}

export interface Trend {
  /** Least-squares slope of the floors, per minute (0 when not judged). */
  slopePerMin: number;
  /** slopePerMin × the judged span in minutes. */
  growth: number;
  /** The floors the line was fitted through. */
  floors: SoakSample[];
  /** False when too few samples were left after the warm-up to judge. */
  judged: boolean;
  growing: boolean;
}

const MINUTE = 60_000;

/** Least-squares slope of y over x (0 for fewer than 2 points or no spread in x). */
export function leastSquaresSlope(points: readonly SoakSample[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.tMs, 0) / n;
  const my = points.reduce((s, p) => s + p.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.tMs - mx) * (p.value - my);
    den += (p.tMs - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The minimum sample of each of `buckets` equal spans of time from the first sample to the last. */
export function floors(samples: readonly SoakSample[], buckets: number): SoakSample[] {
  if (samples.length === 0) return [];
  const start = samples[0]!.tMs;
  const span = samples[samples.length - 1]!.tMs - start;
  const lows: Array<SoakSample | undefined> = new Array(buckets).fill(undefined);
  for (const s of samples) {
    const i = span === 0 ? 0 : Math.min(buckets - 1, Math.floor(((s.tMs - start) / span) * buckets));
    const low = lows[i];
    if (low === undefined || s.value < low.value) lows[i] = s;
  }
  return lows.filter((s): s is SoakSample => s !== undefined);
}

export function trend(samples: readonly SoakSample[], rule: TrendRule): Trend {
  const sorted = [...samples].sort((a, b) => a.tMs - b.tMs);
  if (sorted.length === 0) return { slopePerMin: 0, growth: 0, floors: [], judged: false, growing: false };
  const first = sorted[0]!.tMs;
  const last = sorted[sorted.length - 1]!.tMs;
  const cut = first + Math.max((last - first) * (rule.warmupFraction ?? 0.2), rule.minWarmupMs ?? MINUTE);
  const kept = sorted.filter((s) => s.tMs >= cut);
  if (kept.length === 0) return { slopePerMin: 0, growth: 0, floors: [], judged: false, growing: false };
  const spanMin = (kept[kept.length - 1]!.tMs - kept[0]!.tMs) / MINUTE;
  const buckets = rule.buckets ?? Math.min(24, Math.floor((spanMin * MINUTE) / (rule.minBucketMs ?? 2 * MINUTE)));
  const lows = buckets >= 3 ? floors(kept, buckets) : [];
  if (lows.length < 3) return { slopePerMin: 0, growth: 0, floors: lows, judged: false, growing: false };
  const slopePerMin = leastSquaresSlope(lows) * MINUTE;
  const growth = slopePerMin * spanMin;
  return { slopePerMin, growth, floors: lows, judged: true, growing: slopePerMin > rule.maxSlopePerMin && growth > rule.maxGrowth };
}

const MiB = 2 ** 20;

/** The soak's thresholds. Heap is the sharp test (what the controller keeps alive); RSS also
 * counts the allocator and native buffers, which settle slowly, so its bar is higher. */
export const SOAK_RULES = {
  heap: { maxSlopePerMin: 0.25 * MiB, maxGrowth: 8 * MiB },
  rss: { maxSlopePerMin: 1 * MiB, maxGrowth: 24 * MiB },
  // Handles (sockets, timers, watches) swing by ten with the plans alive; a leak adds one per
  // plan or per request, hundreds an hour.
  handles: { maxSlopePerMin: 0.5, maxGrowth: 20 },
} as const satisfies Record<string, TrendRule>;

export type SoakQuantity = keyof typeof SOAK_RULES;

export interface SoakVerdict {
  pass: boolean;
  trends: Record<SoakQuantity, Trend>;
  /** One line per quantity that grew, saying by how much. */
  reasons: string[];
}

export function judgeSoak(series: Record<SoakQuantity, readonly SoakSample[]>): SoakVerdict {
  const trends = {
    heap: trend(series.heap, SOAK_RULES.heap),
    rss: trend(series.rss, SOAK_RULES.rss),
    handles: trend(series.handles, SOAK_RULES.handles),
  };
  const reasons: string[] = [];
  const mib = (n: number): string => `${(n / MiB).toFixed(2)} MiB`;
  for (const q of ['heap', 'rss'] as const) {
    const t = trends[q];
    if (t.growing) reasons.push(`${q} grows steadily: floor slope ${mib(t.slopePerMin)}/min (limit ${mib(SOAK_RULES[q].maxSlopePerMin)}), ${mib(t.growth)} over the judged span (limit ${mib(SOAK_RULES[q].maxGrowth)})`);
  }
  const h = trends.handles;
  if (h.growing) reasons.push(`open handles keep growing: floor slope ${h.slopePerMin.toFixed(2)}/min (limit ${SOAK_RULES.handles.maxSlopePerMin}), +${h.growth.toFixed(1)} over the judged span (limit ${SOAK_RULES.handles.maxGrowth})`);
  return { pass: reasons.length === 0, trends, reasons };
}
