/** A safetensors file as a model source: the header is read on open, rows are read by byte range. */
import { SafetensorsFile } from '../formats/safetensors/file.js';
import { byteRangeReader, elementEntry, ListedSource, type SourceEntry, type SourceOrigin } from './listed-source.js';
import type { ModelSource } from './types.js';

/** The entry of one tensor of an open safetensors file (a shard, or the whole model). */
export function safetensorsEntry(st: SafetensorsFile, name: string): SourceEntry {
  const { dtype, shape, begin, end } = st.entry(name);
  const tensor = { name, dtype, shape: [...shape], bytes: end - begin };
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
