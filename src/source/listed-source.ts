/**
 * The ModelSource every format shares: a list of tensors, each with a way to read a range of its
 * rows as float32. Format adapters (one file each) supply the list; range checks and whole-tensor
 * reads live here once.
 */
import { FormatError } from '../formats/errors.js';
import { checkRowRange, rowCount, rowLength } from './rows.js';
import { decodeFloat32, elementSize, type ElementDtype } from './decode.js';
import type { ModelSource, SourceTensor } from './types.js';

export interface SourceEntry {
  tensor: SourceTensor;
  /** Rows [start, start + count) as float32; the range has been checked. */
  readRows(start: number, count: number): Promise<Float32Array>;
}

/** What a format adapter hands over: where the model came from, what it holds, how to release it. */
export interface SourceParts {
  path: string;
  file: string;
  format: string;
  metadata: Record<string, string>;
  config?: Record<string, unknown>;
  /** In file order; a name listed twice keeps its first place and its last reader, as a Map would. */
  entries: SourceEntry[];
  close(): Promise<void>;
}

/** Where a model came from: the path the user gave, the file opened, and the folder's config.json. */
export interface SourceOrigin {
  path: string;
  file: string;
  config?: Record<string, unknown>;
}

export class ListedSource implements ModelSource {
  readonly path: string;
  readonly file: string;
  readonly format: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly tensors: readonly SourceTensor[];
  private readonly entries: Map<string, SourceEntry>;
  private readonly release: () => Promise<void>;

  constructor(parts: SourceParts) {
    this.path = parts.path;
    this.file = parts.file;
    this.format = parts.format;
    this.metadata = parts.metadata;
    if (parts.config !== undefined) this.config = parts.config;
    this.entries = new Map(parts.entries.map((e) => [e.tensor.name, e]));
    this.tensors = [...this.entries.values()].map((e) => e.tensor);
    this.release = parts.close;
  }

  /** The entry of a tensor with numbers to read: bool masks are flags, not values to compare. */
  private entry(name: string): SourceEntry {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new FormatError(this.file, `no tensor named "${name}"`);
    if (entry.tensor.dtype === 'bool') throw new FormatError(this.file, `tensor "${name}" is bool, not numeric data`);
    return entry;
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const entry = this.entry(name);
    return this.read(entry, 0, rowCount(entry.tensor.shape));
  }

  async readRows(name: string, start: number, count: number): Promise<Float32Array> {
    const entry = this.entry(name);
    checkRowRange(this.file, name, entry.tensor.shape, start, count);
    return this.read(entry, start, count);
  }

  /** The range is checked by now, so a RangeError can only be a buffer too big to allocate. */
  private async read(entry: SourceEntry, start: number, count: number): Promise<Float32Array> {
    try {
      return await entry.readRows(start, count);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      const values = count * rowLength(entry.tensor.shape);
      throw new FormatError(
        this.file,
        `rows ${start}..${start + count} of tensor "${entry.tensor.name}" (${values} values) cannot be read at once (${err.message}); read fewer rows at a time`,
      );
    }
  }

  async close(): Promise<void> {
    await this.release();
  }
}

/**
 * An entry for a tensor stored as plain C-ordered elements of `dtype`: a row range is one range of
 * elements, read by `readElements(first, count)` as bytes and decoded here.
 */
export function elementEntry(tensor: SourceTensor, dtype: ElementDtype, readElements: (first: number, count: number) => Promise<Uint8Array>): SourceEntry {
  const perRow = rowLength(tensor.shape);
  return {
    tensor,
    readRows: async (start, count) => decodeFloat32(dtype, await readElements(start * perRow, count * perRow)),
  };
}

/** Reads byte ranges of a tensor stored as plain elements, given where its first element is. */
export function byteRangeReader(
  dtype: ElementDtype,
  read: (byteOffset: number, byteLength: number) => Promise<Uint8Array>,
): (first: number, count: number) => Promise<Uint8Array> {
  const size = elementSize(dtype);
  return (first, count) => read(first * size, count * size);
}
