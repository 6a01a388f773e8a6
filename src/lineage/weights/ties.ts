/**
 * Tied LM heads. A model whose output projection is its token embedding either stores no head
 * (safetensors, llama.cpp) or stores a copy (PyTorch .bin with shared storage; llama.cpp's GPT-2,
 * which writes `output.weight` beside `token_embd.weight`). Either way the matrix is one set of
 * parameters, compared and counted once.
 */
import type { ModelSource, SourceTensor } from '../../source/types.js';
import { readBlock, rowCount, rowLength, rowsPerBlock } from './blocks.js';
import type { ModelNaming } from './model-naming.js';
import { LM_HEAD, TOKEN_EMBEDDING } from './naming.js';

export interface HeadTie {
  embedding: SourceTensor | undefined;
  /** The LM head as stored, if the file has one. */
  head: SourceTensor | undefined;
  /** The head is the embedding (stored or not). */
  tied: boolean;
}

function byKey(source: ModelSource, naming: ModelNaming, key: string): SourceTensor | undefined {
  return source.tensors.find((t) => naming.keys.get(t.name) === key);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** True when both tensors hold the same values, read block by block and stopping at the first difference. */
export async function sameValues(source: ModelSource, x: SourceTensor, y: SourceTensor, blockBytes: number): Promise<boolean> {
  if (!sameShape(x.shape, y.shape)) return false;
  const rows = rowCount(x.shape);
  const step = rowsPerBlock(blockBytes, rowLength(x.shape));
  for (let start = 0; start < rows; start += step) {
    const count = Math.min(step, rows - start);
    const [u, v] = await Promise.all([readBlock(source, x, start, count), readBlock(source, y, start, count)]);
    for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return false;
  }
  return true;
}

/** Decides from config.json, the GGUF architecture or, failing those, the values whether the head is the embedding. */
export async function headTie(source: ModelSource, naming: ModelNaming, blockBytes: number): Promise<HeadTie> {
  const embedding = byKey(source, naming, TOKEN_EMBEDDING);
  const head = byKey(source, naming, LM_HEAD);
  if (embedding === undefined) return { embedding, head, tied: false };
  if (head === undefined) return { embedding, head, tied: true };
  const declared = source.config?.tie_word_embeddings;
  if (typeof declared === 'boolean') return { embedding, head, tied: declared };
  if (naming.family === 'gguf' && naming.architecture === 'gpt2') return { embedding, head, tied: true };
  return { embedding, head, tied: await sameValues(source, embedding, head, blockBytes) };
}
