/**
 * LoRA adapters as models. Expected merged values are worked out here, independently of the code
 * under test: by hand for a 2x3 weight, and with plain triple loops in float64 for seeded random
 * factors (W + scale B A, or W + scale (B A)^T for embeddings and fan_in_fan_out weights).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../src/base/random.js';
import { FormatError } from '../../../src/formats/errors.js';
import { agreeingBases, loraTargets, matchAdapterToBase, mergedSource } from '../../../src/lineage/adapters/lora.js';
import { memorySource } from '../../../src/source/memory.js';
import { openModelSource } from '../../../src/source/open.js';
import type { ModelSource } from '../../../src/source/types.js';
import { float32Tensor, type Tensor } from '../../../src/tensor.js';
import { LORA_CONFIG, matrix, type Rows, writeAdapter, writeBase } from './write-adapter.js';

const Q = 'model.layers.0.self_attn.q_proj.weight';
const QA = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
const QB = 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight';

let dir: string;
const opened: ModelSource[] = [];
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'lora-'));
});
afterAll(async () => {
  for (const source of opened) await source.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function open(path: string): Promise<ModelSource> {
  const source = await openModelSource(path);
  opened.push(source);
  return source;
}

/** A model folder's worth of adapter, kept in memory: loraTargets reads only names, shapes and config. */
function memoryAdapter(config: Record<string, unknown>, tensors: Map<string, Tensor>, path = join('/nowhere', 'adapter')): ModelSource {
  return memorySource(tensors, path, { format: 'peft-lora', config });
}

function randomMatrix(rng: Rng, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.fround(rng.normal())));
}

/** W + scale * B A (or its transpose added to W [in, out]), by plain loops in float64. */
function expectedMerge(w: Rows, a: Rows, b: Rows, scale: number, transposed: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < w.length; i++) {
    for (let j = 0; j < w[0].length; j++) {
      let sum = 0;
      for (let k = 0; k < a.length; k++) sum += transposed ? b[j][k] * a[k][i] : b[i][k] * a[k][j];
      out.push(w[i][j] + scale * sum);
    }
  }
  return out;
}

function expectClose(actual: Float32Array, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(0, ...expected.map((e, i) => Math.abs(actual[i] - e) / Math.max(1, Math.abs(e))));
  expect(worst).toBeLessThan(1e-6);
}

/** Every row range of every tensor reads as the same slice of the whole tensor. */
async function expectRowsSliceWhole(source: ModelSource): Promise<void> {
  for (const t of source.tensors) {
    const whole = await source.readFloat32(t.name);
    const rows = t.shape[0];
    const width = whole.length / rows;
    for (const [start, count] of [
      [0, rows],
      [0, 1],
      [rows - 1, 1],
      [1, rows - 2],
      [2, 0],
    ]) {
      const part = await source.readRows(t.name, start, count);
      expect({ name: t.name, start, count, values: [...part] }).toEqual({
        name: t.name,
        start,
        count,
        values: [...whole.slice(start * width, (start + count) * width)],
      });
    }
  }
}

// Worked by hand: B A = [[3*1+1*0, 3*0+1*1, 3*2+1*(-1)], [-1*1+2*0, -1*0+2*1, -1*2+2*(-1)]] = [[3, 1, 5], [-1, 2, -4]];
// scale = lora_alpha / r = 4 / 2 = 2; W' = [[1, 2, 3], [4, 5, 6]] + 2 [[3, 1, 5], [-1, 2, -4]] = [[7, 4, 13], [2, 9, -2]].
const HAND_W = [
  [1, 2, 3],
  [4, 5, 6],
];
const HAND_A = [
  [1, 0, 2],
  [0, 1, -1],
];
const HAND_B = [
  [3, 1],
  [-1, 2],
];
const HAND_MERGED = [7, 4, 13, 2, 9, -2];

interface HandCase {
  adapter: ModelSource;
  right: ModelSource;
  wrong: ModelSource;
}

let hand: Promise<HandCase> | undefined;
function handCase(): Promise<HandCase> {
  hand ??= writeHandCase();
  return hand;
}

async function writeHandCase(): Promise<HandCase> {
  const adapter = await open(
    await writeAdapter(
      join(dir, 'hand'),
      LORA_CONFIG,
      new Map([
        [QA, matrix(HAND_A)],
        [QB, matrix(HAND_B)],
      ]),
    ),
  );
  const norm = float32Tensor([3], [1, 1, 1]);
  const right = await open(
    await writeBase(
      join(dir, 'right.safetensors'),
      new Map([
        [Q, matrix(HAND_W)],
        ['model.norm.weight', norm],
      ]),
    ),
  );
  const wrong = await open(
    await writeBase(
      join(dir, 'wrong.safetensors'),
      new Map([
        [Q, float32Tensor([3, 2], [1, 2, 3, 4, 5, 6])],
        ['model.norm.weight', norm],
      ]),
    ),
  );
  return { adapter, right, wrong };
}

