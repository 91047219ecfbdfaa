import { runInNewContext } from 'node:vm';
import { jsonEqual } from '../../src/plan/jsonEqual';

it('is equality of the JSON the API server would store', () => {
  expect(jsonEqual({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toBe(true);
  // An undefined field is no field on the wire.
  expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
  expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(true);
  expect(jsonEqual({ a: 1 }, { a: 1, b: null })).toBe(false);
  expect(jsonEqual({ a: 1 }, { a: 2 })).toBe(false);
  expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  expect(jsonEqual([1], { 0: 1 })).toBe(false);
  expect(jsonEqual({ a: [] }, { a: {} })).toBe(false);
  expect(jsonEqual('1', 1)).toBe(false);
});

it('takes an object of another realm (structuredClone under jest, a vm context) for the plain one it copies', () => {
  const foreign = runInNewContext('({ history: [{ at: "t", event: "Started" }] })') as unknown;
  expect(jsonEqual(foreign, { history: [{ at: 't', event: 'Started' }] })).toBe(true);
});
