// A check's thresholds, as the status shows them and as the runner applies them. Both bounds
// are inclusive: `max: 0.01` passes at exactly 0.01, the way people read "at most 1%".
import type { Check } from '../plan/schema';
import { thresholdText, valueText } from '../plan/thresholds';
import type { Measurement } from './types';

function hasThreshold(check: Check): boolean {
  return check.min !== undefined || check.max !== undefined;
}

/** The judgement of a measurement. NoData, Error and Fail pass through unchanged; a Pass with a
 * number is compared with min/max; a Pass without a number cannot meet a threshold, so it is an
 * Error rather than a silent pass. */
export function judge(check: Check, m: Measurement): Measurement {
  if (m.result !== 'Pass') return m;
  if (m.value === null) {
    if (!hasThreshold(check)) return m;
    return { value: null, result: 'Error', message: `no value to compare with ${thresholdText(check)}` };
  }
  if (!Number.isFinite(m.value)) {
    return { value: null, result: 'Error', message: `value ${m.value} is not a finite number` };
  }
  if (check.min !== undefined && m.value < check.min) {
    return { value: m.value, result: 'Fail', message: `${valueText(m.value)} is below min ${check.min}` };
  }
  if (check.max !== undefined && m.value > check.max) {
    return { value: m.value, result: 'Fail', message: `${valueText(m.value)} is above max ${check.max}` };
  }
  return m.message === undefined ? { value: m.value, result: 'Pass' } : { value: m.value, result: 'Pass', message: m.message };
}

export { thresholdText };
