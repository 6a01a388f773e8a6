/** Zoo spec validation, settings and the job plan (no training). */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { checkZooSpec, planZoo, type ZooSpec } from '../../src/train/zoo-spec.js';
import { parseSetting, withSettingSteps } from '../../src/train/settings.js';
import { parseTaskSpec } from '../../src/data/task-spec.js';

const base: ZooSpec = {
  roots: [{ name: 'm', count: 2, arch: 'mlp', task: 'mnist', seed: 5, train: { steps: 100, lr: 0.05 } }],
  generations: [
    { children: 3, tasks: ['fashion', 'mnist:rot=90'], settings: ['full', 'lora:4'], train: { steps: 40, lrStep: 20 } },
    { children: 2, pairs: [{ task: 'fashion', setting: 'fewshot:5+head-only' }], train: { epochs: 2, optimizer: 'adam' } },
  ],
};

describe('planZoo', () => {
  const jobs = planZoo(base);

  it('names models by lineage and lists parents first', () => {
    expect(jobs.map((j) => j.id).slice(0, 5)).toEqual(['m-0', 'm-1', 'm-0.0', 'm-0.1', 'm-0.2']);
    expect(jobs).toHaveLength(2 + 6 + 12);
    const seen = new Set<string>();
    for (const j of jobs) {
      if (j.parent) expect(seen.has(j.parent), j.id).toBe(true);
      seen.add(j.id);
    }
    expect(jobs.find((j) => j.id === 'm-1.2.1')).toMatchObject({ parent: 'm-1.2', generation: 2 });
  });

  it('roots use seed + i; children derive distinct seeds', () => {
    expect(jobs.slice(0, 2).map((j) => j.seed)).toEqual([5, 6]);
    expect(new Set(jobs.map((j) => j.seed)).size).toBe(jobs.length);
  });

  it('cycles (task, setting) pairs by (parent index + child index)', () => {
    const g1 = jobs.filter((j) => j.generation === 1).map((j) => `${j.id} ${j.task} ${j.setting}`);
    expect(g1).toEqual([
      'm-0.0 fashion full',
      'm-0.1 fashion lora:4',
      'm-0.2 mnist:rot=90 full',
      'm-1.0 fashion lora:4',
      'm-1.1 mnist:rot=90 full',
      'm-1.2 mnist:rot=90 lora:4',
    ]);
    expect(jobs.find((j) => j.id === 'm-0.1')?.mode).toEqual({ kind: 'lora', rank: 4, alpha: 4 });
  });

  it('fewshot/imbalanced settings become seeded task steps', () => {
    const child = jobs.find((j) => j.id === 'm-0.0.1')!;
    expect(child.task).toBe(`fashion:fewshot=5:s${child.seed % 10000}`);
    expect(child.mode).toEqual({ kind: 'head-only' });
    expect(withSettingSteps('mnist:seg=56x3:s1', parseSetting('imbalanced:10'), 4)).toBe('mnist:imbalanced=10:s4:seg=56x3:s1');
  });

  it('fills training defaults (SGD momentum 0.9, batch 64) and keeps the spec values', () => {
    expect(jobs[0].train).toMatchObject({ optimizer: 'sgd', lr: 0.05, momentum: 0.9, batchSize: 64, steps: 100, weightDecay: 0, seed: 5 });
    expect(jobs.find((j) => j.generation === 2)!.train).toMatchObject({ optimizer: 'adam', lr: 0.001, epochs: 2 });
  });

  it('--scale multiplies children per parent and training length, not roots', () => {
    const small = planZoo(base, 0.5);
    expect(small.filter((j) => j.generation === 0)).toHaveLength(2);
    expect(small.filter((j) => j.generation === 1)).toHaveLength(2 * 2); // round(1.5) = 2
    expect(small.filter((j) => j.generation === 2)).toHaveLength(4 * 1);
    expect(small[0].train.steps).toBe(50);
    expect(small.find((j) => j.generation === 1)!.train).toMatchObject({ steps: 20, stepSize: 10 });
    expect(small.find((j) => j.generation === 2)!.train.epochs).toBe(1);
    // a scaled child keeps its task and setting
    const full = new Map(jobs.map((j) => [j.id, j]));
    for (const j of small) expect(`${j.task} ${j.setting}`).toBe(`${full.get(j.id)!.task} ${full.get(j.id)!.setting}`);
  });
});

describe('settings', () => {
  it('parses modes and modifiers', () => {
    expect(parseSetting('partial:2')).toEqual({ mode: { kind: 'partial', frozenBlocks: 2 }, taskSteps: [] });
    expect(parseSetting('lora:8:16')).toEqual({ mode: { kind: 'lora', rank: 8, alpha: 16 }, taskSteps: [] });
    expect(parseSetting('imbalanced:50+regularised:0.0005')).toEqual({ mode: { kind: 'full' }, taskSteps: ['imbalanced=50'], weightDecay: 0.0005 });
    expect(parseSetting('linear-probe').mode).toEqual({ kind: 'head-only' });
  });

  it('rejects bad settings with the valid forms', () => {
    expect(() => parseSetting('lora:0')).toThrow(/lora: rank must be an integer >= 1/);
    expect(() => parseSetting('full+head-only')).toThrow(/more than one fine-tuning mode/);
    expect(() => parseSetting('dropout:0.1')).toThrow(/unknown part 'dropout:0.1'.*forms/);
  });
});

describe('checkZooSpec', () => {
  const bad = (mutate: (s: Record<string, unknown>) => void): string => {
    const spec = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
    mutate(spec);
    try {
      checkZooSpec(spec, 'zoos/x.json');
    } catch (err) {
      return (err as Error).message;
    }
    return 'no error';
  };

  it('accepts the example and names the file and field on errors', () => {
    expect(checkZooSpec(base, 'x.json')).toBe(base);
    expect(bad((s) => ((s.roots as Record<string, unknown>[])[0].arch = 'lstm'))).toMatch(/^zoos\/x.json: roots\[0\].arch: must be one of mlp, convnet/);
    expect(bad((s) => ((s.roots as Record<string, unknown>[])[0].task = 'mnist:rot'))).toMatch(/roots\[0\].task: task 'mnist:rot'/);
    expect(bad((s) => ((s.generations as Record<string, unknown>[])[0].settings = ['lora'])))
      .toMatch(/generations\[0\].settings\[0\]: setting 'lora'/);
    expect(bad((s) => ((s.generations as Record<string, unknown>[])[1].train = { steps: 3, epochs: 1 }))).toMatch(/generations\[1\].train: give exactly one of steps and epochs/);
    expect(bad((s) => ((s.roots as Record<string, unknown>[])[0].trian = {}))).toMatch(/unknown field 'trian'/);
    expect(bad((s) => delete s.roots)).toMatch(/roots: must be a non-empty list/);
  });

  it('every shipped zoo spec is valid and plans', () => {
    const dir = new URL('../../zoos/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['demo.json', 'generations-fc.json', 'generations.json', 'paper-fc.json', 'settings.json']);
    for (const f of files) {
      const spec = checkZooSpec(JSON.parse(readFileSync(new URL(f, dir), 'utf8')), f);
      const jobs = planZoo(spec);
      expect(jobs.length, f).toBeGreaterThan(0);
      for (const j of jobs) expect(parseTaskSpec(j.task).id).toBe(j.task);
    }
  });
});
