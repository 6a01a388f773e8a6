/** `auto`: which evidence decides, on results built by hand (the rule of src/lineage/auto.ts, worked through). */
import { describe, expect, it } from 'vitest';
import { autoComponents, autoResult, TIE_SHARE } from '../../src/lineage/auto.js';
import type { MethodResult } from '../../src/lineage/results.js';

function result(method: string, scores: Record<string, number>, incompatible: string[] = []): MethodResult {
  const ranked = Object.entries(scores)
    .map(([parent, score]) => ({ parent, score }))
    .sort((a, b) => b.score - a.score);
  return {
    method,
    alpha: 0.01,
    layer: 'penultimate',
    children: [{ child: 'c', parent: ranked[0]?.parent ?? null, scores: ranked, incompatible: incompatible.map((parent) => ({ parent, reason: 'x' })) }],
  };
}

describe('auto', () => {
  it('computes weights-cos alone without a probe, taylor-l1 beside it with one', () => {
    expect(autoComponents(false)).toEqual(['weights-cos']);
    expect(autoComponents(true)).toEqual(['weights-cos', 'taylor-l1']);
  });

  it('weights decide when the best is clear: 1 - cos of 0.010 against 0.020 is no tie', () => {
    const auto = autoResult(result('weights-cos', { a: 0.99, b: 0.98 }), result('taylor-l1', { a: -5, b: -1 }));
    expect(auto.method).toBe('auto');
    expect(auto.children[0]).toMatchObject({ parent: 'a', evidence: 'weights' });
  });

  it('features break a tie: 1 - cos of 0.0100 and 0.0102 are within 5% of each other', () => {
    expect(TIE_SHARE).toBe(0.05);
    const auto = autoResult(result('weights-cos', { a: 0.99, b: 0.9898, c: 0.5 }), result('taylor-l1', { a: -5, b: -1, c: 0 }));
    // c has the best feature score but is far in weights: only the tied a and b are reordered.
    expect(auto.children[0].parent).toBe('b');
    expect(auto.children[0].evidence).toBe('combined');
    expect(auto.children[0].scores.map((s) => s.parent)).toEqual(['b', 'a', 'c']);
  });

  it('a tie without a probe stays with the weights', () => {
    const auto = autoResult(result('weights-cos', { a: 0.99, b: 0.9899 }), undefined);
    expect(auto.children[0]).toMatchObject({ parent: 'a', evidence: 'weights' });
  });

  it('features decide when no weight comparison was possible', () => {
    const auto = autoResult(result('weights-cos', {}, ['a', 'b']), result('taylor-l1', { a: -3, b: -2 }));
    expect(auto.children[0]).toMatchObject({ parent: 'b', evidence: 'features' });
  });
});
