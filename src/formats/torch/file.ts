/**
 * A `torch.save` checkpoint opened for lazy reading: opening reads the zip directory, the local
 * headers and data.pkl, and checks every tensor against its storage exactly as reading the file
 * whole does; a tensor's storage record is read only when that tensor is asked for.
 */
import { dtypeSize, tensorBytes, type DType, type Tensor } from '../../tensor.js';
import { check } from '../errors.js';
import { InputFile } from '../input-file.js';
import type { TensorInfo } from '../types.js';
import { openTorchArchiveFile, type TorchArchiveFile } from './archive.js';
import type { TensorRef } from './globals.js';
import { readStateDict, rejectNonCheckpoint } from './state-dict.js';
import { checkStorage, checkView, isCContiguous, materializeTensor, ViewBudget } from './tensors.js';
import type { ZipEntry } from './zip.js';

/** A checkpoint's tensors are DTypes: a state-dict tensor of any other storage type is refused on open. */
export interface TorchTensorInfo extends TensorInfo {
  dtype: DType;
}

interface Listed {
  ref: TensorRef;
  dtype: DType;
  count: number;
  record: ZipEntry;
}

/**
 * Checks every storage against its record's declared size, every view against its storage, and all
 * views together against the view budget. Returns the tensors and the storage bytes behind them.
 */
function checkTensors(tensors: readonly [string, TensorRef][], archive: TorchArchiveFile, file: string): { listed: Map<string, Listed>; storageBytes: number } {
  const records = new Map<string, ZipEntry>();
  let storageBytes = 0;
  for (const [name, ref] of tensors) {
    const recordName = `${archive.name}/data/${ref.storage.key}`;
    if (records.has(recordName)) continue;
    const entry = archive.entry(recordName);
    storageBytes += checkStorage(name, ref.storage, recordName, entry && { length: entry.size }, file);
    records.set(recordName, entry as ZipEntry);
  }
  const budget = new ViewBudget(file, storageBytes);
  const listed = new Map<string, Listed>();
  for (const [name, ref] of tensors) {
    const dtype = ref.storage.type.dtype as DType;
    const count = checkView(name, ref, file);
    if (count > 0) budget.spend(name, ref, count, dtypeSize(dtype));
    listed.set(name, { ref, dtype, count, record: records.get(`${archive.name}/data/${ref.storage.key}`) as ZipEntry });
  }
  return { listed, storageBytes };
}

export class TorchCheckpointFile {
  readonly file: string;
  readonly metadata: Record<string, string>;
  /** In state-dict order. */
  readonly tensors: TorchTensorInfo[];
  /** Device and inode of the file, to notice two shard names that reach one file. */
  readonly identity: string;
  private readonly listed: Map<string, Listed>;
  private readonly storageBytes: number;
  private readonly archive: TorchArchiveFile;
  private input: InputFile | undefined;

  private constructor(input: InputFile, archive: TorchArchiveFile, metadata: Record<string, string>, checked: ReturnType<typeof checkTensors>) {
    this.file = input.path;
    this.input = input;
    this.identity = input.identity;
    this.archive = archive;
    this.metadata = metadata;
    this.listed = checked.listed;
    this.storageBytes = checked.storageBytes;
    this.tensors = [...checked.listed].map(([name, { ref, dtype, count }]) => ({ name, dtype, shape: [...ref.shape], bytes: count * dtypeSize(dtype) }));
  }

  static async open(path: string): Promise<TorchCheckpointFile> {
    const input = await InputFile.open(path);
    try {
      rejectNonCheckpoint(await input.head(4), path);
      const archive = openTorchArchiveFile(input);
      const { tensors, metadata } = readStateDict(archive.dataPkl, archive.name, path);
      return new TorchCheckpointFile(input, archive, metadata, checkTensors(tensors, archive, path));
    } catch (err) {
      await input.close();
      throw err;
    }
  }

  has(name: string): boolean {
    return this.listed.has(name);
  }

  private entry(name: string): Listed {
    const listed = this.listed.get(name);
    check(listed !== undefined, this.file, () => `no tensor named "${name}"`);
    check(this.input !== undefined, this.file, 'file is already closed');
    return listed;
  }

  /** Reads one tensor: its storage record whole (checked against its CRC-32), then the view. */
  async read(name: string): Promise<Tensor> {
    const { ref, record } = this.entry(name);
    const bytes = await this.archive.readRecord(record);
    // The record was read for this tensor alone, so the tensor may view it without a copy.
    return materializeTensor(name, ref, bytes, true, new ViewBudget(this.file, this.storageBytes), this.file);
  }

  /**
   * The bytes of elements [first, first + count) of a tensor in C order. A tensor that is all of
   * its stored record is read with the record and checked against its CRC-32; a contiguous part of
   * a stored record (some rows, or a tensor viewing part of a storage) is read alone, and so cannot
   * be checked; any other view is read whole and cut.
   */
  async readElements(name: string, first: number, count: number): Promise<Uint8Array> {
    const { ref, dtype, count: elements, record } = this.entry(name);
    if (!(Number.isSafeInteger(first) && Number.isSafeInteger(count) && first >= 0 && count >= 0 && first + count <= elements)) {
      throw new RangeError(`${this.file}: elements [${first}, ${first}+${count}) are outside tensor "${name}", which has ${elements}`);
    }
    const size = dtypeSize(dtype);
    const wholeRecord = first === 0 && count === elements && count * size === record.size;
    if (!wholeRecord && record.method === 0 && isCContiguous(ref.shape, ref.stride)) {
      return this.archive.readStoredRange(record, (ref.offset + first) * size, count * size);
    }
    return tensorBytes(await this.read(name)).subarray(first * size, (first + count) * size);
  }

  async close(): Promise<void> {
    const input = this.input;
    this.input = undefined;
    await input?.close();
  }
}
