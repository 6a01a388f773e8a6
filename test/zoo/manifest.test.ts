/**
 * The zoo manifest reader on hand-written manifests: a happy path (with the depths worked out by
 * hand from the parent links, and what the tree, the benchmark and the detector read off it), and
 * hostile files, each of which must give an InputError naming manifest.json and the problem.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { InputError } from '../../src/base/errors.js';
import { type CheckedField, defaultProbe, readZooManifest } from '../../src/zoo/manifest.js';
import { ancestorAt, settingOf } from '../../src/eval/zoo.js';
import { lineageQuestions, readZoo } from '../../src/lineage/detector/zoo.js';
import { buildZoo } from '../../src/train/zoo-build.js';

const tmp = mkdtempSync(join(tmpdir(), 'lineage-manifest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let folders = 0;
/** A fresh zoo folder holding `doc` (an object is written as JSON, a string as it is). */
function zooWith(doc: unknown): string {
  const dir = join(tmp, `zoo-${folders++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'manifest.json'), typeof doc === 'string' ? doc : JSON.stringify(doc));
  return dir;
}

async function problemOf(read: Promise<unknown>, dir: string): Promise<string> {
  const err = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  const file = join(dir, 'manifest.json');
  expect((err as InputError).file).toBe(file);
  expect((err as InputError).message).toBe(`${file}: ${(err as InputError).problem}`);
  return (err as InputError).problem;
}

const model = (id: string, parent: string | null, extra: Record<string, unknown> = {}) => ({ id, file: `models/${id}.safetensors`, parent, ...extra });

// root -> a -> a1, root -> b; listed children first so that order cannot explain the depths
const FAMILY = {
  zoo: { name: 'family', scale: 1 },
  models: [
    model('a1', 'a', { arch: 'mlp', generation: 2, task: 'fashion', setting: 'fewshot:10', seed: 3, hyper: { lr: 0.1 }, accuracy: 0.5 }),
    model('a', 'root', { arch: 'mlp', generation: 1, task: 'fashion', setting: 'full', seed: 2, adapter: 'models/a.lora.safetensors' }),
    model('b', 'root', { arch: 'mlp', generation: 1, task: 'fashion', setting: '' }),
    model('root', null, { arch: 'mlp', generation: 0, task: 'mnist' }),
  ],
  probes: { mnist: 'probes/mnist.npy', fashion: 'probes/fashion.npy' },
};

describe('readZooManifest: a good manifest', () => {
  it('gives the entries, paths inside the folder, depths from the parent links, and the probes', async () => {
    const dir = zooWith(FAMILY);
    const zoo = await readZooManifest(dir);
    expect(zoo.file).toBe(join(dir, 'manifest.json'));
    expect(zoo.name).toBe('family');
    expect(zoo.models.map((m) => [m.entry.id, m.entry.parent, m.path, m.depth])).toEqual([
      ['a1', 'a', join(dir, 'models', 'a1.safetensors'), 2],
      ['a', 'root', join(dir, 'models', 'a.safetensors'), 1],
      ['b', 'root', join(dir, 'models', 'b.safetensors'), 1],
      ['root', null, join(dir, 'models', 'root.safetensors'), 0],
    ]);
    const a1 = zoo.models[0].entry;
    expect([a1.arch, a1.generation, a1.task, a1.setting, a1.seed, a1.hyper]).toEqual(['mlp', 2, 'fashion', 'fewshot:10', 3, { lr: 0.1 }]);
    // fields no reader checks stay on the entry as written (the builder writes them back)
    expect((a1 as unknown as { accuracy: number }).accuracy).toBe(0.5);
    expect(zoo.probeFiles).toEqual({ mnist: 'probes/mnist.npy', fashion: 'probes/fashion.npy' });
    expect([...zoo.probes]).toEqual([
      ['mnist', join(dir, 'probes', 'mnist.npy')],
      ['fashion', join(dir, 'probes', 'fashion.npy')],
    ]);
  });

  it('takes optional parts as absent: no zoo name (the folder name stands in), no probes, entries with only id, file and parent', async () => {
    const dir = zooWith({ models: [model('x', null), model('y', 'x')] });
    const zoo = await readZooManifest(dir);
    expect(zoo.name).toBe(basename(dir));
    expect(zoo.name).toMatch(/^zoo-\d+$/);
    expect(zoo.probes.size).toBe(0);
    expect(zoo.probeFiles).toEqual({});
    expect(zoo.models.map((m) => m.depth)).toEqual([0, 1]);
  });

  it('keeps a task named __proto__ as a plain key', async () => {
    const dir = zooWith('{"models": [{"id": "x", "file": "x.safetensors", "parent": null}], "probes": {"__proto__": "probes/p.npy"}}');
    const zoo = await readZooManifest(dir);
    expect(Object.getPrototypeOf(zoo.probeFiles)).toBe(Object.prototype);
    expect(Object.keys(zoo.probeFiles)).toEqual(['__proto__']);
    expect(zoo.probes.get('__proto__')).toBe(join(dir, 'probes', 'p.npy'));
  });

  it('accepts a manifest with no models only when asked to (a build that has just begun)', async () => {
    const dir = zooWith({ zoo: { name: 'new', scale: 1 }, models: [], probes: {} });
    expect(await problemOf(readZooManifest(dir), dir)).toBe('the zoo lists no models');
    expect((await readZooManifest(dir, { allowEmpty: true })).models).toEqual([]);
  });

  it('what the tree, the benchmark and the detector read off it', async () => {
    const dir = zooWith(FAMILY);
    const zoo = await readZooManifest(dir);
    // tree: the first root's task probe
    expect(defaultProbe(zoo)).toBe(join(dir, 'probes', 'mnist.npy'));
    // bench: an empty setting counts as full, as the bench always did; ancestors by parent links
    expect(zoo.models.map((m) => [m.entry.id, settingOf(m)])).toEqual([
      ['a1', 'fewshot:10'],
      ['a', 'full'],
      ['b', 'full'],
      ['root', 'full'],
    ]);
    expect([ancestorAt(zoo, 'a1', 0), ancestorAt(zoo, 'a1', 1), ancestorAt(zoo, 'a1', 2), ancestorAt(zoo, 'b', 0)]).toEqual(['root', 'a', 'a1', 'root']);
    expect(() => ancestorAt(zoo, 'a', 2)).toThrow('a has no ancestor at generation 2');
    // detector: one question per child, candidates the other models of its parent's generation
    const questions = lineageQuestions(await readZoo(dir));
    expect(questions.map((q) => [q.key, q.candidates.map((c) => c.entry.id), q.parentIndex])).toEqual([
      ['family/a1', ['a', 'b'], 0],
      ['family/a', ['root'], 0],
      ['family/b', ['root'], 0],
    ]);
  });

  it('without a root task probe, the tree takes the first probe listed', async () => {
    const dir = zooWith({ models: [model('r', null), model('c', 'r', { task: 'fashion' })], probes: { fashion: 'probes/f.npy', mnist: 'probes/m.npy' } });
    expect(defaultProbe(await readZooManifest(dir))).toBe(join(dir, 'probes', 'f.npy'));
  });
});

const ok = [model('r', null)];
const parseError = (text: string): string => {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a parse error');
};
const HOSTILE: [what: string, doc: unknown, problem: string][] = [
  ['truncated JSON', '{"models": [', `invalid JSON (${parseError('{"models": [')})`],
  ['a list at the top', [], 'not a zoo manifest (expected {"models": [...], "probes": {...}})'],
  ['models not a list', { models: {} }, 'not a zoo manifest (expected {"models": [...], "probes": {...}})'],
  ['zoo a string', { zoo: 'z', models: ok }, 'zoo must be an object {"name": ...}'],
  ['zoo.name empty', { zoo: { name: '' }, models: ok }, 'zoo.name must be a non-empty string'],
  ['zoo.name a number', { zoo: { name: 7 }, models: ok }, 'zoo.name must be a non-empty string'],
  ['an entry not an object', { models: [...ok, null] }, 'models[1] must be an object'],
  ['id missing', { models: [{ file: 'm.safetensors', parent: null }] }, 'models[0].id must be a non-empty string'],
  ['id a number', { models: [{ id: 3, file: 'm.safetensors', parent: null }] }, 'models[0].id must be a non-empty string'],
  ['id empty', { models: [{ id: '', file: 'm.safetensors', parent: null }] }, 'models[0].id must be a non-empty string'],
  ['file missing', { models: [{ id: 'r', parent: null }] }, 'models[0].file must be a non-empty path'],
  ['file a list', { models: [{ id: 'r', file: ['m'], parent: null }] }, 'models[0].file must be a non-empty path'],
  ['file climbing out', { models: [{ id: 'r', file: '../../etc/passwd', parent: null }] }, "models[0].file '../../etc/passwd' points outside the zoo folder"],
  [
    'file climbing out midway',
    { models: [{ id: 'r', file: 'models/../../x.safetensors', parent: null }] },
    "models[0].file 'models/../../x.safetensors' points outside the zoo folder",
  ],
  ['file absolute', { models: [{ id: 'r', file: '/etc/passwd', parent: null }] }, "models[0].file '/etc/passwd' must be a path relative to the zoo folder"],
  ['file the folder itself', { models: [{ id: 'r', file: 'models/..', parent: null }] }, "models[0].file 'models/..' names the zoo folder itself"],
  ['file with a NUL', { models: [{ id: 'r', file: 'm\0.safetensors', parent: null }] }, 'models[0].file contains a NUL character'],
  ['parent missing', { models: [{ id: 'r', file: 'r.safetensors' }] }, 'models[0].parent must be a model id or null'],
  ['parent a number', { models: [...ok, model('c', null, { parent: 0 })] }, 'models[1].parent must be a model id or null'],
  ['generation negative', { models: [model('r', null, { generation: -1 })] }, 'models[0].generation must be an integer >= 0'],
  ['generation fractional', { models: [model('r', null, { generation: 0.5 })] }, 'models[0].generation must be an integer >= 0'],
  ['generation a string', { models: [model('r', null, { generation: '0' })] }, 'models[0].generation must be an integer >= 0'],
  ['arch a number', { models: [model('r', null, { arch: 18 })] }, 'models[0].arch must be a string'],
  ['task null', { models: [model('r', null, { task: null })] }, 'models[0].task must be a string'],
  ['setting a list', { models: [model('r', null, { setting: ['full'] })] }, 'models[0].setting must be a string'],
  ['seed a string', { models: [model('r', null, { seed: '1' })] }, 'models[0].seed must be a number'],
  ['hyper a list', { models: [model('r', null, { hyper: [] })] }, 'models[0].hyper must be an object'],
  [
    'adapter climbing out',
    { models: [model('r', null, { adapter: '../a.safetensors' })] },
    "models[0].adapter '../a.safetensors' points outside the zoo folder",
  ],
  ['an id repeated', { models: [...ok, model('c', 'r'), model('r', null)] }, 'model id r appears twice (models[0] and models[2])'],
  ['a parent not in the zoo', { models: [...ok, model('c', 'ghost')] }, 'model c: parent ghost is not in the manifest'],
  ['a model its own parent', { models: [...ok, model('c', 'c')] }, 'model c: its parent chain loops (c -> c)'],
  ['a loop above a model', { models: [model('leaf', 'x'), model('x', 'y'), model('y', 'x')] }, 'model x: its parent chain loops (x -> y -> x)'],
  ['probes a list', { models: ok, probes: ['p.npy'] }, 'probes must be an object {"<task>": "<path>"}'],
  ['a probe path a number', { models: ok, probes: { mnist: 1 } }, 'probes.mnist must be a non-empty path'],
  ['a probe path climbing out', { models: ok, probes: { mnist: '../p.npy' } }, "probes.mnist '../p.npy' points outside the zoo folder"],
];

describe('readZooManifest: hostile manifests', () => {
  it.each(HOSTILE)('%s', async (_what, doc, problem) => {
    const dir = zooWith(doc);
    expect(await problemOf(readZooManifest(dir), dir)).toBe(problem);
  });

  it('a folder without a manifest', async () => {
    const dir = join(tmp, 'empty-folder');
    mkdirSync(dir);
    expect(await problemOf(readZooManifest(dir), dir)).toBe('cannot read the zoo manifest (ENOENT); is this a zoo folder made by `lineage zoo build`?');
  });

  it('fields a reader requires', async () => {
    const dir = zooWith({ models: [model('r', null, { generation: 0, task: 'mnist' }), model('c', 'r', { generation: 1 })] });
    const require: CheckedField[] = ['generation', 'task'];
    expect(await problemOf(readZooManifest(dir, { require }), dir)).toBe('models[1].task is missing');
    expect(await problemOf(readZoo(dir), dir)).toBe('models[1].task is missing');
  });

  it('children whose features need a probe: a child whose task has none, a child with no task', async () => {
    const noProbe = zooWith({ models: [model('r', null, { task: 'mnist' }), model('c', 'r', { task: 'fashion' })], probes: { mnist: 'probes/mnist.npy' } });
    expect(await problemOf(readZooManifest(noProbe, { childProbes: true }), noProbe)).toBe('model c: no probe for its task fashion');
    // a root needs none, and without childProbes the same manifest reads
    expect((await readZooManifest(noProbe)).models).toHaveLength(2);
    const noTask = zooWith({ models: [model('r', null), model('c', 'r')], probes: { mnist: 'probes/mnist.npy' } });
    expect(await problemOf(readZooManifest(noTask, { childProbes: true }), noTask)).toBe('model c: no probe for its task (none)');
  });

  it('the builder reads an earlier manifest with the same checks, and says how to start over', async () => {
    const dir = zooWith({ models: [model('mlp-0', 'mlp-0')], probes: {} });
    const spec = {
      roots: [
        {
          name: 'mlp',
          count: 1,
          arch: 'mlp' as const,
          hyper: { hidden: [4] },
          task: 'mnist',
          train: { optimizer: 'sgd' as const, lr: 0.1, steps: 1, batch: 4 },
        },
      ],
    };
    expect(await problemOf(buildZoo(spec, { out: dir, workers: 0 }), dir)).toBe(
      'model mlp-0: its parent chain loops (mlp-0 -> mlp-0); remove it to rebuild the zoo',
    );
  });
});
