/**
 * An ONNX model as a model source. The .onnx file is read and parsed whole (it holds the graph and
 * any inline initializers; protobuf caps it at 2 GiB); initializers kept in external files beside
 * it (how big models are saved) are only located on open, each file checked to lie inside the
 * model's folder and each range inside its file, and read by row range on demand. Names are those
 * reading the file whole gives: PyTorch names through Identity aliases (see onnx/weights.ts).
 *
 * Beyond the ModelSource interface, an ONNX source hands out the parsed model itself
 * (OnnxModelSource.readOnnxModel), for code that runs the file's own graph.
 */
import { readInputFile } from '../formats/input-file.js';
import { FormatError } from '../formats/errors.js';
import { ExternalDataFiles } from '../formats/onnx/external-files.js';
import type { OnnxExternalData } from '../formats/onnx/external-data.js';
import type { OnnxAttributes, OnnxGraph, OnnxModel } from '../formats/onnx/model.js';
import { parseOnnxModel } from '../formats/onnx/reader.js';
import { onnxAliasGroups, onnxFileMetadata, type OnnxAliasGroup } from '../formats/onnx/weights.js';
import { dtypeSize, tensorBytes, tensorByteLength, tensorFromBytes, type Tensor } from '../tensor.js';
import { byteRangeReader, elementEntry, ListedSource, type SourceEntry, type SourceOrigin, type SourceParts } from './listed-source.js';
import type { ModelSource } from './types.js';

/** A parsed ONNX file with every tensor in memory, and its alias groups (the names its weights go by). */
export interface LoadedOnnxModel {
  model: OnnxModel;
  groups: OnnxAliasGroup[];
}

/** A ModelSource opened from an ONNX file. */
export interface OnnxModelSource extends ModelSource {
  /**
   * The parsed file with every tensor kept in an external file read whole, in its stored dtype,
   * through this source's open files; and its alias groups. The model is parsed once, on open: each
   * call returns the same inline tensors and reads the external ones again.
   */
  readOnnxModel(): Promise<LoadedOnnxModel>;
}

export function isOnnxModelSource(source: ModelSource): source is OnnxModelSource {
  return source instanceof OnnxSource;
}

/** Where an external tensor's bytes are; the tensor standing in for it in the parsed model is its key. */
type ExternalTensors = ReadonlyMap<Tensor, { data: OnnxExternalData; what: string }>;

class OnnxSource extends ListedSource implements OnnxModelSource {
  constructor(
    parts: SourceParts,
    private readonly model: OnnxModel,
    private readonly external: ExternalTensors,
    private readonly files: ExternalDataFiles,
  ) {
    super(parts);
  }

  async readOnnxModel(): Promise<LoadedOnnxModel> {
    if (this.external.size === 0) return { model: this.model, groups: onnxAliasGroups(this.model) };
    const loaded = new Map<Tensor, Tensor>();
    for (const [standIn, { data, what }] of this.external) loaded.set(standIn, await this.readWhole(data, what));
    const model = { ...this.model, graph: withTensors(this.model.graph, loaded) };
    return { model, groups: onnxAliasGroups(model) };
  }

  private async readWhole(data: OnnxExternalData, what: string): Promise<Tensor> {
    try {
      return tensorFromBytes(data.dtype, data.shape, await this.files.read(data, 0, data.length, what), false);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      throw new FormatError(this.file, `${what} (${data.length} bytes of external data) cannot be read into memory at once (${err.message})`);
    }
  }
}

/** The graph with each stand-in tensor (initializers, tensor attributes, subgraphs) replaced by its loaded tensor. */
function withTensors(graph: OnnxGraph, loaded: ReadonlyMap<Tensor, Tensor>): OnnxGraph {
  const swap = (t: Tensor): Tensor => loaded.get(t) ?? t;
  const attributes = (attrs: OnnxAttributes): OnnxAttributes => {
    const out: OnnxAttributes = {};
    for (const [name, a] of Object.entries(attrs)) {
      if (a.type === 'tensor') out[name] = { type: 'tensor', value: swap(a.value) };
      else if (a.type === 'graph') out[name] = { type: 'graph', value: withTensors(a.value, loaded) };
      else out[name] = a;
    }
    return out;
  };
  return {
    ...graph,
    initializers: new Map([...graph.initializers].map(([name, t]) => [name, swap(t)])),
    nodes: graph.nodes.map((node) => ({ ...node, attributes: attributes(node.attributes) })),
  };
}

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

export async function openOnnxSource(origin: SourceOrigin): Promise<OnnxModelSource> {
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
    const parts = { ...origin, format: 'onnx', metadata: onnxFileMetadata(model), entries, close: () => files.close() };
    return new OnnxSource(parts, model, external, files);
  } catch (err) {
    await files.close();
    throw err;
  }
}