describe('LoRA targets', () => {
  it('reads module, factors, rank and alpha / r from names, shapes and config', async () => {
    const { adapter } = await handCase();
    expect(loraTargets(adapter)).toEqual([{ module: Q, a: QA, b: QB, rank: 2, scale: 2, fanInFanOut: false }]);
  });

  it('scales rsLoRA by alpha / sqrt(r), takes rank_pattern ranks, and reads embeddings as transposed', () => {
    const tensors = new Map([
      [QA, float32Tensor([4, 3])],
      [QB, float32Tensor([2, 4])],
      ['base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight', float32Tensor([1, 3])],
      ['base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight', float32Tensor([2, 1])],
      ['base_model.model.model.embed_tokens.lora_embedding_A', float32Tensor([4, 7])],
      ['base_model.model.model.embed_tokens.lora_embedding_B', float32Tensor([3, 4])],
    ]);
    const config = { ...LORA_CONFIG, r: 4, lora_alpha: 6, use_rslora: true, rank_pattern: { v_proj: 1 }, alpha_pattern: { embed_tokens: 10 } };
    // alpha / sqrt(r): 6 / sqrt(4) = 3; v_proj 6 / sqrt(1) = 6; embed_tokens 10 / sqrt(4) = 5.
    expect(loraTargets(memoryAdapter(config, tensors)).map((t) => [t.module, t.rank, t.scale, t.fanInFanOut])).toEqual([
      [Q, 4, 3, false],
      ['model.layers.0.self_attn.v_proj.weight', 1, 6, false],
      ['model.embed_tokens.weight', 4, 5, true],
    ]);
  });

  it('refuses factors whose shapes disagree, a rank the config does not give, a lone factor, and DoRA', () => {
    const file = join('/nowhere', 'adapter');
    const cases: [Map<string, Tensor>, string][] = [
      [
        new Map([
          [QA, float32Tensor([2, 3])],
          [QB, float32Tensor([4, 3])],
        ]),
        `tensors "${QA}" [2, 3] and "${QB}" [4, 3] disagree on the rank (A is [r, in], B is [out, r])`,
      ],
      [
        new Map([
          [QA, float32Tensor([3, 3])],
          [QB, float32Tensor([4, 3])],
        ]),
        'module "model.layers.0.self_attn.q_proj" has rank 3, but adapter_config.json gives r = 2',
      ],
      [new Map([[QA, float32Tensor([2, 3])]]), 'module "base_model.model.model.layers.0.self_attn.q_proj" has lora_A but no lora_B'],
      [
        new Map([
          [QA, float32Tensor([2, 3, 1, 1])],
          [QB, float32Tensor([4, 2, 1, 1])],
        ]),
        `tensor "${QA}" has shape [2, 3, 1, 1]; only 2-d LoRA factors (linear and embedding layers) are supported`,
      ],
      [
        new Map([
          [QA, float32Tensor([2, 3])],
          [QB, float32Tensor([4, 2])],
          ['base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector', float32Tensor([4])],
        ]),
        'tensor "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector" is a DoRA magnitude vector; DoRA adapters are not supported',
      ],
    ];
    for (const [tensors, problem] of cases) expect(() => loraTargets(memoryAdapter(LORA_CONFIG, tensors))).toThrow(new FormatError(file, problem));
  });

  it('refuses a config without r or of another PEFT type, naming adapter_config.json', () => {
    const tensors = new Map([
      [QA, float32Tensor([2, 3])],
      [QB, float32Tensor([4, 2])],
    ]);
    const file = join('/nowhere', 'adapter', 'adapter_config.json');
    const { r: _, ...noRank } = LORA_CONFIG;
    expect(() => loraTargets(memoryAdapter(noRank, tensors))).toThrow(new FormatError(file, 'field "r" must be a positive integer, got nothing'));
    expect(() => loraTargets(memoryAdapter({ ...LORA_CONFIG, peft_type: 'IA3' }, tensors))).toThrow(
      new FormatError(file, 'field "peft_type" is "IA3"; only LORA adapters are supported'),
    );
  });
});

describe('matching an adapter to its base', () => {
  it('picks the candidate whose tensors have the shapes the factors imply, not one with the same names only', async () => {
    const { adapter, right, wrong } = await handCase();
    const targets = loraTargets(adapter);
    const matches = [matchAdapterToBase(adapter, targets, wrong, 'wrong'), matchAdapterToBase(adapter, targets, right, 'right')];
    expect(matches).toEqual([
      { candidate: 'wrong', matched: 0, total: 1, shapesAgree: false, mismatches: [`${Q}: ${Q} in wrong is [3, 2], the adapter needs [2, 3]`] },
      { candidate: 'right', matched: 1, total: 1, shapesAgree: true, mismatches: [] },
    ]);
    expect(agreeingBases(matches).map((m) => m.candidate)).toEqual(['right']);
  });

  it('finds the modules of a GGUF-named base by their llama.cpp names, but will not merge into it', async () => {
    const { adapter } = await handCase();
    const targets = loraTargets(adapter);
    const gguf = memorySource(new Map([['blk.0.attn_q.weight', matrix(HAND_W)]]), 'base.gguf', { format: 'gguf' });
    const unrelated = memorySource(new Map([['conv1.weight', float32Tensor([2, 3])]]), 'resnet.safetensors');
    expect(matchAdapterToBase(adapter, targets, gguf, 'gguf')).toEqual({ candidate: 'gguf', matched: 1, total: 1, shapesAgree: true, mismatches: [] });
    expect(matchAdapterToBase(adapter, targets, unrelated, 'resnet')).toEqual({
      candidate: 'resnet',
      matched: 0,
      total: 1,
      shapesAgree: true,
      mismatches: [`${Q}: not in resnet`],
    });
    expect(() => mergedSource(gguf, adapter, targets)).toThrow(
      new FormatError('base.gguf', `names "${Q}" as "blk.0.attn_q.weight"; merging an adapter needs a base named as the adapter's (Hugging Face) checkpoint`),
    );
  });
});

