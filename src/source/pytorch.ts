/**
 * A `torch.save` checkpoint as a model source: the zip directory and data.pkl are read on open;
 * rows of a contiguous tensor in a stored record are read by byte range, other tensors whole.
 */
import { TorchCheckpointFile, type TorchTensorInfo } from '../formats/torch/file.js';
import { elementEntry, ListedSource, type SourceEntry, type SourceOrigin } from './listed-source.js';
import type { ModelSource } from './types.js';

/** The entry of one tensor of an open checkpoint (a shard, or the whole model). */
export function pytorchEntry(checkpoint: TorchCheckpointFile, info: TorchTensorInfo): SourceEntry {
  const { name, dtype } = info;
  return elementEntry({ ...info, shape: [...info.shape] }, dtype, (first, count) => checkpoint.readElements(name, first, count));
}

export async function openPytorchSource(origin: SourceOrigin): Promise<ModelSource> {
  const checkpoint = await TorchCheckpointFile.open(origin.file);
  return new ListedSource({
    ...origin,
    format: 'pytorch',
    metadata: checkpoint.metadata,
    entries: checkpoint.tensors.map((info) => pytorchEntry(checkpoint, info)),
    close: () => checkpoint.close(),
  });
}
