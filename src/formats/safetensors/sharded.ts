/**
 * Sharded checkpoints: a `model.safetensors.index.json` whose weight_map sends each tensor name to
 * the shard file holding it. Shard names come from the (untrusted) index, so they must stay inside
 * the index's folder.
 */
import { promises as fs } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, win32 } from 'node:path';
import { isJsonObject } from '../../base/validate.js';
import type { Tensor, Weights } from '../../tensor.js';
import { check, FormatError } from '../errors.js';
import { withInputFile } from '../input-file.js';
import type { TensorInfo, WeightFile } from '../types.js';
import { SafetensorsFile } from './file.js';
import { checkJsonNesting, MAX_HEADER_BYTES } from './header.js';

interface ShardIndex {
  metadata: Record<string, string>;
  /** tensor name -> shard name, in weight_map order. */
  weightMap: Map<string, string>;
  /**
   * Resolved shard path -> the shard's name in the index and its tensors, shards in order of first
   * appearance. Keyed by path so `a.safetensors` and `./a.safetensors` are one shard, opened once.
   */
  byShard: Map<string, { shard: string; names: string[] }>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Root -> "metadata" or "weight_map" -> a metadata value that is a flat list or object. */
const MAX_INDEX_DEPTH = 3;

/** Index metadata is free-form JSON (e.g. `"total_size": 123`); ours is strings only. */
function stringifyMetadata(value: unknown, indexPath: string): Record<string, string> {
  if (value === undefined) return {};
  check(isJsonObject(value), indexPath, '"metadata" must be an object');
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function checkShardName(shard: unknown, tensor: string, indexPath: string): asserts shard is string {
  check(typeof shard === 'string' && shard.length > 0, indexPath, `weight_map entry for tensor "${tensor}" must be a non-empty file name`);
  const escapes =
    shard.includes('\0') ||
    isAbsolute(shard) ||
    win32.isAbsolute(shard) ||
    shard.split(/[\\/]/).includes('..') ||
    relative(dirname(resolve(indexPath)), resolve(dirname(indexPath), shard)).startsWith('..');
  check(!escapes, indexPath, `shard "${shard}" for tensor "${tensor}" is not a file inside the index's folder`);
}

async function readIndex(indexPath: string): Promise<ShardIndex> {
  const bytes = await withInputFile(indexPath, (input) => {
    check(input.size <= MAX_HEADER_BYTES, indexPath, `index is ${input.size} bytes, more than the ${MAX_HEADER_BYTES}-byte limit`);
    return input.readAll();
  });
  checkJsonNesting(bytes, MAX_INDEX_DEPTH, indexPath, 'index', 0);
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw new FormatError(indexPath, `index is not valid JSON (${(err as Error).message})`);
  }
  check(isJsonObject(parsed), indexPath, 'index must be a JSON object with a "weight_map"');
  check(isJsonObject(parsed.weight_map), indexPath, 'index has no "weight_map" object mapping tensor names to shard files');
  const metadata = stringifyMetadata(parsed.metadata, indexPath);
  const weightMap = new Map<string, string>();
  const byShard = new Map<string, { shard: string; names: string[] }>();
  const folder = dirname(indexPath);
  for (const [tensor, shard] of Object.entries(parsed.weight_map)) {
    checkShardName(shard, tensor, indexPath);
    weightMap.set(tensor, shard);
    const path = resolve(folder, shard);
    const entry = byShard.get(path);
    if (entry) entry.names.push(tensor);
    else byShard.set(path, { shard, names: [tensor] });
  }
  return { metadata, weightMap, byShard };
}

/**
 * Opens every shard once, in turn, and hands it with the names the index assigns to it. Two names
 * reaching one file (symlinks, hard links) are refused: each shard's bytes are read at most once.
 */
async function forEachShard(
  indexPath: string,
  index: ShardIndex,
  visit: (shard: SafetensorsFile, names: readonly string[]) => Promise<void>,
): Promise<void> {
  const opened = new Map<string, string>();
  for (const [path, { shard, names }] of index.byShard) {
    const exists = await fs.stat(path).then(
      () => true,
      () => false,
    );
    check(exists, indexPath, () => `shard "${shard}" (holding tensor "${names[0]}") does not exist at ${path}`);
    const file = await SafetensorsFile.open(path);
    try {
      const twin = opened.get(file.identity);
      check(twin === undefined, indexPath, () => `shards "${twin}" and "${shard}" are the same file; each shard must be a file of its own`);
      opened.set(file.identity, shard);
      for (const name of names) {
        check(file.has(name), indexPath, () => `tensor "${name}" is listed in shard "${shard}", which does not contain it`);
      }
      await visit(file, names);
    } finally {
      await file.close();
    }
  }
}

/** The index's own metadata wins over what the shards repeat (typically {"format": "pt"}). */
function mergeMetadata(shards: [string, string][], index: Record<string, string>): Record<string, string> {
  return Object.fromEntries([...shards, ...Object.entries(index)]);
}

/** Reads a sharded checkpoint whole; tensors come back in weight_map order. */
export async function readShardedSafetensors(indexPath: string): Promise<WeightFile> {
  const index = await readIndex(indexPath);
  const read = new Map<string, Tensor>();
  const shardMetadata: [string, string][] = [];
  await forEachShard(indexPath, index, async (file, names) => {
    for (const entry of Object.entries(file.metadata)) shardMetadata.push(entry);
    for (const name of names) read.set(name, await file.read(name));
  });
  const weights: Weights = new Map();
  for (const name of index.weightMap.keys()) weights.set(name, read.get(name) as Tensor);
  return { file: indexPath, format: 'safetensors-sharded', metadata: mergeMetadata(shardMetadata, index.metadata), weights };
}

/**
 * A sharded checkpoint's metadata and tensors (weight_map order) from the index and the shard
 * headers, reading no tensor data.
 */
export async function readShardedSafetensorsHeader(indexPath: string): Promise<{ metadata: Record<string, string>; tensors: TensorInfo[] }> {
  const index = await readIndex(indexPath);
  const infos = new Map<string, TensorInfo>();
  const shardMetadata: [string, string][] = [];
  await forEachShard(indexPath, index, async (file, names) => {
    for (const entry of Object.entries(file.metadata)) shardMetadata.push(entry);
    const wanted = new Set(names);
    for (const info of file.tensors) if (wanted.has(info.name)) infos.set(info.name, info);
  });
  const tensors = [...index.weightMap.keys()].map((name) => infos.get(name) as TensorInfo);
  return { metadata: mergeMetadata(shardMetadata, index.metadata), tensors };
}

/** Lists a sharded checkpoint's tensors (weight_map order) from the shard headers, reading no data. */
export async function listShardedSafetensors(indexPath: string): Promise<TensorInfo[]> {
  return (await readShardedSafetensorsHeader(indexPath)).tensors;
}
