/**
 * An ONNX model as a model source. The .onnx file is read and parsed whole (it holds the graph and
 * any inline initializers; protobuf caps it at 2 GiB); initializers kept in external files beside
 * it (how big models are saved) are only located on open, each file checked to lie inside the
 * model's folder and each range inside its file, and read by row range on demand. Names are those
 * reading the file whole gives: PyTorch names through Identity aliases (see onnx/weights.ts).
 */
import { readInputFile } from '../formats/input-file.js';
import { ExternalDataFiles } from '../formats/onnx/external-files.js';
import type { OnnxExternalData } from '../formats/onnx/external-data.js';
import { parseOnnxModel } from '../formats/onnx/reader.js';
import { onnxAliasGroups, onnxFileMetadata } from '../formats/onnx/weights.js';
import { dtypeSize, tensorBytes, tensorByteLength, tensorFromBytes, type Tensor } from '../tensor.js';
import { byteRangeReader, elementEntry, ListedSource, type SourceEntry, type SourceOrigin } from './listed-source.js';
import type { ModelSource } from './types.js';

function inlineEntry(name: string, tensor: Tensor): SourceEntry {
  const info = { name, dtype: tensor.dtype, shape: [...tensor.shape], bytes: tensorByteLength(tensor) };
  const size = dtypeSize(tensor.dtype);
  return elementEntry(info, tensor.dtype, async (first, count) => tensorBytes(tensor).subarray(first * size, (first + count) * size));
}

function externalEntry(name: string, data: OnnxExternalData, files: ExternalDataFiles): SourceEntry {
  const info = { name, dtype: data.dtype, shape: [...data.shape], bytes: data.length };
  const what = `initializer '${name}'`;
  return elementEntry(
    info,
    data.dtype,
    byteRangeReader(data.dtype, (offset, length) => files.read(data, offset, length, what)),
  );
}

export async function openOnnxSource(origin: SourceOrigin): Promise<ModelSource> {
  const { file } = origin;
  const files = new ExternalDataFiles(file);
  try {
    // Each external tensor is stood in for by an empty tensor of its own, found again by identity.
    const external = new Map<Tensor, { data: OnnxExternalData; what: string }>();
    const model = parseOnnxModel(await readInputFile(file), file, {
      loadExternal: (data, what) => {
        const standIn = tensorFromBytes(data.dtype, [0], new Uint8Array(0));
        external.set(standIn, { data, what });
        return standIn;
      },
    });
    for (const { data, what } of external.values()) await files.check(data, what);
    const entries: SourceEntry[] = [];
    for (const group of onnxAliasGroups(model)) {
      const located = external.get(group.tensor);
      for (const name of group.exposed) entries.push(located ? externalEntry(name, located.data, files) : inlineEntry(name, group.tensor));
    }
    return new ListedSource({ ...origin, format: 'onnx', metadata: onnxFileMetadata(model), entries, close: () => files.close() });
  } catch (err) {
    await files.close();
    throw err;
  }
}
