import { evaluateRound } from '../../src/engine/round';
import { thresholdText, valueText } from '../../src/plan/thresholds';
import { Analysis, Check, type CheckStatus } from '../../src/plan/schema';

const analysis = (noData: 'hold' | 'fail', checks: unknown[]) => Analysis.parse({ noData, checks });
const critical = { name: 'err', query: 'q', max: 0.01, severity: 'critical', failureLimit: 2 };
const prior = (consecutiveFailures: number): CheckStatus[] => [
  { name: 'err', value: 1, threshold: '<= 0.01', result: 'Fail', consecutiveFailures, at: '2026-01-01T00:00:00.000Z' },
];
const roundWith = (result: 'Pass' | 'Fail' | 'NoData' | 'Error') => ({ completedAt: 0, outcomes: [{ name: 'err', value: result === 'Fail' ? 0.5 : null, result }] });

describe('round evaluation', () => {
  it.each([
    ['critical pass resets the count', 'hold', critical, 1, 'Pass', 'Pass', 0],
    ['critical breach below its limit holds', 'hold', critical, 0, 'Fail', 'Hold', 1],
    ['critical breach reaching its limit fails', 'hold', critical, 1, 'Fail', 'Fail', 2],
    ['NoData under hold holds and keeps the count', 'hold', critical, 1, 'NoData', 'Hold', 1],
    ['Error under hold holds and keeps the count', 'hold', critical, 1, 'Error', 'Hold', 1],
    ['NoData under fail is a breach', 'fail', critical, 1, 'NoData', 'Fail', 2],
    ['warning breach holds, never fails', 'hold', { ...critical, severity: 'warning', failureLimit: 1 }, 5, 'Fail', 'Hold', 6],
    ['warning NoData holds', 'hold', { ...critical, severity: 'warning' }, 0, 'NoData', 'Hold', 0],
    ['info breach is recorded only', 'hold', { ...critical, severity: 'info', failureLimit: 1 }, 0, 'Fail', 'Pass', 1],
    ['info NoData is recorded only', 'fail', { ...critical, severity: 'info' }, 0, 'NoData', 'Pass', 1],
  ] as const)('%s', (_name, noData, check, before, result, verdict, after) => {
    const e = evaluateRound(analysis(noData, [check]), prior(before), roundWith(result));
    expect(e.verdict).toBe(verdict);
    expect(e.checks[0]).toMatchObject({ name: 'err', result, consecutiveFailures: after });
  });

  it('treats a check missing from the round as an Error, never a pass', () => {
    const e = evaluateRound(analysis('hold', [critical]), undefined, { completedAt: 0, outcomes: [] });
    expect(e.verdict).toBe('Hold');
    expect(e.checks[0]?.result).toBe('Error');
  });

  it.each([
    [{ name: 'a', query: 'q', max: 0.01 }, '<= 0.01'],
    [{ name: 'a', query: 'q', min: 5 }, '>= 5'],
    [{ name: 'a', query: 'q', min: 1, max: 2 }, '1..2'],
    [{ name: 'a', webhook: { url: 'http://x/smoke' } }, '2xx'],
    [{ name: 'a', webhook: { url: 'http://x/smoke' }, max: 0.05 }, '<= 0.05'],
  ])('writes the threshold of %j as %s', (check, text) => {
    expect(thresholdText(Check.parse(check))).toBe(text);
  });

  it('writes a breaching value with four significant digits, not a float dump', () => {
    const check = Check.parse({ name: 'error-rate', webhook: { url: 'http://x/e' }, max: 0.05 });
    const e = evaluateRound(analysis('hold', [check]), undefined, { completedAt: 0, outcomes: [{ name: 'error-rate', value: 1 / 6, result: 'Fail' }] });
    expect(e.message).toContain('error-rate=0.1667 breaches <= 0.05');
    expect(valueText(0.16666666666666669)).toBe('0.1667');
  });
});
