/**
 * Sharded checkpoints as one model source: `model.safetensors.index.json` (safetensors shards) or
 * `pytorch_model.bin.index.json` (torch.save shards). The index and every shard's header are read
 * on open, with the index's checks (shards inside its folder, each a file of its own, each holding
 * the tensors the index gives it); shards stay open until the source is closed.
 */
import { SafetensorsFile } from '../formats/safetensors/file.js';
import { mergeShardMetadata, openShard, readShardIndex, type ShardFile } from '../formats/shard-index.js';
import { TorchCheckpointFile } from '../formats/torch/file.js';
import { ListedSource, type SourceEntry, type SourceOrigin } from './listed-source.js';
import { pytorchEntry } from './pytorch.js';
import { safetensorsEntry } from './safetensors.js';
import type { ModelSource } from './types.js';

interface ShardKind<T extends ShardFile> {
  format: string;
  open(path: string): Promise<T>;
  metadata(shard: T): Record<string, string>;
  /** The entries of the named tensors of a shard. */
  entries(shard: T, names: readonly string[]): SourceEntry[];
}

const SAFETENSORS_SHARDS: ShardKind<SafetensorsFile> = {
  format: 'safetensors-sharded',
  open: (path) => SafetensorsFile.open(path),
  metadata: (shard) => shard.metadata,
  entries: (shard, names) => names.map((name) => safetensorsEntry(shard, name)),
};

const PYTORCH_SHARDS: ShardKind<TorchCheckpointFile> = {
  format: 'pytorch-sharded',
  open: (path) => TorchCheckpointFile.open(path),
  metadata: (shard) => shard.metadata,
  entries: (shard, names) => {
    const wanted = new Set(names);
    return shard.tensors.filter((info) => wanted.has(info.name)).map((info) => pytorchEntry(shard, info));
  },
};

async function closeAll(shards: readonly ShardFile[]): Promise<void> {
  for (const shard of shards) await shard.close();
}

async function openSharded<T extends ShardFile>(origin: SourceOrigin, kind: ShardKind<T>): Promise<ModelSource> {
  const indexPath = origin.file;
  const index = await readShardIndex(indexPath);
  const shards: T[] = [];
  const entries = new Map<string, SourceEntry>();
  const shardMetadata: [string, string][] = [];
  const opened = new Map<string, string>();
  try {
    for (const [path, assigned] of index.byShard) {
      const shard = await openShard(indexPath, path, assigned, opened, kind.open);
      shards.push(shard);
      for (const pair of Object.entries(kind.metadata(shard))) shardMetadata.push(pair);
      for (const entry of kind.entries(shard, assigned.names)) entries.set(entry.tensor.name, entry);
    }
  } catch (err) {
    await closeAll(shards);
    throw err;
  }
  return new ListedSource({
    ...origin,
    format: kind.format,
    metadata: mergeShardMetadata(shardMetadata, index.metadata),
    // openShard checked that every shard holds the names the index gives it.
    entries: [...index.weightMap.keys()].map((name) => entries.get(name) as SourceEntry),
    close: () => closeAll(shards),
  });
}

export function openShardedSafetensorsSource(origin: SourceOrigin): Promise<ModelSource> {
  return openSharded(origin, SAFETENSORS_SHARDS);
}

export function openShardedPytorchSource(origin: SourceOrigin): Promise<ModelSource> {
  return openSharded(origin, PYTORCH_SHARDS);
}
