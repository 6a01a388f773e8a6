/**
 * The zip container of `torch.save` (torch >= 1.6): `<name>/data.pkl` describes the object and
 * `<name>/data/<key>` holds each storage's raw little-endian bytes, usually STORED (uncompressed).
 * Storage records are read only when a tensor asks for them, and each at most once.
 */
import { FormatError } from '../errors.js';
import type { InputFile } from '../input-file.js';
import { bufferZipSource, checkReadable, decodeZipEntry, fileZipSource, readZipDirectory, readZipEntry, type ZipEntry, type ZipSource } from './zip.js';

export interface TorchArchive {
  /** The folder every record lives in, e.g. 'archive' or the saved file's stem. */
  name: string;
  dataPkl: Uint8Array;
  /** The bytes of a record under `<name>/data/`, by full record name; undefined when there is none. */
  record(recordName: string): Uint8Array | undefined;
}

/** A `torch.save` archive on disk: directory and data.pkl read on open, storage records on demand. */
export interface TorchArchiveFile {
  name: string;
  dataPkl: Uint8Array;
  /** The directory entry of a record under `<name>/data/`, by full record name. */
  entry(recordName: string): ZipEntry | undefined;
  /** A record's bytes, inflated if need be and checked against its CRC-32. */
  readRecord(entry: ZipEntry): Promise<Uint8Array>;
  /**
   * `length` bytes from `offset` into a stored (uncompressed) record, read alone: a part cannot be
   * checked against the record's CRC-32, which covers the whole.
   */
  readStoredRange(entry: ZipEntry, offset: number, length: number): Promise<Uint8Array>;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const WANTED = /^[^/]+\/(data\.pkl|byteorder|data\/[^/]+)$/;
const TORCHSCRIPT = /^[^/]+\/(constants\.pkl|code\/)/;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ZIP_MAGIC.every((b, i) => bytes[i] === b);
}

/** What both ways of opening share: the archive's name, its pickle, and its storage records. */
interface ArchiveIndex {
  name: string;
  dataPkl: Uint8Array;
  /** Only records under `<name>/data/`. */
  storages: Map<string, ZipEntry>;
}

function indexArchive(source: ZipSource, file: string): ArchiveIndex {
  const entries = readZipDirectory(source, file);
  const byName = new Map<string, ZipEntry>();
  for (const entry of entries) {
    if (!WANTED.test(entry.name)) continue;
    if (entry.method !== 0 && entry.method !== 8) {
      throw new FormatError(file, `zip record ${entry.name} uses compression method ${entry.method}; only stored and deflated records are supported`);
    }
    byName.set(entry.name, entry);
  }
  const pickles = [...byName.keys()].filter((name) => name.endsWith('/data.pkl'));
  if (pickles.length === 0) {
    const shown =
      entries
        .slice(0, 5)
        .map((e) => e.name)
        .join(', ') + (entries.length > 5 ? ', ...' : '');
    throw new FormatError(file, `zip archive has no <name>/data.pkl record, so it is not a PyTorch checkpoint (records: ${shown || 'none'})`);
  }
  if (pickles.length > 1) throw new FormatError(file, `zip archive has several data.pkl records (${pickles.join(', ')})`);
  const name = pickles[0].slice(0, -'/data.pkl'.length);
  if (entries.some((e) => TORCHSCRIPT.test(e.name) && e.name.startsWith(`${name}/`))) {
    throw new FormatError(file, 'is a TorchScript archive (torch.jit.save); load it in Python and save model.state_dict() with torch.save');
  }
  const byteorderEntry = byName.get(`${name}/byteorder`);
  if (byteorderEntry && new TextDecoder().decode(readZipEntry(source, byteorderEntry, file)).trim() !== 'little') {
    throw new FormatError(file, 'checkpoint was saved on a big-endian machine, which is not supported');
  }
  const dataPkl = readZipEntry(source, byName.get(pickles[0]) as ZipEntry, file);
  const prefix = `${name}/data/`;
  const storages = new Map([...byName].filter(([recordName]) => recordName.startsWith(prefix)));
  return { name, dataPkl, storages };
}

export function openTorchArchive(bytes: Uint8Array, file: string): TorchArchive {
  const source = bufferZipSource(bytes);
  const { name, dataPkl, storages } = indexArchive(source, file);
  const read = new Map<string, Uint8Array>();
  const record = (recordName: string): Uint8Array | undefined => {
    const known = read.get(recordName);
    if (known) return known;
    const entry = storages.get(recordName);
    if (!entry) return undefined;
    const data = readZipEntry(source, entry, file);
    read.set(recordName, data);
    return data;
  };
  return { name, dataPkl, record };
}

/**
 * Opens the archive in `input`, reading its directory, local headers and data.pkl (blocking reads
 * of those pieces alone); storage records are read when asked for.
 */
export function openTorchArchiveFile(input: InputFile): TorchArchiveFile {
  const file = input.path;
  const { name, dataPkl, storages } = indexArchive(fileZipSource(input), file);
  return {
    name,
    dataPkl,
    entry: (recordName) => storages.get(recordName),
    readRecord: async (entry) => {
      checkReadable(entry, file);
      const compressed = await input.read(entry.dataStart, entry.compressedSize, `zip record ${entry.name}`);
      return decodeZipEntry(entry, compressed, file, true);
    },
    readStoredRange: async (entry, offset, length) => {
      checkReadable(entry, file);
      if (entry.method !== 0) throw new Error(`zip record ${entry.name} is compressed; read it whole`);
      if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= entry.size)) {
        throw new RangeError(`${file}: bytes [${offset}, ${offset}+${length}) are outside the ${entry.size} bytes of zip record ${entry.name}`);
      }
      return input.read(entry.dataStart + offset, length, `bytes ${offset}..${offset + length} of zip record ${entry.name}`);
    },
  };
}
