/** The tree's on-disk pair cache: a rerun compares nothing it has compared; a changed model is compared again. */
import { copyFileSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PairCache } from '../../../src/lineage/tree/pair-cache.js';
import { recoverTree } from '../../../src/lineage/tree/recover.js';

const LM = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'lm');

describe('pair cache', () => {
  it('a rerun takes every pair and every model pass from the cache; a touched model is compared again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pair-cache-'));
    const models = ['llama-p1', 'llama-c1', 'llama-c3', 'llama-p2'].map((m) => {
      copyFileSync(join(LM, m, 'model.safetensors'), join(dir, `${m}.safetensors`));
      return join(dir, `${m}.safetensors`);
    });
    const options = { method: 'weights-cos', relations: false, independence: false as const };
    const first = await PairCache.open(join(dir, 'cache'));
    const tree1 = await recoverTree(models, { ...options, cache: first });
    expect([first.hits, first.misses]).toEqual([0, 6]);
    const second = await PairCache.open(join(dir, 'cache'));
    const tree2 = await recoverTree(models, { ...options, cache: second });
    expect([second.hits, second.misses]).toEqual([6, 0]);
    expect(tree2.edges).toEqual(tree1.edges);
    // Rewriting a file (same bytes, new times) makes it another model to the cache: its 3 pairs again.
    writeFileSync(models[2], readFileSync(models[2]));
    utimesSync(models[2], new Date(), new Date(Date.now() + 5000));
    const third = await PairCache.open(join(dir, 'cache'));
    await recoverTree(models, { ...options, cache: third });
    expect([third.hits, third.misses]).toEqual([3, 3]);
  }, 60_000);

  it('a line cut short by a killed run is skipped, not fatal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pair-cache-'));
    writeFileSync(join(dir, 'pairs.v1.jsonl'), '{"key": "a:b", "comparison": {"tensors": []}}\n{"key": "c:d", "compa');
    const cache = await PairCache.open(dir);
    expect(cache.get('a', 'b')).toBeDefined();
    expect(cache.get('c', 'd')).toBeUndefined();
  });
});
