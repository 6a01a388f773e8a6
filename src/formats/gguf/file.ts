/**
 * A GGUF file opened for lazy reading: opening reads and validates the header alone; each tensor
 * (or a range of its rows) is then read from its own bytes on demand and dequantised to float32.
 */
import { makeTensor, type Weights } from '../../tensor.js';
import { check, FormatError } from '../errors.js';
import { allocateInputBuffer, InputFile } from '../input-file.js';
import type { TensorInfo, WeightFile } from '../types.js';
import { NeedMoreBytes } from './cursor.js';
import { dequantize } from './dequantize.js';
import { MAX_HEADER_BYTES, parseGgufHeader, type GgufHeader, type GgufTensorInfo } from './header.js';
import { metadataValueText, type GgufValue } from './metadata.js';
import { isSupportedGgmlType, unsupportedReason, type GgmlTypeName } from './types.js';

/** The first piece of a file read for its header; most headers fit, bigger ones double it. */
const FIRST_HEADER_READ = 1 << 20;

/** What the header says about one tensor. */
export interface GgufTensorEntry {
  name: string;
  /** The ggml type name, e.g. "Q4_K". */
  dtype: GgmlTypeName;
  /** numpy order (rows, cols): the reverse of ggml's ne. */
  shape: number[];
  /** Bytes the tensor takes in the file. */
  bytes: number;
  /** Absolute offset of its data in the file. */
  offset: number;
}

function allocate<T>(make: () => T, file: string, what: string, bytes: number): T {
  try {
    return make();
  } catch {
    throw new FormatError(file, `${what} needs ${bytes} bytes, more than can be allocated`);
  }
}

/**
 * Reads a file's header in growing prefixes: the parser says how far it needs to go, and no
 * prefix is longer than the file or the header limit, so the cost is bounded by the header.
 */
async function readHeader(input: InputFile): Promise<GgufHeader> {
  const limit = Math.min(input.size, MAX_HEADER_BYTES);
  let prefix = await input.read(0, Math.min(FIRST_HEADER_READ, limit), 'the GGUF header');
  for (;;) {
    try {
      return parseGgufHeader(prefix, input.size, input.path);
    } catch (err) {
      if (!(err instanceof NeedMoreBytes)) throw err;
      const longer = Math.min(limit, Math.max(2 * prefix.byteLength, err.needed));
      prefix = await input.read(0, longer, 'the GGUF header');
    }
  }
}

export class GgufFile {
  readonly file: string;
  readonly version: number;
  readonly alignment: number;
  /** Metadata key-value pairs, in file order. */
  readonly metadata: ReadonlyMap<string, GgufValue>;
  /** In file order. */
  readonly tensors: readonly GgufTensorEntry[];
  private readonly infos: Map<string, GgufTensorInfo>;
  private input: InputFile | undefined;

  private constructor(input: InputFile, header: GgufHeader) {
    this.file = input.path;
    this.input = input;
    this.version = header.version;
    this.alignment = header.alignment;
    this.metadata = header.metadata;
    this.infos = new Map(header.tensors.map((t) => [t.name, t]));
    this.tensors = header.tensors.map((t) => ({ name: t.name, dtype: t.type.name, shape: [...t.shape], bytes: t.bytes, offset: t.fileOffset }));
  }

  /**
   * Opens and validates a GGUF file (header only). Refuses a file holding a tensor of a type we
   * cannot dequantise, naming the tensor and its type, so no later read fails halfway.
   */
  static async open(path: string): Promise<GgufFile> {
    const input = await InputFile.open(path);
    try {
      const header = await readHeader(input);
      for (const t of header.tensors) {
        if (!isSupportedGgmlType(t.type.name)) throw new FormatError(path, `tensor "${t.name}": ${unsupportedReason(t.type.name)}`);
      }
      return new GgufFile(input, header);
    } catch (err) {
      await input.close();
      throw err;
    }
  }

  has(name: string): boolean {
    return this.infos.has(name);
  }

  /** The header's full description of a tensor: ggml dims, rows, row length and bytes per row. */
  info(name: string): GgufTensorInfo {
    const info = this.infos.get(name);
    check(info !== undefined, this.file, () => `no tensor named "${name}"`);
    return info;
  }

  /** The whole tensor dequantised to float32, in numpy (C) order of `shape`. */
  async readTensor(name: string): Promise<Float32Array> {
    return this.readRows(name, 0, this.info(name).rows);
  }

  /**
   * Rows [start, start + count) dequantised to float32. A row is the ne[0] contiguous elements
   * (the last numpy axis) and always a whole number of blocks, so any row range can be decoded
   * on its own; only its bytes are read.
   */
  async readRows(name: string, start: number, count: number): Promise<Float32Array> {
    const info = this.info(name);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0 || start + count > info.rows) {
      throw new RangeError(`${this.file}: rows [${start}, ${start}+${count}) are outside tensor "${name}", which has ${info.rows} rows`);
    }
    const input = this.input;
    check(input !== undefined, this.file, 'file is already closed');
    const what = `rows ${start}..${start + count} of tensor "${name}"`;
    const byteLength = count * info.rowBytes;
    const values = allocate(() => new Float32Array(count * info.rowLength), this.file, what, count * info.rowLength * 4);
    // float32 data needs no conversion: read it straight into the result.
    const raw = info.type.name === 'F32' ? new Uint8Array(values.buffer) : allocateInputBuffer(byteLength, this.file, what);
    await input.readInto(raw, info.fileOffset + start * info.rowBytes, what);
    if (info.type.name !== 'F32') dequantize(info.type, raw, values, { file: this.file, tensor: name });
    return values;
  }

  /** Every tensor dequantised to float32, in file order. */
  async readAll(): Promise<Weights> {
    const weights: Weights = new Map();
    for (const t of this.tensors) weights.set(t.name, makeTensor('float32', t.shape, await this.readTensor(t.name)));
    return weights;
  }

  /** Metadata rendered one line per key, for listings (long arrays abbreviated). */
  metadataText(): Record<string, string> {
    // fromEntries (not assignment) so a hostile "__proto__" key stays a plain data property.
    return Object.fromEntries([...this.metadata].map(([key, value]) => [key, metadataValueText(value)]));
  }

  /** Tensor listing in the shape every format shares; dtype is the ggml type name. */
  tensorInfos(): TensorInfo[] {
    return this.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: t.bytes }));
  }

  async close(): Promise<void> {
    const input = this.input;
    this.input = undefined;
    await input?.close();
  }
}

/** Reads a whole GGUF file, every tensor dequantised to float32. */
export async function readGgufFile(path: string): Promise<WeightFile> {
  const gguf = await GgufFile.open(path);
  try {
    return { file: path, format: 'gguf', metadata: gguf.metadataText(), weights: await gguf.readAll() };
  } finally {
    await gguf.close();
  }
}

/** Lists a GGUF file's metadata and tensors from its header alone. */
export async function listGgufFile(path: string): Promise<{ metadata: Record<string, string>; tensors: TensorInfo[] }> {
  const gguf = await GgufFile.open(path);
  try {
    return { metadata: gguf.metadataText(), tensors: gguf.tensorInfos() };
  } finally {
    await gguf.close();
  }
}
