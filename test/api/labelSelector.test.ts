// Kubernetes label selector strings, parsed and matched as apimachinery's labels.Parse does.
import { InvalidSelector, matchesLabels, parseLabelSelector } from '../../src/api/labelSelector';

describe('parseLabelSelector', () => {
  it.each([
    ['', []],
    ['a=b', [{ key: 'a', op: 'in', values: ['b'] }]],
    ['a == b', [{ key: 'a', op: 'in', values: ['b'] }]],
    ['a!=b', [{ key: 'a', op: 'notin', values: ['b'] }]],
    ['a=', [{ key: 'a', op: 'in', values: [''] }]],
    ['a in (x, y,x)', [{ key: 'a', op: 'in', values: ['x', 'y'] }]],
    ['a notin (x,,y)', [{ key: 'a', op: 'notin', values: ['x', '', 'y'] }]],
    ['a', [{ key: 'a', op: 'exists' }]],
    ['!a', [{ key: 'a', op: 'doesNotExist' }]],
    ['a>3,b<-1', [{ key: 'a', op: 'gt', value: 3 }, { key: 'b', op: 'lt', value: -1 }]],
    ['app.kubernetes.io/name=web, !canary', [{ key: 'app.kubernetes.io/name', op: 'in', values: ['web'] }, { key: 'canary', op: 'doesNotExist' }]],
  ])('%j', (text, requirements) => {
    expect(parseLabelSelector(text)).toEqual(requirements);
  });

  it.each([['a in ()'], ['a in (x'], ['a in x'], ['a=b c'], ['a,'], [','], ['=b'], ['!'], ['a>x'], ['a b'], ['Foo/x=1'], ['-a=1'], ['a=-b'], [`a=${'x'.repeat(64)}`], [`${'k'.repeat(64)}=1`], ['a==='], ['a!b']])('%j is refused', (text) => {
    expect(() => parseLabelSelector(text)).toThrow(InvalidSelector);
  });
});

describe('matchesLabels', () => {
  const labels = { team: 'checkout', tier: 'web', replicas: '3' };
  it.each([
    ['', true],
    ['team=checkout', true],
    ['team=payments', false],
    ['team!=payments', true],
    ['owner!=bob', true],
    ['owner notin (bob)', true],
    ['owner in (bob)', false],
    ['team in (payments,checkout)', true],
    ['tier', true],
    ['owner', false],
    ['!owner', true],
    ['!tier', false],
    ['replicas>2', true],
    ['replicas<3', false],
    ['team>1', false],
    ['owner<1', false],
    ['team=checkout,tier=api', false],
  ])('%j on team=checkout,tier=web,replicas=3: %s', (text, expected) => {
    expect(matchesLabels(parseLabelSelector(text), labels)).toBe(expected);
  });
});
