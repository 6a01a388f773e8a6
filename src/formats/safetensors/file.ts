import type { Tensor, Weights } from '../../tensor.js';
import { check } from '../errors.js';
import { InputFile } from '../input-file.js';
import type { TensorInfo, WeightFile } from '../types.js';
import { entryInfo, parseHeaderJson, parseHeaderLength, PREFIX_BYTES, type SafetensorsEntry } from './header.js';
import { storedTensor } from './widen.js';

/**
 * A safetensors file opened for random access: only the header is read on open, and each tensor
 * is read on demand from its own byte range, so listing or loading one tensor of a huge file costs
 * only that tensor's bytes.
 */
export class SafetensorsFile {
  readonly file: string;
  readonly metadata: Record<string, string>;
  /** In file order. */
  readonly tensors: TensorInfo[];
  private readonly entries: Map<string, SafetensorsEntry>;
  private readonly dataStart: number;
  /** Device and inode of the file, to notice two shard names that reach one file. */
  readonly identity: string;
  private input: InputFile | undefined;

  private constructor(file: string, input: InputFile, metadata: Record<string, string>, entries: SafetensorsEntry[], dataStart: number) {
    this.file = file;
    this.input = input;
    this.identity = input.identity;
    this.metadata = metadata;
    this.entries = new Map(entries.map((e) => [e.name, e]));
    this.tensors = entries.map(entryInfo);
    this.dataStart = dataStart;
  }

  static async open(path: string): Promise<SafetensorsFile> {
    const input = await InputFile.open(path);
    try {
      const { size } = input;
      const prefix = size >= PREFIX_BYTES ? await input.read(0, PREFIX_BYTES, 'the header length') : new Uint8Array(PREFIX_BYTES);
      const headerLength = parseHeaderLength(prefix, size, path);
      const json = await input.read(PREFIX_BYTES, headerLength, 'the header');
      const dataStart = PREFIX_BYTES + headerLength;
      const { metadata, entries } = parseHeaderJson(json, size - dataStart, path);
      return new SafetensorsFile(path, input, metadata, entries, dataStart);
    } catch (err) {
      await input.close();
      throw err;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** What the header says about one tensor: dtype as stored, shape and data offsets. */
  entry(name: string): Readonly<SafetensorsEntry> {
    const entry = this.entries.get(name);
    check(entry !== undefined, this.file, () => `no tensor named "${name}"`);
    return entry;
  }

  /** Reads one tensor, touching only its bytes in the file. */
  async read(name: string): Promise<Tensor> {
    const entry = this.entry(name);
    check(this.input !== undefined, this.file, 'file is already closed');
    const bytes = await this.input.read(this.dataStart + entry.begin, entry.end - entry.begin, `tensor "${name}"`);
    return storedTensor(entry.dtype, entry.shape, bytes, false);
  }

  /**
   * Reads `byteLength` bytes starting `byteOffset` bytes into a tensor's data (say a range of its
   * rows), touching nothing else; the range must lie inside the tensor.
   */
  async readBytes(name: string, byteOffset: number, byteLength: number): Promise<Uint8Array> {
    const { input, position, what } = this.byteRange(name, byteOffset, byteLength);
    return input.read(position, byteLength, what);
  }

  /** readBytes into `target` (as many bytes as it holds), for readers that reuse their buffers. */
  async readBytesInto(name: string, byteOffset: number, target: Uint8Array): Promise<void> {
    const { input, position, what } = this.byteRange(name, byteOffset, target.byteLength);
    await input.readInto(target, position, what);
  }

  private byteRange(name: string, byteOffset: number, byteLength: number): { input: InputFile; position: number; what: string } {
    const entry = this.entry(name);
    const size = entry.end - entry.begin;
    const inside =
      Number.isSafeInteger(byteOffset) && Number.isSafeInteger(byteLength) && byteOffset >= 0 && byteLength >= 0 && byteOffset + byteLength <= size;
    if (!inside) throw new RangeError(`${this.file}: bytes [${byteOffset}, ${byteOffset}+${byteLength}) are outside the ${size} bytes of tensor "${name}"`);
    check(this.input !== undefined, this.file, 'file is already closed');
    return {
      input: this.input,
      position: this.dataStart + entry.begin + byteOffset,
      what: `bytes ${byteOffset}..${byteOffset + byteLength} of tensor "${name}"`,
    };
  }

  /** Every tensor, in file order. */
  async readAll(): Promise<Weights> {
    const weights: Weights = new Map();
    for (const { name } of this.tensors) weights.set(name, await this.read(name));
    return weights;
  }

  async close(): Promise<void> {
    const input = this.input;
    this.input = undefined;
    await input?.close();
  }
}

/** Reads a whole safetensors file (tensor by tensor, so files over 2 GiB work too). */
export async function readSafetensorsFile(path: string): Promise<WeightFile> {
  const st = await SafetensorsFile.open(path);
  try {
    return { file: path, format: 'safetensors', metadata: st.metadata, weights: await st.readAll() };
  } finally {
    await st.close();
  }
}