describe('merging an adapter into its base', () => {
  it('gives W + (alpha / r) B A for the 2x3 case worked by hand, and the other tensors as they are', async () => {
    const { adapter, right } = await handCase();
    const merged = mergedSource(right, adapter, loraTargets(adapter));
    expect(merged.path).toBe(`${right.path}+${adapter.path}`);
    expect(merged.tensors).toEqual([
      { name: Q, dtype: 'float32', shape: [2, 3], bytes: 24 },
      { name: 'model.norm.weight', dtype: 'float32', shape: [3], bytes: 12 },
    ]);
    expect([...(await merged.readFloat32(Q))]).toEqual(HAND_MERGED);
    expect([...(await merged.readRows(Q, 1, 1))]).toEqual(HAND_MERGED.slice(3));
    expect([...(await merged.readFloat32('model.norm.weight'))]).toEqual([1, 1, 1]);
  });

  it('merges seeded random linear and embedding factors as plain loops do, and takes saved whole tensors', async () => {
    const rng = new Rng(16);
    const r = 3;
    const w = { q: randomMatrix(rng, 6, 5), embed: randomMatrix(rng, 7, 5), head: randomMatrix(rng, 7, 5) };
    const qa = randomMatrix(rng, r, 5);
    const qb = randomMatrix(rng, 6, r);
    const ea = randomMatrix(rng, r, 7);
    const eb = randomMatrix(rng, 5, r);
    const savedHead = randomMatrix(rng, 7, 5);
    const adapter = await open(
      await writeAdapter(
        join(dir, 'random'),
        { ...LORA_CONFIG, r, lora_alpha: 5 },
        new Map([
          ['base_model.model.model.embed_tokens.lora_embedding_A', matrix(ea)],
          ['base_model.model.model.embed_tokens.lora_embedding_B', matrix(eb)],
          [QA, matrix(qa)],
          [QB, matrix(qb)],
          ['base_model.model.lm_head.weight', matrix(savedHead)],
        ]),
      ),
    );
    const base = await open(
      await writeBase(
        join(dir, 'random-base.safetensors'),
        new Map([
          ['model.embed_tokens.weight', matrix(w.embed)],
          [Q, matrix(w.q)],
          ['lm_head.weight', matrix(w.head)],
        ]),
      ),
    );
    const merged = mergedSource(base, adapter, loraTargets(adapter));
    expectClose(await merged.readFloat32(Q), expectedMerge(w.q, qa, qb, 5 / 3, false));
    expectClose(await merged.readFloat32('model.embed_tokens.weight'), expectedMerge(w.embed, ea, eb, 5 / 3, true));
    expect([...(await merged.readFloat32('lm_head.weight'))]).toEqual(savedHead.flat());
    await expectRowsSliceWhole(merged);
  });

  it('adds (B A) transposed to a Conv1D weight stored [in, out] when fan_in_fan_out is set', async () => {
    const rng = new Rng(7);
    const w = randomMatrix(rng, 5, 6);
    const a = randomMatrix(rng, 2, 5);
    const b = randomMatrix(rng, 6, 2);
    const name = 'transformer.h.0.attn.c_attn.weight';
    const adapter = memoryAdapter(
      { ...LORA_CONFIG, lora_alpha: 3, fan_in_fan_out: true },
      new Map([
        ['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight', matrix(a)],
        ['base_model.model.transformer.h.0.attn.c_attn.lora_B.weight', matrix(b)],
      ]),
    );
    const base = memorySource(new Map([[name, matrix(w)]]), 'gpt2.safetensors');
    const merged = mergedSource(base, adapter, loraTargets(adapter));
    expectClose(await merged.readFloat32(name), expectedMerge(w, a, b, 3 / 2, true));
    await expectRowsSliceWhole(merged);
  });

  it('refuses a base whose tensor is shaped otherwise than the factors say', async () => {
    const { adapter, wrong } = await handCase();
    expect(() => mergedSource(wrong, adapter, loraTargets(adapter))).toThrow(
      new FormatError(wrong.file, `tensor "${Q}" is [3, 2]; the adapter's ${QA} needs [2, 3]`),
    );
  });
});
