/** Zoo spec validation, settings and the job plan (no training). */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_ZOO_MODELS, MAX_ZOO_TRAINING_STEPS, planSize, planZoo, type ZooSpec } from '../../src/train/zoo-spec.js';
import { checkZooSpec } from '../../src/train/zoo-spec-check.js';
import { parseSetting, withSettingSteps } from '../../src/train/settings.js';
import { parseTaskSpec } from '../../src/data/task-spec.js';
import { lineage, missingDist, tempDir } from './zoo-cli.js';

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
    expect(bad((s) => ((s.generations as Record<string, unknown>[])[0].settings = ['lora']))).toMatch(/generations\[0\].settings\[0\]: setting 'lora'/);
    expect(bad((s) => ((s.generations as Record<string, unknown>[])[1].train = { steps: 3, epochs: 1 }))).toMatch(
      /generations\[1\].train: give exactly one of steps and epochs/,
    );
    expect(bad((s) => ((s.roots as Record<string, unknown>[])[0].trian = {}))).toMatch(/unknown field 'trian'/);
    expect(bad((s) => delete s.roots)).toMatch(/roots: must be a non-empty list/);
  });

  it('lists every problem at once, each naming the file and the field', () => {
    const spec = JSON.parse(JSON.stringify(base)) as { roots: Record<string, unknown>[]; generations: Record<string, unknown>[] };
    spec.roots[0].task = 'fashon';
    (spec.generations[0].tasks as string[])[1] = 'fashon:rot=90';
    (spec.generations[1].train as Record<string, unknown>).lr = -1;
    spec.generations[1].children = 0;
    let message = 'no error';
    try {
      checkZooSpec(spec, 'zoos/x.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      expect.stringMatching(/^zoos\/x.json: roots\[0\]\.task: unknown base dataset 'fashon' \(known: mnist, fashion\b.*\)$/),
      expect.stringMatching(/^zoos\/x.json: generations\[0\]\.tasks\[1\]: unknown base dataset 'fashon' /),
      'zoos/x.json: generations[1].children: must be an integer >= 1, got 0',
      'zoos/x.json: generations[1].train.lr: must be a number > 0, got -1',
    ]);
  });

  it('rejects hyper-parameters the architecture would ignore', () => {
    const root = (hyper: Record<string, unknown>, arch = 'mlp') => bad((s) => Object.assign((s.roots as Record<string, unknown>[])[0], { arch, hyper }));
    expect(root({ sizes: [784, 10] }, 'convnet')).toMatch(/roots\[0\]\.hyper\.sizes: applies to mlp, not convnet/);
    expect(root({ widths: [8] })).toMatch(/roots\[0\]\.hyper\.widths: applies to convnet, not mlp/);
    expect(root({ stem: 'cifar' }, 'convnet')).toMatch(/roots\[0\]\.hyper\.stem: applies to resnet18, resnet34, resnet50, not convnet/);
    expect(root({ sizes: [784, 10], hidden: [32] })).toMatch(/roots\[0\]\.hyper: give sizes .* not both/);
    expect(root({ sizes: [784] })).toMatch(/roots\[0\]\.hyper\.sizes: must be a list of at least 2 positive integers/);
    expect(root({ hidden: [32, 0] })).toMatch(/roots\[0\]\.hyper\.hidden\[1\]: must be an integer >= 1, got 0/);
    expect(root({ sizes: [784, 10] })).toBe('no error');
  });

  it('every shipped zoo spec is valid and plans', () => {
    const dir = new URL('../../zoos/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['demo.json', 'generations-fc.json', 'generations.json', 'paper-fc.json', 'settings.json', 'twins-cnn.json', 'twins-fc.json']);
    for (const f of files) {
      const spec = checkZooSpec(JSON.parse(readFileSync(new URL(f, dir), 'utf8')), f);
      const jobs = planZoo(spec);
      expect(jobs.length, f).toBeGreaterThan(0);
      for (const j of jobs) expect(parseTaskSpec(j.task).id).toBe(j.task);
      // Twin zoos (issue 18): every parent has at least two children per task, each with its own seed.
      if (f.startsWith('twins-')) {
        const children = jobs.filter((j) => j.parent !== null);
        const groups = new Map<string, typeof children>();
        for (const j of children) groups.set(`${j.parent} ${j.task}`, [...(groups.get(`${j.parent} ${j.task}`) ?? []), j]);
        expect(groups.size, f).toBeGreaterThan(0);
        for (const [key, twins] of groups) {
          expect(twins.length, `${f}: ${key}`).toBeGreaterThanOrEqual(2);
          expect(new Set(twins.map((t) => t.seed)).size, `${f}: ${key}`).toBe(twins.length);
        }
      }
    }
  });
});

