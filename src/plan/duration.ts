// Go-style durations (`300ms`, `30s`, `1m30s`, `2h`), as kubectl users write them everywhere else.
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;

export class InvalidDuration extends Error {
  constructor(readonly text: string) {
    super(`"${text}" is not a duration: write it like 30s, 1m30s or 2h`);
    this.name = 'InvalidDuration';
  }
}

export function isDuration(text: string): boolean {
  return text === '0' || DURATION.test(text);
}

/** Milliseconds in a Go-style duration. Throws InvalidDuration. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  if (!DURATION.test(text)) throw new InvalidDuration(text);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * (UNIT_MS[unit as string] as number);
  }
  return Math.round(total);
}

/** The shortest Go-style spelling of a whole number of milliseconds: 90000 -> "1m30s". */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}
