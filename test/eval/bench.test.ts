/**
 * The benchmark on a tiny zoo trained inside the test (3 MLP roots, two generations of two
 * children each), plus the statistics helpers and the predictions table against hand-worked values.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildZoo, type ManifestModel } from '../../src/train/zoo-build.js';
import type { ZooSpec } from '../../src/train/zoo-spec.js';
import { ALPHA_GRID, benchmarkZoo, chooseAlpha, type BenchResult } from '../../src/eval/bench.js';
import { bootstrapInterval } from '../../src/eval/stats.js';
import { splitChildren } from '../../src/eval/split.js';
import { ancestorAt, settingGroup } from '../../src/eval/zoo.js';
import { readZooManifest } from '../../src/zoo/manifest.js';
import { benchTables } from '../../src/eval/format.js';
import { Predictions } from '../../src/eval/predictions.js';
import { type MethodResult, scoreMatrix } from '../../src/lineage/learning-free.js';
import { readProbe } from '../../src/lineage/probe.js';
import { allMethodNames } from '../../src/lineage/methods.js';

const spec: ZooSpec = {
  name: 'bench-test',
  probes: 128,
  evalLimit: 200,
  roots: [{ name: 'mlp', count: 3, arch: 'mlp', hyper: { sizes: [784, 64, 10] }, task: 'mnist', train: { optimizer: 'sgd', lr: 0.05, steps: 100, batch: 64 } }],
  generations: [
    { children: 2, tasks: ['fashion-mini'], settings: ['full', 'fewshot:10'], head: 'replace', train: { optimizer: 'sgd', lr: 0.02, steps: 40, batch: 64 } },
    { children: 2, tasks: ['mnist:rot=90'], head: 'replace', train: { optimizer: 'sgd', lr: 0.02, steps: 40, batch: 64 } },
  ],
};

const METHODS = 'direct-l1,taylor-l1,linearized-l2,weights-l2';

describe('bootstrapInterval', () => {
  it('is degenerate when every outcome agrees, and NaN when there is none', () => {
    expect(bootstrapInterval([true, true, true])).toEqual({ low: 1, high: 1 });
    expect(bootstrapInterval([false, false])).toEqual({ low: 0, high: 0 });
    const empty = bootstrapInterval([]);
    expect(Number.isNaN(empty.low) && Number.isNaN(empty.high)).toBe(true);
  });

  it('matches the normal approximation p +- 1.96 sqrt(p(1-p)/n) on a large sample', () => {
    const outcomes = Array.from({ length: 400 }, (_, i) => i % 4 !== 0); // p = 0.75
    const { low, high } = bootstrapInterval(outcomes, { resamples: 4000, seed: 3 });
    const half = 1.96 * Math.sqrt((0.75 * 0.25) / 400); // 0.0424
    expect(low).toBeCloseTo(0.75 - half, 1);
    expect(high).toBeCloseTo(0.75 + half, 1);
    expect(Math.abs(low - (0.75 - half))).toBeLessThan(0.015);
    expect(Math.abs(high - (0.75 + half))).toBeLessThan(0.015);
  });

  it('is deterministic for a seed', () => {
    const outcomes = [true, false, true, true, false, true];
    expect(bootstrapInterval(outcomes, { seed: 7 })).toEqual(bootstrapInterval(outcomes, { seed: 7 }));
  });
});

describe('splitChildren', () => {
  it('splits disjointly, covers every id, honours the fraction and the seed', () => {
    const ids = Array.from({ length: 20 }, (_, i) => `c${i}`);
    const s = splitChildren(ids, 5, 0.3);
    expect(s.validation).toHaveLength(6);
    expect(s.test).toHaveLength(14);
    expect(s.validation.filter((id) => s.test.includes(id))).toEqual([]);
    expect([...s.validation, ...s.test].sort()).toEqual([...ids].sort());
    expect(splitChildren([...ids].reverse(), 5, 0.3)).toEqual(s);
    expect(splitChildren(['a', 'b'], 0)).toSatisfy((x: { validation: string[]; test: string[] }) => x.validation.length === 1 && x.test.length === 1);
  });
});

describe('settingGroup and chooseAlpha', () => {
  it('names task kinds by the task id and keeps settings otherwise', () => {
    expect(settingGroup('mnist:seg=56x3', 'full')).toBe('segmentation');
    expect(settingGroup('mnist:det=56x1', 'full')).toBe('detection');
    expect(settingGroup('fashion', 'fewshot:10')).toBe('fewshot:10');
  });

  it('picks the grid value with the best validation accuracy, the smaller one on ties', () => {
    const hits: Record<number, boolean[]> = { 0.01: [true, false], 0.1: [true, true], 1: [true, true] };
    const c = chooseAlpha('taylor-l1', [0.01, 0.1, 1], (a) => hits[a]);
    expect(c.alpha).toBe(0.1);
    expect(c.validationAccuracy).toBe(1);
    expect(c.grid).toEqual([
      { alpha: 0.01, accuracy: 0.5 },
      { alpha: 0.1, accuracy: 1 },
      { alpha: 1, accuracy: 1 },
    ]);
  });
});

// The zoo and its fixed-alpha benchmark, made once for the two describes below.
let dir = '';
let models: ManifestModel[] = [];
let fixed: BenchResult;
let trained: Promise<void> | undefined;
const trainZoo = (): Promise<void> =>
  (trained ??= (async () => {
    dir = mkdtempSync(join(tmpdir(), 'zoo-bench-'));
    models = (await buildZoo(spec, { out: dir, workers: 0 })).manifest.models;
    fixed = await benchmarkZoo(dir, { methods: METHODS, alpha: 0.01, seed: 1, resamples: 200 });
  })());

describe('benchmarkZoo on a trained zoo', () => {
  beforeAll(trainZoo, 120_000);

  it('reports every setting, method and generation pair with accuracies in [0, 1] inside their intervals', () => {
    expect(models.filter((m) => m.generation === 0)).toHaveLength(3);
    expect(fixed.zoo.children).toBe(18);
    expect(fixed.options.methods).toEqual(METHODS.split(','));
    expect(fixed.settings.map((s) => s.setting)).toEqual(['all', 'fewshot:10', 'full']);
    expect(fixed.settings.map((s) => s.children)).toEqual([18, 3, 15]);
    expect(fixed.crossGeneration.map((c) => [c.candidates, c.children])).toEqual([
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
    expect(fixed.crossGeneration.map((c) => c.methods[0].total)).toEqual([6, 12, 12]);
    for (const row of [...fixed.settings, ...fixed.crossGeneration]) {
      expect(row.methods.map((c) => c.method)).toEqual(METHODS.split(','));
      for (const c of row.methods) {
        expect(c.accuracy).toBeGreaterThanOrEqual(0);
        expect(c.accuracy).toBeLessThanOrEqual(1);
        expect(c.interval.low).toBeLessThanOrEqual(c.accuracy);
        expect(c.interval.high).toBeGreaterThanOrEqual(c.accuracy);
      }
    }
    expect(fixed.settings[0].methods.find((c) => c.method === 'taylor-l1')!.alpha).toBe(0.01);
    expect(fixed.timing[0].pairs).toBe(6 * 3 + 12 * 6 + 12 * 3);
    expect(JSON.parse(JSON.stringify(fixed)).settings).toHaveLength(3);
    expect(benchTables(fixed, true)).toContain('| G1 -> G3 |');
  });

  it('scores the family tree of the whole zoo against the manifest (issue 18)', () => {
    const tree = fixed.tree!;
    expect(tree.method).toBe('weights-cos');
    // Truth from the builder's manifest: 18 models with a parent, 3 roots.
    expect(tree.total).toBe(models.filter((m) => m.parent !== null).length);
    expect(tree.rootsTotal).toBe(3);
    expect(tree.correct + tree.reversed).toBeLessThanOrEqual(tree.total);
    expect(tree.placement).toBeCloseTo((tree.correct + tree.reversed) / tree.total, 12);
    // Three unrelated MLP roots: their families are told apart by weights alone.
    expect(tree.rootsFound).toBe(3);
    expect(benchTables(fixed)).toContain('Family tree of the whole zoo (lineage tree, method weights-cos)');
  });

  it('counts a hit exactly when the best candidate is the true parent (checked against the manifest)', () => {
    for (const method of METHODS.split(',')) {
      const hits = fixed.children.filter((c) => c.predictions[method] === models.find((m) => m.id === c.id)!.parent).length;
      expect(fixed.settings[0].methods.find((c) => c.method === method)!.correct).toBe(hits);
    }
    // Parent-generation candidates: a first-generation child's prediction is a root, a second's a first-generation model.
    for (const c of fixed.children) {
      const p = c.predictions['weights-l2'];
      expect(p === null || models.find((m) => m.id === p)!.generation === c.generation - 1).toBe(true);
    }
    // Weight distance separates independently trained roots by far: the grandparent is always found.
    const g1g3 = fixed.crossGeneration.find((c) => c.candidates === 0 && c.children === 2)!;
    expect(g1g3.methods.find((c) => c.method === 'weights-l2')!.accuracy).toBe(1);
  });

  it('judges a cross-generation prediction against the ancestor the manifest names', async () => {
    const zoo = await readZooManifest(dir);
    const grandchildren = models.filter((m) => m.generation === 2);
    expect(grandchildren).toHaveLength(12);
    for (const m of grandchildren) {
      const grandparent = models.find((x) => x.id === models.find((p) => p.id === m.parent)!.parent)!;
      expect(grandparent.generation).toBe(0);
      expect(ancestorAt(zoo, m.id, 0)).toBe(grandparent.id);
      expect(ancestorAt(zoo, m.id, 1)).toBe(m.parent);
    }
    expect(() => ancestorAt(zoo, grandchildren[0].id, 3)).toThrow(`${grandchildren[0].id} has no ancestor at generation 3`);
  });

  it('chooses alpha from the grid on validation children only and reports test children only', async () => {
    const auto = await benchmarkZoo(dir, { methods: METHODS, alpha: 'auto', seed: 1, resamples: 200 });
    if (auto.alpha.mode !== 'auto') throw new Error('expected alpha auto');
    const { validation, test, choices } = auto.alpha;
    const childIds = models
      .filter((m) => m.parent !== null)
      .map((m) => m.id)
      .sort();
    expect(validation.filter((id) => test.includes(id))).toEqual([]);
    expect([...validation, ...test].sort()).toEqual(childIds);
    expect(validation.length).toBe(Math.round(18 * 0.3));
    expect(choices.map((c) => c.method)).toEqual(['taylor-l1', 'linearized-l2']);
    for (const c of choices) {
      expect(ALPHA_GRID).toContain(c.alpha);
      expect(c.grid.map((g) => g.alpha)).toEqual([...ALPHA_GRID]);
      expect(c.validationAccuracy).toBe(Math.max(...c.grid.map((g) => g.accuracy)));
      expect(auto.settings[0].methods.find((x) => x.method === c.method)!.alpha).toBe(c.alpha);
    }
    expect(auto.settings[0].children).toBe(test.length);
    expect(auto.settings[0].methods[0].total).toBe(test.length);
    for (const c of auto.children) expect(c.split).toBe(test.includes(c.id) ? 'test' : 'validation');
    // Reported accuracy = hits among test children alone.
    const testHits = auto.children.filter((c) => c.split === 'test' && c.predictions['taylor-l1'] === c.parent).length;
    expect(auto.settings[0].methods.find((x) => x.method === 'taylor-l1')!.correct).toBe(testHits);
  }, 60_000);

  it('reports auto like any method, with the evidence that decided each child', async () => {
    const methods = ['auto', 'weights-cos', 'taylor-l1'];
    const r = await benchmarkZoo(dir, { methods: methods.join(','), alpha: 0.01, seed: 1, resamples: 200 });
    expect(r.options.methods).toEqual(methods);
    for (const row of [...r.settings, ...r.crossGeneration]) expect(row.methods.map((c) => c.method)).toEqual(methods);
    const autoCell = r.settings[0].methods[0];
    expect(autoCell.alpha).toBeUndefined();
    // A hit is the manifest's parent, as for every method.
    expect(autoCell.correct).toBe(r.children.filter((c) => c.predictions.auto === models.find((m) => m.id === c.id)!.parent).length);
    const withEvidence = r.children.filter((c) => c.evidence !== undefined);
    expect(withEvidence).toHaveLength(18);
    // Weights alone decide: auto names the weights-cos choice. A feature tie-break: a candidate, possibly another.
    for (const c of withEvidence) if (c.evidence === 'weights') expect(c.predictions.auto).toBe(c.predictions['weights-cos']);
    const count = (e: string) => withEvidence.filter((c) => c.evidence === e).length;
    expect(r.notes).toContain(
      `auto decided by weights alone for ${count('weights')}, by features breaking a weight tie for ${count('combined')}, by features alone for ${count('features')} of 18 reported children (parent generation)`,
    );
    expect(JSON.parse(JSON.stringify(r)).options.methods[0]).toBe('auto');
    expect(benchTables(r, true)).toMatch(/\| setting \| children \| auto \| weights-cos \| taylor-l1 \|/);
  }, 60_000);

  it('tunes alpha for tangent methods only: auto, without its feature method named, reports no alpha variant', async () => {
    const r = await benchmarkZoo(dir, { methods: ['auto', 'linearized-l2'], alpha: 'auto', seed: 1, resamples: 200 });
    if (r.alpha.mode !== 'auto') throw new Error('expected alpha auto');
    expect(r.alpha.choices.map((c) => c.method)).toEqual(['linearized-l2']);
    expect(r.options.methods).toEqual(['auto', 'linearized-l2']);
    expect(r.settings[0].methods[0].alpha).toBeUndefined();
    expect(r.children.every((c) => c.predictions.auto !== undefined)).toBe(true);
  }, 60_000);

  it("defaults to 'all': auto first, then every single method", async () => {
    const child = models.find((m) => m.generation === 1)!.id;
    const r = await benchmarkZoo(dir, { children: [child], seed: 1, resamples: 50 });
    expect(r.options.methods).toEqual(['auto', ...allMethodNames()]);
    expect(r.children[0].evidence).toBeDefined();
    await expect(benchmarkZoo(dir, { methods: 'auto,taylor-l9' })).rejects.toThrow("unknown method 'taylor-l9'");
    await expect(benchmarkZoo(dir, { methods: ' , ' })).rejects.toThrow('no method given');
  }, 60_000);

  it('gives the same result for the same seed', async () => {
    const again = await benchmarkZoo(dir, { methods: METHODS, alpha: 0.01, seed: 1, resamples: 200 });
    const strip = (r: BenchResult) => ({ ...r, seconds: 0, timing: [], tree: r.tree && { ...r.tree, seconds: 0 } });
    expect(strip(again)).toEqual(strip(fixed));
  }, 60_000);
});

describe('scoreMatrix on the trained zoo', () => {
  beforeAll(trainZoo, 120_000);

  it('alphas: the extra results equal separate runs at those alphas', async () => {
    const child = models.find((m) => m.generation === 1)!;
    const roots = models.filter((m) => m.generation === 0).map((m) => join(dir, m.file));
    const probe = await readProbe(join(dir, `probes/${child.task}.npy`));
    const together = await scoreMatrix([join(dir, child.file)], roots, {
      probe,
      methods: ['taylor-l1', 'direct-l1', 'linearized-l2'],
      alpha: 0.01,
      alphas: [0.3],
    });
    expect(together.map((r) => r.method)).toEqual(['taylor-l1', 'taylor-l1@0.3', 'direct-l1', 'linearized-l2', 'linearized-l2@0.3']);
    const at = (alpha: number) => scoreMatrix([join(dir, child.file)], roots, { probe, methods: ['taylor-l1', 'direct-l1', 'linearized-l2'], alpha });
    const [small, large] = [await at(0.01), await at(0.3)];
    expect(together[1].alpha).toBe(0.3);
    expect(together[0].children[0].scores).toEqual(small[0].children[0].scores);
    expect(together[1].children[0].scores).toEqual(large[0].children[0].scores);
    expect(together[2].children[0].scores).toEqual(small[1].children[0].scores);
    expect(together[3].children[0].scores).toEqual(small[2].children[0].scores);
    expect(together[4].children[0].scores).toEqual(large[2].children[0].scores);
    // Different alphas give different Taylor scores (the extra results are not copies).
    expect(together[1].children[0].scores[0].score).not.toBe(
      together[0].children[0].scores.find((x) => x.parent === together[1].children[0].scores[0].parent)!.score,
    );
  }, 60_000);

  it('fitted methods search their own step: no alpha variants, and never below the direct score', async () => {
    const child = models.find((m) => m.generation === 1)!;
    const roots = models.filter((m) => m.generation === 0).map((m) => join(dir, m.file));
    const probe = await readProbe(join(dir, `probes/${child.task}.npy`));
    const r = await scoreMatrix([join(dir, child.file)], roots, { probe, methods: ['fitted-l2', 'direct-l2', 'linearized-l2'], alpha: 0.01, alphas: [0.3, 1] });
    expect(r.map((m) => m.method)).toEqual(['fitted-l2', 'direct-l2', 'linearized-l2', 'linearized-l2@0.3', 'linearized-l2@1']);
    const scoreOf = (i: number, parent: string) => r[i].children[0].scores.find((s) => s.parent === parent)!.score;
    for (const { parent, score } of r[0].children[0].scores) {
      for (const i of [1, 2, 3, 4]) expect(score, `${parent} vs ${r[i].method}`).toBeGreaterThanOrEqual(scoreOf(i, parent) - 1e-6);
    }
  }, 60_000);
});

describe('Predictions', () => {
  const result = (method: string, alpha: number, parent: string | null): MethodResult => ({
    method,
    alpha,
    layer: 'penultimate',
    children: [{ child: 'c', parent, scores: [], incompatible: [] }],
  });

  it('keeps each alpha of a tangent method apart, and reads other methods without one', () => {
    const p = new Predictions();
    p.record(
      0,
      [result('taylor-l1', 0.01, 'a'), result('taylor-l1@0.3', 0.3, 'b'), result('weights-l2', 0.01, 'c'), result('detector', 0, null)],
      ['taylor-l1', 'weights-l2', 'detector'],
    );
    expect(p.get(0, 'c', { method: 'taylor-l1', alpha: 0.01 })).toBe('a');
    expect(p.get(0, 'c', { method: 'taylor-l1', alpha: 0.3 })).toBe('b');
    expect(p.get(0, 'c', { method: 'taylor-l1', alpha: 1 })).toBeUndefined();
    expect(p.get(0, 'c', { method: 'weights-l2' })).toBe('c');
    expect(p.get(0, 'c', { method: 'detector' })).toBeNull();
    expect(p.get(1, 'c', { method: 'weights-l2' })).toBeUndefined();
  });

  it('refuses a result of a method it was not told of', () => {
    expect(() => new Predictions().record(0, [result('taylor-l2@0.3', 0.3, 'a')], ['taylor-l1'])).toThrow(
      'a result of method taylor-l2@0.3, which was not asked for',
    );
  });
});
