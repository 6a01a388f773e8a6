/**
 * Parsing and validation of a GGUF header (spec: ggml docs/gguf.md; checks after llama.cpp's
 * gguf.cpp): magic, version, the metadata key-value pairs, the tensor infos, and where the data
 * section starts. Every count and length is checked against the bytes the file can still hold
 * before it is acted on, and every tensor's data range is checked against the file's size.
 */
import { FormatError } from '../errors.js';
import { HeaderCursor } from './cursor.js';
import { readValue, readValueType, StringBudget, type GgufValue } from './metadata.js';
import { ggmlTypeById, type GgmlType } from './types.js';

export const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]; // 'GGUF'
/** The most header (metadata + tensor infos) we read; real headers are a few MiB to tens of MiB. */
export const MAX_HEADER_BYTES = 128 * 1024 * 1024;
export const MAX_TENSORS = 1 << 20;
export const MAX_METADATA_ENTRIES = 1 << 20;
export const MAX_ARRAY_LENGTH = 1 << 24;
export const MAX_HEADER_STRINGS = 1 << 22;
/** Spec: keys are at most 65535 bytes; tensor names at most 64. */
export const MAX_KEY_BYTES = 65535;
export const MAX_TENSOR_NAME_BYTES = 64;
/** ggml's GGML_MAX_DIMS. */
export const MAX_DIMS = 4;
export const DEFAULT_ALIGNMENT = 32;
export const ALIGNMENT_KEY = 'general.alignment';

/** What a header may declare; the defaults are far above what real models use. */
export interface GgufLimits {
  maxHeaderBytes: number;
  maxTensors: number;
  maxMetadataEntries: number;
  maxArrayLength: number;
  maxStrings: number;
}

export const DEFAULT_GGUF_LIMITS: GgufLimits = {
  maxHeaderBytes: MAX_HEADER_BYTES,
  maxTensors: MAX_TENSORS,
  maxMetadataEntries: MAX_METADATA_ENTRIES,
  maxArrayLength: MAX_ARRAY_LENGTH,
  maxStrings: MAX_HEADER_STRINGS,
};

/** Smallest possible encodings, used to refuse counts the file cannot hold. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1; // key length, one key byte, value type, one value byte
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8; // name length, n_dims, type, offset

export interface GgufTensorInfo {
  name: string;
  type: GgmlType;
  /** ggml order: ne[0] is the contiguous (innermost) dimension. */
  ne: number[];
  /** numpy order, the reverse of ne. */
  shape: number[];
  elements: number;
  /** Elements in one row (ne[0]; 1 for a 0-d tensor); always a whole number of blocks. */
  rowLength: number;
  /** Number of rows: the product of ne[1..]. */
  rows: number;
  rowBytes: number;
  bytes: number;
  /** Offset from the start of the data section, as stored. */
  offset: number;
  /** Offset from the start of the file. */
  fileOffset: number;
}

export interface GgufHeader {
  version: number;
  alignment: number;
  /** In file order. */
  metadata: Map<string, GgufValue>;
  /** In file order. */
  tensors: GgufTensorInfo[];
  /** Where the data section starts: the end of the tensor infos, padded to `alignment`. */
  dataOffset: number;
}

function readVersion(cursor: HeaderCursor): number {
  const magic = cursor.bytes(4, 'the GGUF magic');
  if (!GGUF_MAGIC.every((b, i) => magic[i] === b)) throw new FormatError(cursor.file, `not a GGUF file (expected magic "GGUF")`);
  const version = cursor.u32('the GGUF version');
  // A big-endian file read little-endian puts the version in the high bytes (3 reads as 0x03000000).
  if (version !== 0 && (version & 0xffff) === 0)
    throw new FormatError(cursor.file, `GGUF version field ${version} looks big-endian; only little-endian GGUF files are supported`);
  if (version === 1) throw new FormatError(cursor.file, 'GGUF version 1 is not supported (only versions 2 and 3)');
  if (version !== 2 && version !== 3) throw new FormatError(cursor.file, `unsupported GGUF version ${version} (only versions 2 and 3)`);
  return version;
}

/** Reads a u64 count and refuses one above `limit` or one the rest of the header cannot hold. */
function readCount(cursor: HeaderCursor, plural: string, limit: number, minBytesEach: number): number {
  const count = cursor.u64(`the number of ${plural}`);
  const needed = count * BigInt(minBytesEach);
  if (needed > BigInt(cursor.remaining())) {
    throw new FormatError(
      cursor.file,
      `header declares ${count} ${plural} (at least ${needed} bytes), but only ${cursor.remaining()} bytes of header can follow`,
    );
  }
  if (count > BigInt(limit)) throw new FormatError(cursor.file, `header declares ${count} ${plural}, more than the limit of ${limit}`);
  return Number(count);
}

function readMetadata(cursor: HeaderCursor, count: number, strings: StringBudget, maxArrayLength: number): Map<string, GgufValue> {
  const metadata = new Map<string, GgufValue>();
  const limits = { maxArrayLength };
  for (let i = 0; i < count; i++) {
    strings.spend(1, `metadata key ${i}`);
    const key = cursor.string(`metadata key ${i}`, MAX_KEY_BYTES);
    if (key.length === 0) throw new FormatError(cursor.file, `metadata key ${i} is empty`);
    if (metadata.has(key)) throw new FormatError(cursor.file, `metadata key "${key}" appears twice`);
    const what = `metadata "${key}"`;
    metadata.set(key, readValue(cursor, readValueType(cursor, what), what, limits, strings));
  }
  return metadata;
}

