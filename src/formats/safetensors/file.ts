import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tensorFromBytes, type Tensor, type Weights } from '../../tensor.js';
import { check, FormatError } from '../errors.js';
import type { TensorInfo, WeightFile } from '../types.js';
import { entryInfo, parseHeaderJson, parseHeaderLength, PREFIX_BYTES, type SafetensorsEntry } from './header.js';

/** fs reads are capped at 2 GiB - 1 per call, so bigger tensors are read in pieces. */
const MAX_READ_CHUNK = 1 << 30;

/** Opens a file for reading, turning the usual failures into a FormatError naming the file. */
export async function openForReading(path: string): Promise<FileHandle> {
  try {
    return await fs.open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FormatError(path, 'file not found');
    if (code === 'EISDIR') throw new FormatError(path, 'is a folder, not a file');
    throw new FormatError(path, `cannot open (${(err as Error).message})`);
  }
}

/** Fills `target` from `position` on, failing clearly if the file ends first. */
async function readExactly(handle: FileHandle, target: Uint8Array, position: number, file: string, what: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const length = Math.min(target.byteLength - done, MAX_READ_CHUNK);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    check(bytesRead > 0, file, () => `file ended after ${position + done} bytes while reading ${what} (truncated or changed since it was opened?)`);
    done += bytesRead;
  }
}

function allocate(byteLength: number, file: string, what: string): Uint8Array {
  try {
    // A fresh ArrayBuffer starts at offset 0, so typed-array views of it are always aligned.
    return new Uint8Array(new ArrayBuffer(byteLength));
  } catch {
    throw new FormatError(file, `${what} needs ${byteLength} bytes, more than can be allocated`);
  }
}

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
  private handle: FileHandle | undefined;

  private constructor(file: string, handle: FileHandle, metadata: Record<string, string>, entries: SafetensorsEntry[], dataStart: number) {
    this.file = file;
    this.handle = handle;
    this.metadata = metadata;
    this.entries = new Map(entries.map((e) => [e.name, e]));
    this.tensors = entries.map(entryInfo);
    this.dataStart = dataStart;
  }

  static async open(path: string): Promise<SafetensorsFile> {
    const handle = await openForReading(path);
    try {
      const { size } = await handle.stat();
      const prefix = new Uint8Array(PREFIX_BYTES);
      if (size >= PREFIX_BYTES) await readExactly(handle, prefix, 0, path, 'the header length');
      const headerLength = parseHeaderLength(prefix, size, path);
      const json = new Uint8Array(headerLength);
      await readExactly(handle, json, PREFIX_BYTES, path, 'the header');
      const dataStart = PREFIX_BYTES + headerLength;
      const { metadata, entries } = parseHeaderJson(json, size - dataStart, path);
      return new SafetensorsFile(path, handle, metadata, entries, dataStart);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Reads one tensor, touching only its bytes in the file. */
  async read(name: string): Promise<Tensor> {
    const entry = this.entries.get(name);
    check(entry !== undefined, this.file, () => `no tensor named "${name}"`);
    check(this.handle !== undefined, this.file, 'file is already closed');
    const what = `tensor "${name}"`;
    const bytes = allocate(entry.end - entry.begin, this.file, what);
    await readExactly(this.handle, bytes, this.dataStart + entry.begin, this.file, what);
    return tensorFromBytes(entry.dtype, entry.shape, bytes, false);
  }

  /** Every tensor, in file order. */
  async readAll(): Promise<Weights> {
    const weights: Weights = new Map();
    for (const { name } of this.tensors) weights.set(name, await this.read(name));
    return weights;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
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
