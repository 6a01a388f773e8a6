/**
 * Reads a weight file whole with the per-format parsers of src/formats, as the library did before
 * the model source became its one loader. Tests keep it as an independent reference for the
 * source: names, dtypes, shapes and values in file order, from code that shares nothing with
 * src/source but the parsers themselves.
 */
import { basename, extname } from 'node:path';
import { detectFormat, type TensorInfo, type WeightFile, type WeightFormat } from '../../src/formats/index.js';
import { readGgufFile, listGgufFile } from '../../src/formats/gguf/index.js';
import { readInputFile } from '../../src/formats/input-file.js';
import { parseNpy } from '../../src/formats/npy.js';
import { onnxFileMetadata, onnxWeights, parseOnnxModel } from '../../src/formats/onnx/index.js';
import { readSafetensorsFile, readShardedSafetensors, readShardedSafetensorsHeader, SafetensorsFile } from '../../src/formats/safetensors.js';
import { readTorchCheckpoint } from '../../src/formats/torch.js';
import { tensorByteLength } from '../../src/tensor.js';

/** A file's tensors, in file order, plus its metadata, every value read. */
export async function readWholeFile(path: string): Promise<WeightFile> {
  const detected = await detectFormat(path);
  const file = detected.path;
  switch (detected.format) {
    case 'safetensors':
      return readSafetensorsFile(file);
    case 'safetensors-sharded':
      return readShardedSafetensors(file);
    case 'gguf':
      return readGgufFile(file);
    case 'pytorch':
      return readTorchCheckpoint(await readInputFile(file), file);
    case 'onnx': {
      const model = parseOnnxModel(await readInputFile(file), file);
      return { file, format: 'onnx', metadata: onnxFileMetadata(model), weights: onnxWeights(model) };
    }
    case 'npy': {
      const tensor = parseNpy(await readInputFile(file), file);
      const name = basename(file, extname(file));
      return { file, format: 'npy', metadata: {}, weights: new Map([[name, tensor]]) };
    }
  }
}

export interface WholeFileListing {
  file: string;
  format: WeightFormat;
  metadata: Record<string, string>;
  tensors: TensorInfo[];
}

/** A file's tensors as its headers list them (safetensors, shard index, GGUF), else as reading it whole gives them. */
export async function listWholeFile(path: string): Promise<WholeFileListing> {
  const detected = await detectFormat(path);
  if (detected.format === 'safetensors') {
    const st = await SafetensorsFile.open(detected.path);
    try {
      return { file: detected.path, format: 'safetensors', metadata: st.metadata, tensors: st.tensors };
    } finally {
      await st.close();
    }
  }
  if (detected.format === 'safetensors-sharded') {
    const listing = await readShardedSafetensorsHeader(detected.path);
    return { file: detected.path, format: 'safetensors-sharded', metadata: listing.metadata, tensors: listing.tensors };
  }
  if (detected.format === 'gguf') return { file: detected.path, format: 'gguf', ...(await listGgufFile(detected.path)) };
  const whole = await readWholeFile(detected.path);
  const tensors = [...whole.weights].map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape], bytes: tensorByteLength(t) }));
  return { file: whole.file, format: whole.format, metadata: whole.metadata, tensors };
}
