/**
 * The one way to open a model: a file in any supported format, or a model folder, as a lazy
 * ModelSource. The format is chosen by the file's magic bytes first and its name second (see
 * formats/index.ts detectFormat); a shard index is PyTorch when its name says `.bin`/`.pt`/`.pth`.
 */
import { basename } from 'node:path';
import { detectFormat } from '../formats/index.js';
import { statInput } from '../formats/input-file.js';
import { resolveModelFolder } from './folder.js';
import { openGgufSource } from './gguf.js';
import type { SourceOrigin } from './listed-source.js';
import { openNpySource } from './npy.js';
import { openOnnxSource } from './onnx.js';
import { openPeftSource, resolveAdapterFolder } from './peft.js';
import { openPytorchSource } from './pytorch.js';
import { openSafetensorsSource } from './safetensors.js';
import { openShardedPytorchSource, openShardedSafetensorsSource } from './sharded.js';
import type { ModelSource } from './types.js';

const PYTORCH_INDEX = /\.(bin|pt|pth)\.index\.json$/i;

async function openFile(origin: SourceOrigin): Promise<ModelSource> {
  const { format } = await detectFormat(origin.file);
  switch (format) {
    case 'safetensors':
      return openSafetensorsSource(origin);
    case 'safetensors-sharded':
      return PYTORCH_INDEX.test(basename(origin.file)) ? openShardedPytorchSource(origin) : openShardedSafetensorsSource(origin);
    case 'pytorch':
      return openPytorchSource(origin);
    case 'onnx':
      return openOnnxSource(origin);
    case 'npy':
      return openNpySource(origin);
    case 'gguf':
      return openGgufSource(origin);
  }
}

/**
 * Opens a model file or folder, reading headers only (an ONNX file is parsed whole; its external
 * data is not read). A folder holding adapter_config.json opens as its PEFT LoRA adapter (peft.ts).
 * Close the source when done with it.
 */
export async function openModelSource(path: string): Promise<ModelSource> {
  if (!(await statInput(path)).isDirectory()) return openFile({ path, file: path });
  const adapter = await resolveAdapterFolder(path);
  if (adapter !== undefined) return openPeftSource(path, adapter.file, adapter.config);
  return openFile({ path, ...(await resolveModelFolder(path)) });
}
