/**
 * A permuted-then-fine-tuned Llama child through the CLI: C1 (a fine-tune of P1, fixtures/lm) with
 * its MLP units and its attention heads permuted (function-preserving: key/value heads with their
 * query groups, output-projection columns with the query heads; rotary embeddings act within a
 * head, so whole heads may move). Plain weight distance no longer shows P1; aligned methods do, and
 * the relation is `permuted`.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../src/formats/safetensors.js';
import { resolveModel } from '../../../src/lineage/model.js';
import type { Weights } from '../../../src/tensor.js';
import { lineage } from '../../cli/run-cli.js';
import { permuteCols, permuteRows, shuffled } from './models.js';

const LM = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'lm');
const HEAD_DIM = 8;
const KV_HEADS = 2;
const GROUP = 2;
const LAYERS = 2;
const MLP = 64;

/** Query heads in the order their key/value heads now have. */
function queryOrder(kv: readonly number[]): number[] {
  return kv.flatMap((g) => Array.from({ length: GROUP }, (_, j) => g * GROUP + j));
}

function permuted(w: Weights, seed: number): Weights {
  const out = new Map(w);
  const set = (name: string, f: (t: NonNullable<ReturnType<Weights['get']>>) => ReturnType<typeof permuteRows>) => out.set(name, f(out.get(name)!));
  for (let l = 0; l < LAYERS; l++) {
    const p = `model.layers.${l}`;
    const units = shuffled(MLP, seed + l);
    set(`${p}.mlp.gate_proj.weight`, (t) => permuteRows(t, units));
    set(`${p}.mlp.up_proj.weight`, (t) => permuteRows(t, units));
    set(`${p}.mlp.down_proj.weight`, (t) => permuteCols(t, units));
    const kv = [1, 0];
    const q = queryOrder(kv);
    set(`${p}.self_attn.k_proj.weight`, (t) => permuteRows(t, kv, HEAD_DIM));
    set(`${p}.self_attn.v_proj.weight`, (t) => permuteRows(t, kv, HEAD_DIM));
    set(`${p}.self_attn.q_proj.weight`, (t) => permuteRows(t, q, HEAD_DIM));
    set(`${p}.self_attn.o_proj.weight`, (t) => permuteCols(t, q, HEAD_DIM));
  }
  return out;
}

let child = '';
beforeAll(async () => {
  expect(KV_HEADS * GROUP).toBe(4);
  const dir = join(mkdtempSync(join(tmpdir(), 'permuted-')), 'llama-c1-permuted');
  cpSync(join(LM, 'llama-c1'), dir, { recursive: true });
  await writeSafetensors(join(dir, 'model.safetensors'), permuted((await resolveModel(join(LM, 'llama-c1'))).weights, 7));
  child = dir;
});

describe('a permuted fine-tune', () => {
  it('compare: relation permuted against P1, independent against P2', async () => {
    const p1 = JSON.parse((await lineage('compare', join(LM, 'llama-p1'), child, '--json', '--no-p-value')).stdout) as { relation: string };
    const p2 = JSON.parse((await lineage('compare', join(LM, 'llama-p2'), child, '--json', '--no-p-value')).stdout) as { relation: string };
    expect(p1.relation).toBe('permuted');
    expect(p2.relation).toBe('independent');
  }, 60_000);

  it('detect: aligned methods name P1, as plain methods do for the unpermuted child', async () => {
    const r = await lineage(
      'detect',
      '--child',
      child,
      '--parents',
      join(LM, 'llama-p2'),
      join(LM, 'llama-p1'),
      '--method',
      'weights-aligned-l2,weights-aligned-cos',
      '--json',
      '--no-p-value',
    );
    expect(r.code).toBe(0);
    const results = JSON.parse(r.stdout) as { method: string; children: { parent: string }[] }[];
    for (const m of results) expect(m.children[0].parent, m.method).toBe(join(LM, 'llama-p1'));
  }, 60_000);

  it('detect with auto (the default, no probe) aligns a child nothing is related to as stored, and names P1', async () => {
    const r = await lineage('detect', '--child', child, '--parents', join(LM, 'llama-p2'), join(LM, 'llama-p1'), '--json', '--no-p-value');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { method: string; children: { parent: string; aligned?: boolean; evidence: string }[] };
    expect(result.method).toBe('auto');
    expect(result.children[0]).toMatchObject({ parent: join(LM, 'llama-p1'), aligned: true, evidence: 'weights' });
  }, 60_000);

  it('explain: P1, permuted', async () => {
    const r = await lineage('explain', child, '--candidates', join(LM, 'llama-p1'), join(LM, 'llama-p2'), '--json', '--no-p-value');
    const e = JSON.parse(r.stdout) as { parents: { parent: string; relation: string }[] };
    expect(e.parents).toEqual([{ parent: join(LM, 'llama-p1'), relation: 'permuted', coefficient: 1 }]);
  }, 60_000);
});
