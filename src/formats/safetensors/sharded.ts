/**
 * Sharded safetensors checkpoints: a `model.safetensors.index.json` whose weight_map sends each
 * tensor name to the shard file holding it (index reading and shard checks: ../shard-index.ts).
 */
import type { Tensor, Weights } from '../../tensor.js';
import { mergeShardMetadata, openShard, readShardIndex, type ShardIndex } from '../shard-index.js';
import type { TensorInfo, WeightFile } from '../types.js';
import { SafetensorsFile } from './file.js';

/**
 * Opens every shard once, in turn, and hands it with the names the index assigns to it. Two names
 * reaching one file (symlinks, hard links) are refused: each shard's bytes are read at most once.
 */
async function forEachShard(indexPath: string, index: ShardIndex, visit: (shard: SafetensorsFile, names: readonly string[]) => Promise<void>): Promise<void> {
  const opened = new Map<string, string>();
  for (const [path, entry] of index.byShard) {
    const file = await openShard(indexPath, path, entry, opened, SafetensorsFile.open);
    try {
      await visit(file, entry.names);
    } finally {
      await file.close();
    }
  }
}

/** Reads a sharded checkpoint whole; tensors come back in weight_map order. */
export async function readShardedSafetensors(indexPath: string): Promise<WeightFile> {
  const index = await readShardIndex(indexPath);
  const read = new Map<string, Tensor>();
  const shardMetadata: [string, string][] = [];
  await forEachShard(indexPath, index, async (file, names) => {
    for (const entry of Object.entries(file.metadata)) shardMetadata.push(entry);
    for (const name of names) read.set(name, await file.read(name));
  });
  const weights: Weights = new Map();
  for (const name of index.weightMap.keys()) weights.set(name, read.get(name) as Tensor);
  return { file: indexPath, format: 'safetensors-sharded', metadata: mergeShardMetadata(shardMetadata, index.metadata), weights };
}

/**
 * A sharded checkpoint's metadata and tensors (weight_map order) from the index and the shard
 * headers, reading no tensor data.
 */
export async function readShardedSafetensorsHeader(indexPath: string): Promise<{ metadata: Record<string, string>; tensors: TensorInfo[] }> {
  const index = await readShardIndex(indexPath);
  const infos = new Map<string, TensorInfo>();
  const shardMetadata: [string, string][] = [];
  await forEachShard(indexPath, index, async (file, names) => {
    for (const entry of Object.entries(file.metadata)) shardMetadata.push(entry);
    const wanted = new Set(names);
    for (const info of file.tensors) if (wanted.has(info.name)) infos.set(info.name, info);
  });
  const tensors = [...index.weightMap.keys()].map((name) => infos.get(name) as TensorInfo);
  return { metadata: mergeShardMetadata(shardMetadata, index.metadata), tensors };
}

/** Lists a sharded checkpoint's tensors (weight_map order) from the shard headers, reading no data. */
export async function listShardedSafetensors(indexPath: string): Promise<TensorInfo[]> {
  return (await readShardedSafetensorsHeader(indexPath)).tensors;
}
