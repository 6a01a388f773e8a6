/**
 * A GGUF file as a model source: the header is read on open; a range of rows is read and
 * dequantised on its own wherever it is a whole number of ggml rows (every tensor of two or more
 * dimensions); 1-d tensors, one ggml row, are read whole and cut.
 */
import { GgufFile, type GgufTensorEntry } from '../formats/gguf/file.js';
import { ListedSource, type SourceEntry, type SourceOrigin } from './listed-source.js';
import { rowLength } from './rows.js';
import type { ModelSource } from './types.js';

function ggufEntry(gguf: GgufFile, { name, dtype, shape, bytes }: GgufTensorEntry): SourceEntry {
  const tensor = { name, dtype, shape: [...shape], bytes };
  if (rowLength(shape) === 0) return { tensor, readRows: async () => new Float32Array(0) };
  if (shape.length < 2) {
    return { tensor, readRows: async (start, count) => (await gguf.readTensor(name)).slice(start, start + count) };
  }
  // A source row (shape[0]) is this many ggml rows (ne[0] contiguous elements each).
  const ggmlRowsPerRow = rowLength(shape) / shape[shape.length - 1];
  return { tensor, readRows: (start, count) => gguf.readRows(name, start * ggmlRowsPerRow, count * ggmlRowsPerRow) };
}

export async function openGgufSource(origin: SourceOrigin): Promise<ModelSource> {
  const gguf = await GgufFile.open(origin.file);
  return new ListedSource({
    ...origin,
    format: 'gguf',
    metadata: gguf.metadataText(),
    entries: gguf.tensors.map((t) => ggufEntry(gguf, t)),
    close: () => gguf.close(),
  });
}
