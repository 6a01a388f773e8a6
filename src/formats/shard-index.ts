/**
 * The index of a sharded checkpoint (`model.safetensors.index.json`, `pytorch_model.bin.index.json`):
 * a weight_map sending each tensor name to the shard file holding it. Shard names come from the
 * (untrusted) index, so they must stay inside the index's folder, and two names may not reach one
 * file.
 */
import { promises as fs } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, win32 } from 'node:path';
import { isJsonObject } from '../base/validate.js';
import { check, FormatError } from './errors.js';
import { withInputFile } from './input-file.js';
import { checkJsonNesting, MAX_HEADER_BYTES } from './safetensors/header.js';

export interface ShardIndex {
  metadata: Record<string, string>;
  /** tensor name -> shard name, in weight_map order. */
  weightMap: Map<string, string>;
  /**
   * Resolved shard path -> the shard's name in the index and its tensors, shards in order of first
   * appearance. Keyed by path so `a.safetensors` and `./a.safetensors` are one shard, opened once.
   */
  byShard: Map<string, { shard: string; names: string[] }>;
}

/** What a shard reader must offer for the checks below. */
export interface ShardFile {
  /** Device and inode, equal for two names that reach one file. */
  readonly identity: string;
  has(name: string): boolean;
  close(): Promise<void>;
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

/** Reads and checks an index (at most MAX_HEADER_BYTES of JSON); opens no shard. */
export async function readShardIndex(indexPath: string): Promise<ShardIndex> {
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
 * Opens one shard of an index with `open` and checks it: it exists, it is not a file already
 * opened under another name (`opened` maps identities to shard names, and is updated), and it holds
 * every tensor the index assigns to it. Closes it again when a check fails.
 */
export async function openShard<T extends ShardFile>(
  indexPath: string,
  path: string,
  { shard, names }: { shard: string; names: readonly string[] },
  opened: Map<string, string>,
  open: (path: string) => Promise<T>,
): Promise<T> {
  const exists = await fs.stat(path).then(
    () => true,
    () => false,
  );
  check(exists, indexPath, () => `shard "${shard}" (holding tensor "${names[0]}") does not exist at ${path}`);
  const file = await open(path);
  try {
    const twin = opened.get(file.identity);
    check(twin === undefined, indexPath, () => `shards "${twin}" and "${shard}" are the same file; each shard must be a file of its own`);
    opened.set(file.identity, shard);
    for (const name of names) {
      check(file.has(name), indexPath, () => `tensor "${name}" is listed in shard "${shard}", which does not contain it`);
    }
    return file;
  } catch (err) {
    await file.close();
    throw err;
  }
}

/** The index's own metadata wins over what the shards repeat (typically {"format": "pt"}). */
export function mergeShardMetadata(shards: [string, string][], index: Record<string, string>): Record<string, string> {
  return Object.fromEntries([...shards, ...Object.entries(index)]);
}
