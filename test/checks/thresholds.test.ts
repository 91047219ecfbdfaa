import { Check } from '../../src/plan/schema';
import { judge, thresholdText } from '../../src/checks/thresholds';

const metric = (bounds: { min?: number; max?: number }) => Check.parse({ name: 'c', query: 'up', ...bounds });
const hook = (bounds: { min?: number; max?: number } = {}) => Check.parse({ name: 'c', webhook: { url: 'http://h/x' }, ...bounds });

describe('thresholdText', () => {
  it.each([
    [metric({ max: 0.01 }), '<= 0.01'],
    [metric({ min: 5 }), '>= 5'],
    [metric({ min: 0.1, max: 0.5 }), '0.1..0.5'],
    [hook(), '2xx'],
    [hook({ max: 3 }), '<= 3'],
  ])('%#: %s', (check, text) => {
    expect(thresholdText(check)).toBe(text);
  });
});

describe('judge', () => {
  it.each([
    [{ max: 0.5 }, 0.5, 'Pass'],
    [{ max: 0.5 }, 0.5000001, 'Fail'],
    [{ min: 5 }, 5, 'Pass'],
    [{ min: 5 }, 4.999, 'Fail'],
    [{ min: 1, max: 2 }, 1, 'Pass'],
    [{ min: 1, max: 2 }, 2, 'Pass'],
    [{ min: 1, max: 2 }, 2.1, 'Fail'],
    [{ min: 1, max: 2 }, 0.9, 'Fail'],
  ] as const)('bounds %j, value %d -> %s (inclusive)', (bounds, value, result) => {
    expect(judge(metric(bounds), { value, result: 'Pass' }).result).toBe(result);
  });

  it('keeps the value and says which bound broke', () => {
    expect(judge(metric({ max: 0.01 }), { value: 0.2, result: 'Pass' })).toStrictEqual({ value: 0.2, result: 'Fail', message: '0.2 is above max 0.01' });
  });

  it.each(['NoData', 'Error', 'Fail'] as const)('%s stays %s, never becomes a pass', (result) => {
    expect(judge(metric({ max: 1 }), { value: null, result, message: 'why' })).toStrictEqual({ value: null, result, message: 'why' });
  });

  it('a pass without a number cannot meet a threshold', () => {
    expect(judge(hook({ max: 1 }), { value: null, result: 'Pass' }).result).toBe('Error');
  });

  it('a pass without a number and without thresholds stays a pass', () => {
    expect(judge(hook(), { value: null, result: 'Pass' })).toStrictEqual({ value: null, result: 'Pass' });
  });
});