function readAlignment(metadata: Map<string, GgufValue>, file: string): number {
  const value = metadata.get(ALIGNMENT_KEY);
  if (value === undefined) return DEFAULT_ALIGNMENT;
  if (value.type !== 'uint32') throw new FormatError(file, `${ALIGNMENT_KEY} must be a uint32, not ${value.type}`);
  const alignment = value.value;
  if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw new FormatError(file, `${ALIGNMENT_KEY} ${alignment} is not a power of two`);
  return alignment;
}

function readTensorInfo(cursor: HeaderCursor, index: number, names: Set<string>, strings: StringBudget): GgufTensorInfo {
  strings.spend(1, `the name of tensor ${index}`);
  const name = cursor.string(`the name of tensor ${index}`, MAX_TENSOR_NAME_BYTES);
  if (names.has(name)) throw new FormatError(cursor.file, `tensor name "${name}" appears twice`);
  names.add(name);
  const where = `tensor "${name}"`;
  const nDims = cursor.u32(`the dimension count of ${where}`);
  if (nDims > MAX_DIMS) throw new FormatError(cursor.file, `${where} declares ${nDims} dimensions; GGUF allows at most ${MAX_DIMS}`);
  const dims: bigint[] = [];
  for (let d = 0; d < nDims; d++) dims.push(cursor.u64(`dimension ${d} of ${where}`));
  const typeId = cursor.u32(`the type of ${where}`);
  const offset = cursor.u64(`the data offset of ${where}`);

  const described = `[${dims.join(', ')}] (ggml order)`;
  // Checked one by one too: a zero elsewhere in the shape would hide a huge dimension from the product.
  if (dims.some((d) => d > BigInt(Number.MAX_SAFE_INTEGER)))
    throw new FormatError(cursor.file, `${where} shape ${described} has a dimension that is too large`);
  const elements = dims.reduce((a, b) => a * b, 1n);
  if (elements > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(cursor.file, `${where} shape ${described} has too many elements (${elements})`);
  const ne = dims.map(Number);
  const type = ggmlTypeById(typeId);
  if (type === undefined) throw new FormatError(cursor.file, `${where} has unknown ggml type id ${typeId}`);
  const rowLength = ne.length > 0 ? ne[0] : 1;
  if (rowLength % type.blockSize !== 0) {
    throw new FormatError(cursor.file, `${where} has ${rowLength} elements per row, not a multiple of the ${type.name} block size ${type.blockSize}`);
  }
  const rows = ne.slice(1).reduce((a, b) => a * b, 1);
  const rowBytes = (rowLength / type.blockSize) * type.typeSize;
  const bytes = rowBytes * rows;
  if (!Number.isSafeInteger(bytes)) throw new FormatError(cursor.file, `${where} shape ${described} of ${type.name} needs too many bytes`);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(cursor.file, `${where} data offset ${offset} is past the end of any file`);
  return {
    name,
    type,
    ne,
    shape: [...ne].reverse(),
    elements: Number(elements),
    rowLength,
    rows,
    rowBytes,
    bytes,
    offset: Number(offset),
    fileOffset: 0,
  };
}

/**
 * Places each tensor in the file and checks its data range: inside the file, aligned, and not
 * overlapping another tensor's (so the tensors together never claim more bytes than the file has).
 */
function placeTensors(tensors: GgufTensorInfo[], dataOffset: number, alignment: number, fileSize: number, file: string): void {
  for (const t of tensors) {
    t.fileOffset = dataOffset + t.offset;
    const end = t.fileOffset + t.bytes;
    if (end > fileSize) {
      throw new FormatError(
        file,
        `tensor "${t.name}" data [${t.fileOffset}, ${end}) runs past the end of the ${fileSize}-byte file (data offset ${t.offset} + ${t.bytes} bytes of ${t.type.name}; truncated?)`,
      );
    }
    if (t.offset % alignment !== 0) throw new FormatError(file, `tensor "${t.name}" data offset ${t.offset} is not a multiple of the alignment ${alignment}`);
  }
  const byOffset = tensors.filter((t) => t.bytes > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const previous = byOffset[i - 1];
    const t = byOffset[i];
    if (t.offset < previous.offset + previous.bytes) {
      throw new FormatError(
        file,
        `tensor "${t.name}" data [${t.offset}, ${t.offset + t.bytes}) overlaps tensor "${previous.name}" [${previous.offset}, ${previous.offset + previous.bytes}) (offsets within the data section)`,
      );
    }
  }
}

/**
 * Parses and validates a GGUF header from `prefix`, the first bytes of a file of `fileSize` bytes;
 * `file` names it in errors. Throws NeedMoreBytes when the header goes on past the prefix.
 */
export function parseGgufHeader(prefix: Uint8Array, fileSize: number, file: string, limits: GgufLimits = DEFAULT_GGUF_LIMITS): GgufHeader {
  const cursor = new HeaderCursor(prefix, fileSize, file, limits.maxHeaderBytes);
  const version = readVersion(cursor);
  const tensorCount = readCount(cursor, 'tensors', limits.maxTensors, MIN_TENSOR_INFO_BYTES);
  const kvCount = readCount(cursor, 'metadata entries', limits.maxMetadataEntries, MIN_KV_BYTES);
  const strings = new StringBudget(limits.maxStrings, file);
  const metadata = readMetadata(cursor, kvCount, strings, limits.maxArrayLength);
  const alignment = readAlignment(metadata, file);
  const names = new Set<string>();
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) tensors.push(readTensorInfo(cursor, i, names, strings));
  const dataOffset = Math.ceil(cursor.position / alignment) * alignment;
  placeTensors(tensors, dataOffset, alignment, fileSize, file);
  return { version, alignment, metadata, tensors, dataOffset };
}
