// How a check's thresholds and measured values read in status, events and the CLI. One place,
// so the engine's messages and the check runner's status agree.
import type { Check } from './schema';

/** "<= 0.01", ">= 5", "0.1..0.5", or "2xx" for a webhook judged by its status alone. */
export function thresholdText(check: Check): string {
  const { min, max } = check;
  if (min !== undefined && max !== undefined) return `${min}..${max}`;
  if (max !== undefined) return `<= ${max}`;
  if (min !== undefined) return `>= ${min}`;
  return check.webhook !== undefined ? '2xx' : 'any value';
}

/** A measured value with four significant digits: 0.1667, not 0.16666666666666669. */
export function valueText(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value);
}
