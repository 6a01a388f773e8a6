/** A safetensors file as a model source: the header is read on open, rows are read by byte range. */
import { SafetensorsFile } from '../formats/safetensors/file.js';
import { byteRangeReader, elementEntry, ListedSource, type SourceEntry, type SourceOrigin } from './listed-source.js';
import { blockBuffer } from './block-buffers.js';
import { widenBfloat16InPlace } from './decode.js';
import { rowLength } from './rows.js';
import type { ModelSource, SourceTensor } from './types.js';

/**
 * bf16 and float32 rows are read straight into a reusable float32 block (block-buffers.ts), bf16
 * into its upper half and widened in place: no byte buffer per read, no fresh memory per block.
 */
function blockEntry(st: SafetensorsFile, tensor: SourceTensor, dtype: 'bfloat16' | 'float32'): SourceEntry {
  const perRow = rowLength(tensor.shape);
  const size = dtype === 'bfloat16' ? 2 : 4;
  return {
    tensor,
    readRows: async (start, count) => {
      const n = count * perRow;
      const buffer = blockBuffer(4 * n);
      await st.readBytesInto(tensor.name, start * perRow * size, new Uint8Array(buffer, 4 * n - size * n, size * n));
      return dtype === 'bfloat16' ? widenBfloat16InPlace(buffer) : new Float32Array(buffer);
    },
  };
}

/** The entry of one tensor of an open safetensors file (a shard, or the whole model). */
export function safetensorsEntry(st: SafetensorsFile, name: string): SourceEntry {
  const { dtype, shape, begin, end } = st.entry(name);
  const tensor = { name, dtype, shape: [...shape], bytes: end - begin };
  if (dtype === 'bfloat16' || dtype === 'float32') return blockEntry(st, tensor, dtype);
  return elementEntry(
    tensor,
    dtype,
    byteRangeReader(dtype, (offset, length) => st.readBytes(name, offset, length)),
  );
}

export async function openSafetensorsSource(origin: SourceOrigin): Promise<ModelSource> {
  const st = await SafetensorsFile.open(origin.file);
  return new ListedSource({
    ...origin,
    format: 'safetensors',
    metadata: st.metadata,
    entries: st.tensors.map((t) => safetensorsEntry(st, t.name)),
    close: () => st.close(),
  });
}