describe('plan size limits', () => {
  it('counts models and steps from the spec alone', () => {
    // roots: 2 x 100 steps; generation 1: 6 children x 40 steps; generation 2: 12 children x 2
    // epochs of floor(60,000 / 64) = 937 steps (an epoch is counted with full Fashion-MNIST)
    expect(planSize(base)).toEqual({ models: 20, steps: 2 * 100 + 6 * 40 + 12 * 2 * 937 });
    expect(planSize(base).models).toBe(planZoo(base).length);
    // --scale 0.5: children 3 -> 2 and 2 -> 1, steps 100 -> 50, 40 -> 20, epochs 2 -> 1
    expect(planSize(base, 0.5)).toEqual({ models: 2 + 4 + 4, steps: 2 * 50 + 4 * 20 + 4 * 937 });
  });

  it(`refuses a zoo over ${MAX_ZOO_MODELS} models before listing a job`, () => {
    // 10 + 100 + 1,000 + 10,000 models
    const tenfold = {
      roots: [{ count: 10, arch: 'mlp', task: 'mnist', train: { steps: 1 } }],
      generations: [1, 2, 3].map(() => ({ children: 10, tasks: ['mnist'], train: { steps: 1 } })),
    };
    const spec = checkZooSpec(tenfold, 'wide.json');
    expect(() => planZoo(spec, 1, 'wide.json')).toThrow(/^wide.json: the zoo has 11,110 models, over the limit of 10,000/);
    expect(planZoo(spec, 0.5, 'wide.json')).toHaveLength(10 + 50 + 250 + 1250);
    // a billion children per parent, four times over: would need about 10^36 jobs if listed
    const huge = checkZooSpec({ ...tenfold, generations: [1, 2, 3, 4].map(() => ({ children: 1e9, tasks: ['mnist'], train: { steps: 1 } })) }, 'huge.json');
    const started = performance.now();
    expect(() => planZoo(huge, 1, 'huge.json')).toThrow(/^huge.json: the zoo has 1\.00e\+37 models, over the limit/);
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it(`refuses a zoo over ${MAX_ZOO_TRAINING_STEPS.toLocaleString('en-US')} training steps`, () => {
    const steps = (train: Record<string, unknown>) => checkZooSpec({ roots: [{ arch: 'mlp', task: 'fashion', train }] }, 'long.json');
    expect(() => planZoo(steps({ steps: 10_000_001 }), 1, 'long.json')).toThrow(
      /^long.json: the zoo trains 10,000,001 steps in all .* over the limit of 10,000,000/,
    );
    expect(planZoo(steps({ steps: 10_000_000 }))).toHaveLength(1);
    // 200 epochs of batch 1 are 200 x 60,000 = 12,000,000 steps; of batch 64, 200 x 937
    expect(() => planZoo(steps({ epochs: 200, batch: 1 }), 1, 'long.json')).toThrow(/12,000,000 steps/);
    expect(planZoo(steps({ epochs: 200, batch: 64 }))).toHaveLength(1);
    // --scale multiplies the steps: 6,000,000 x 2 is over
    expect(() => planZoo(steps({ steps: 6_000_000 }), 2, 'long.json')).toThrow(/12,000,000 steps in all at --scale 2/);
  });
});

describe('zoo build and zoo plan refuse a bad spec before writing anything (CLI)', () => {
  it('an unknown root task: exit 1, the file and field named, the output folder never made', async () => {
    expect(missingDist(), 'run `npm run build` first: this test runs the compiled CLI').toEqual([]);
    const dir = tempDir();
    const specFile = join(dir, 'spec.json');
    const spec = JSON.parse(JSON.stringify(base)) as { roots: Record<string, unknown>[] };
    spec.roots[0].task = 'fashon';
    writeFileSync(specFile, JSON.stringify(spec));
    const out = join(dir, 'zoo');
    const r = await lineage('zoo', 'build', specFile, '--out', out, '--workers', '0', '--no-progress');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^lineage: ${specFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: roots\\[0\\]\\.task: unknown base dataset 'fashon'`));
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(readdirSync(dir)).toEqual(['spec.json']);
  });

  it('MLP layer sizes that do not fit the root task: exit 1, the field named, nothing written', async () => {
    expect(missingDist(), 'run `npm run build` first: this test runs the compiled CLI').toEqual([]);
    const dir = tempDir();
    const specFile = join(dir, 'spec.json');
    const spec = JSON.parse(JSON.stringify(base)) as { roots: Record<string, unknown>[] };
    spec.roots[0].hyper = { sizes: [100, 32, 10] };
    writeFileSync(specFile, JSON.stringify(spec));
    const r = await lineage('zoo', 'build', specFile, '--out', join(dir, 'zoo'), '--workers', '0', '--no-progress');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe(`lineage: ${specFile}: roots[0].hyper.sizes: mlp sizes start with 100, but task mnist has 784 input values (1x28x28)\n`);
    expect(readdirSync(dir)).toEqual(['spec.json']);
  });

  it('a plan of 10^37 models is refused from its counts, within 30 s and a 1 GB heap', async () => {
    expect(missingDist(), 'run `npm run build` first: this test runs the compiled CLI').toEqual([]);
    const dir = tempDir();
    const specFile = join(dir, 'huge.json');
    const generations = [1, 2, 3, 4].map(() => ({ children: 1e9, tasks: ['mnist'], train: { steps: 1 } }));
    writeFileSync(specFile, JSON.stringify({ roots: [{ count: 10, arch: 'mlp', task: 'mnist', train: { steps: 1 } }], generations }));
    for (const command of ['plan', 'build']) {
      const r = await lineage('zoo', command, specFile, ...(command === 'build' ? ['--out', join(dir, 'zoo')] : []));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`lineage: ${specFile}: the zoo has 1.00e+37 models, over the limit of 10,000`);
      expect(r.seconds).toBeLessThan(30);
    }
    expect(readdirSync(dir)).toEqual(['huge.json']);
  });
});
