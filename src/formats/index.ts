/**
 * One entry point for every weight file a user may have. The format is chosen by the file's
 * magic bytes first and its name second, so a renamed file still loads.
 */
import { promises as fs } from 'node:fs';
import { extname, join } from 'node:path';
import { FormatError } from './errors.js';
import { statInput, withInputFile } from './input-file.js';
import { isNpy } from './npy.js';
import { isGguf } from './gguf/index.js';
import type { WeightFormat } from './types.js';

export type { TensorInfo, WeightFile, WeightFormat } from './types.js';
export { FormatError } from './errors.js';

const SHARD_INDEX = 'model.safetensors.index.json';
/** File names a Hugging Face style model folder uses, in the order we look for them. */
export const FOLDER_CANDIDATES: readonly string[] = [SHARD_INDEX, 'model.safetensors', 'pytorch_model.bin', 'model.onnx'];

/**
 * The model file of a folder: the first candidate name that exists. Only one level: a candidate
 * that is itself a folder (say a symlink back to its parent) is refused, not searched again.
 */
async function resolveFolder(path: string): Promise<string> {
  for (const name of FOLDER_CANDIDATES) {
    const candidate = join(path, name);
    try {
      await fs.stat(candidate);
      return candidate;
    } catch {
      // try the next name
    }
  }
  throw new FormatError(path, `is a folder without a model file (looked for ${FOLDER_CANDIDATES.join(', ')})`);
}

function looksLikeSafetensors(head: Uint8Array): boolean {
  if (head.length < 9) return false;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return view.getBigUint64(0, true) > 1n && head[8] === 0x7b; // '{'
}

/** Decides the format of a file (or of the model file in a folder) from its first bytes and its name. */
export async function detectFormat(path: string): Promise<{ path: string; format: WeightFormat }> {
  if ((await statInput(path)).isDirectory()) return detectFileFormat(await resolveFolder(path));
  return detectFileFormat(path);
}

async function detectFileFormat(path: string): Promise<{ path: string; format: WeightFormat }> {
  // Opening refuses folders, devices and FIFOs; the readers open the file again the same way.
  const head = await withInputFile(path, (input) => input.head(16));
  if (path.endsWith('.index.json')) return { path, format: 'safetensors-sharded' };
  if (isNpy(head)) return { path, format: 'npy' };
  if (isGguf(head)) return { path, format: 'gguf' };
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return { path, format: 'pytorch' };
  if (looksLikeSafetensors(head)) return { path, format: 'safetensors' };
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') return { path, format: 'onnx' };
  if (ext === '.gguf') return { path, format: 'gguf' };
  if (ext === '.safetensors') return { path, format: 'safetensors' };
  if (['.pt', '.pth', '.bin', '.ckpt'].includes(ext)) return { path, format: 'pytorch' };
  if (head.length === 0) throw new FormatError(path, 'file is empty');
  // Protobuf has no magic number: an ONNX ModelProto starts with field 1 (ir_version, varint).
  if (head[0] === 0x08) return { path, format: 'onnx' };
  throw new FormatError(path, 'unrecognised model file: expected .safetensors, a PyTorch zip checkpoint (.pt/.pth/.bin), .onnx, .gguf or .npy');
}

export { isBufferName } from '../base/naming.js';
