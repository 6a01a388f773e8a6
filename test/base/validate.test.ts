/** The JSON-shape guards every reader of untrusted JSON uses, on the values that trip hand-rolled checks. */
import { describe, it, expect } from 'vitest';
import { isFiniteNumber, isIntegerAtLeast, isJsonObject, isNonEmptyString, isStringList } from '../../src/base/validate.js';

describe('JSON-shape guards', () => {
  it('isJsonObject: objects only, not null, lists or primitives', () => {
    expect([{}, { a: 1 }, JSON.parse('{"__proto__": 1}')].map(isJsonObject)).toEqual([true, true, true]);
    expect([null, [], [1], 'x', 3, true, undefined].map(isJsonObject)).toEqual([false, false, false, false, false, false, false]);
  });

  it('isIntegerAtLeast: safe integers from the bound up', () => {
    expect([0, 1, 2 ** 53 - 1].map((v) => isIntegerAtLeast(v, 0))).toEqual([true, true, true]);
    expect([-1, 0.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '1', null].map((v) => isIntegerAtLeast(v, 0))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect([isIntegerAtLeast(0, 1), isIntegerAtLeast(1, 1), isIntegerAtLeast(-3, -3)]).toEqual([false, true, true]);
  });

  it('isFiniteNumber, isNonEmptyString, isStringList', () => {
    expect([0, -1.5, 1e308].map(isFiniteNumber)).toEqual([true, true, true]);
    expect([Number.NaN, Number.NEGATIVE_INFINITY, '1', null].map(isFiniteNumber)).toEqual([false, false, false, false]);
    expect(['a', '', 1, null].map(isNonEmptyString)).toEqual([true, false, false, false]);
    expect([[], ['a', ''], ['a', 1], 'a', { 0: 'a' }].map(isStringList)).toEqual([true, true, false, false, false]);
  });
});
