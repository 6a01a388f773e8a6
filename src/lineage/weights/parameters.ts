/**
 * Which tensors of a checkpoint are trained parameters. Buffers (BatchNorm statistics, GPT-2's
 * causal mask, rotary frequency tables, position ids) and integer tensors are stored beside the
 * weights but say nothing about training, and converters drop them, so they are listed as
 * excluded rather than compared or counted.
 */
import { isBufferName } from '../../base/naming.js';
import type { SourceTensor } from '../../source/types.js';

const NON_NUMERIC_DTYPES = new Set(['int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32', 'bool', 'I8', 'I16', 'I32', 'I64', 'U8', 'U16', 'U32']);

/** Buffers named by their role: GPT-2's attention mask, rotary inverse frequencies, BERT's position ids, llama.cpp's rope factors. */
const BUFFER_PATTERNS = [/(^|\.)h\.\d+\.attn\.(masked_)?bias$/, /(^|\.)rotary_emb\.inv_freq$/, /(^|\.)position_ids$/, /^rope_freqs\.weight$/];

/** Why `tensor` is not a trained parameter, or undefined when it is one. */
export function nonParameterReason(tensor: SourceTensor): string | undefined {
  if (isBufferName(tensor.name) || BUFFER_PATTERNS.some((p) => p.test(tensor.name))) return 'buffer, not a trained parameter';
  if (NON_NUMERIC_DTYPES.has(tensor.dtype)) return `${tensor.dtype} tensor, not floating-point weights`;
  return undefined;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
