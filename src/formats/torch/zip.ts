/**
 * A zip reader for untrusted files: every offset and length in the central directory and the
 * local headers is checked against the file, records may not overlap (so one compressed stream
 * cannot be listed a thousand times), a deflated record is inflated only up to the size it
 * declares, and every record read must match its CRC-32. Records are read one at a time, on
 * request, so a reader pays only for the records it uses.
 */
import { Inflate } from 'fflate';
import { FormatError } from '../errors.js';
import { crc32 } from './crc32.js';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated; other methods are refused when the record is read. */
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** Where the local header starts. */
  headerStart: number;
  /** Where the (compressed) data starts, just after the local header. */
  dataStart: number;
}

/** No checkpoint has anywhere near this many records; more is an attempt to make us loop. */
export const MAX_ZIP_ENTRIES = 1 << 20;
/** Deflate cannot expand data by more than about 1032:1; a larger claim is a lie meant to make us allocate. */
export const MAX_DEFLATE_RATIO = 1032;

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const MAX_COMMENT = 0xffff;
const FLAG_ENCRYPTED = 1;
const FLAG_UTF8 = 1 << 11;
const ZIP64_EXTRA_ID = 1;
const ALL_ONES_16 = 0xffff;
const ALL_ONES_32 = 0xffffffff;
// Inflating in small steps keeps what one step can produce (at most ~1032 times its input) near
// the size still allowed, so a record that lies about its size is caught within a few MB.
const MIN_INFLATE_STEP = 4096;
const MAX_INFLATE_STEP = 65536;

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

class ZipBytes {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  corrupt(detail: string): never {
    throw new FormatError(this.file, `corrupt or truncated zip archive: ${detail}`);
  }

  /** Checks that `length` bytes at `start` lie inside [0, end), so every read below is in bounds. */
  within(start: number, length: number, end: number, what: string): void {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(length) && start >= 0 && length >= 0 && start + length <= end)) {
      this.corrupt(`${what} (bytes ${start} to ${start + length}) does not fit before byte ${end}`);
    }
  }

  u16(at: number): number {
    return this.view.getUint16(at, true);
  }

  u32(at: number): number {
    return this.view.getUint32(at, true);
  }

  /** A 64-bit field; values past 2^53 come back as Infinity, which every bounds check refuses. */
  u64(at: number): number {
    const value = this.view.getBigUint64(at, true);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(value);
  }
}

interface Directory {
  entries: number;
  start: number;
  size: number;
  /** Where the end records begin: the central directory and every record lie before this. */
  end: number;
}

function findDirectory(zip: ZipBytes): Directory {
  const { bytes } = zip;
  let eocd = -1;
  const lowest = Math.max(0, bytes.length - EOCD_SIZE - MAX_COMMENT);
  for (let at = bytes.length - EOCD_SIZE; at >= lowest; at--) {
    if (bytes[at] === 0x50 && bytes[at + 1] === 0x4b && zip.u32(at) === EOCD_SIGNATURE) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) zip.corrupt('no end-of-central-directory record');
  // Zip64 writers may put all ones in the disk numbers; anything else means a split archive.
  const disks = [zip.u16(eocd + 4), zip.u16(eocd + 6)];
  if (disks.some((disk) => disk !== 0 && disk !== ALL_ONES_16)) zip.corrupt('multi-disk archives are not supported');
  let entries = zip.u16(eocd + 10);
  let size = zip.u32(eocd + 12);
  let start = zip.u32(eocd + 16);
  let end = eocd;
  const locator = eocd - 20;
  if (locator >= 0 && zip.u32(locator) === ZIP64_LOCATOR_SIGNATURE) {
    const record = zip.u64(locator + 8);
    zip.within(record, 56, locator, 'the zip64 end-of-central-directory record');
    if (zip.u32(record) !== ZIP64_EOCD_SIGNATURE) zip.corrupt('the zip64 locator does not point at a zip64 end-of-central-directory record');
    entries = zip.u64(record + 32);
    size = zip.u64(record + 40);
    start = zip.u64(record + 48);
    end = record;
  } else if (entries === ALL_ONES_16 || size === ALL_ONES_32 || start === ALL_ONES_32) {
    zip.corrupt('the end-of-central-directory record needs zip64 values, but there is no zip64 record');
  }
  if (entries > MAX_ZIP_ENTRIES) {
    throw new FormatError(zip.file, `zip archive declares ${entries} records, more than the ${MAX_ZIP_ENTRIES} a checkpoint reader accepts`);
  }
  zip.within(start, size, end, 'the central directory');
  if (entries * CENTRAL_HEADER_SIZE > size) zip.corrupt(`the central directory of ${size} bytes cannot hold the ${entries} records it declares`);
  return { entries, start, size, end };
}

/** The zip64 extra field replaces whichever 32-bit fields are all ones, in this order. */
function applyZip64(zip: ZipBytes, extraStart: number, extraLength: number, fields: { size: number; compressedSize: number; headerStart: number }, name: string): void {
  const needed = [fields.size === ALL_ONES_32, fields.compressedSize === ALL_ONES_32, fields.headerStart === ALL_ONES_32];
  if (!needed.includes(true)) return;
  const extraEnd = extraStart + extraLength;
  for (let at = extraStart; at + 4 <= extraEnd; at += 4 + zip.u16(at + 2)) {
    if (zip.u16(at) !== ZIP64_EXTRA_ID) continue;
    const fieldEnd = at + 4 + zip.u16(at + 2);
    let next = at + 4;
    const take = (): number => {
      zip.within(next, 8, Math.min(fieldEnd, extraEnd), `the zip64 sizes of record ${name}`);
      const value = zip.u64(next);
      next += 8;
      return value;
    };
    if (needed[0]) fields.size = take();
    if (needed[1]) fields.compressedSize = take();
    if (needed[2]) fields.headerStart = take();
    return;
  }
  zip.corrupt(`record ${name} needs zip64 sizes, but has no zip64 extra field`);
}

function sameBytes(bytes: Uint8Array, at: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

function refuseOverlaps(entries: ZipEntry[], file: string): void {
  const byStart = entries.slice().sort((a, b) => a.headerStart - b.headerStart);
  for (let i = 1; i < byStart.length; i++) {
    const before = byStart[i - 1];
    const after = byStart[i];
    if (after.headerStart < before.dataStart + before.compressedSize) {
      throw new FormatError(file, `zip records ${before.name} and ${after.name} overlap in the file, which no zip writer produces; refusing the archive`);
    }
  }
}

/** Reads and checks the central directory and every local header; reads no record's data. */
export function readZipDirectory(bytes: Uint8Array, file: string): ZipEntry[] {
  const zip = new ZipBytes(bytes, file);
  const directory = findDirectory(zip);
  const directoryEnd = directory.start + directory.size;
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  const centralNames: Uint8Array[] = [];
  let at = directory.start;
  for (let i = 0; i < directory.entries; i++) {
    zip.within(at, CENTRAL_HEADER_SIZE, directoryEnd, `central directory entry ${i}`);
    if (zip.u32(at) !== CENTRAL_SIGNATURE) zip.corrupt(`central directory entry ${i} has a bad signature`);
    const flags = zip.u16(at + 8);
    const nameLength = zip.u16(at + 28);
    const extraLength = zip.u16(at + 30);
    const commentLength = zip.u16(at + 32);
    zip.within(at, CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength, directoryEnd, `central directory entry ${i}`);
    const nameStart = at + CENTRAL_HEADER_SIZE;
    const nameBytes = bytes.subarray(nameStart, nameStart + nameLength);
    const name = (flags & FLAG_UTF8 ? utf8 : latin1).decode(nameBytes);
    if (names.has(name)) throw new FormatError(file, `zip archive has two records named ${name}`);
    names.add(name);
    const fields = { size: zip.u32(at + 24), compressedSize: zip.u32(at + 20), headerStart: zip.u32(at + 42) };
    applyZip64(zip, nameStart + nameLength, extraLength, fields, name);

    const { headerStart, compressedSize, size } = fields;
    zip.within(headerStart, LOCAL_HEADER_SIZE, directory.start, `the local header of record ${name}`);
    if (zip.u32(headerStart) !== LOCAL_SIGNATURE) zip.corrupt(`the local header of record ${name} has a bad signature`);
    const localNameLength = zip.u16(headerStart + 26);
    const dataStart = headerStart + LOCAL_HEADER_SIZE + localNameLength + zip.u16(headerStart + 28);
    zip.within(headerStart, dataStart - headerStart, directory.start, `the local header of record ${name}`);
    zip.within(dataStart, compressedSize, directory.start, `the data of record ${name}`);
    const method = zip.u16(at + 10);
    if (method === 0 && size !== compressedSize) zip.corrupt(`stored record ${name} declares ${size} bytes but holds ${compressedSize}`);
    if (method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 1024) {
      zip.corrupt(`record ${name} declares ${size} bytes inflated from ${compressedSize}, more than deflate can expand`);
    }
    entries.push({ name, method, flags, crc: zip.u32(at + 16), compressedSize, size, headerStart, dataStart });
    centralNames.push(nameBytes);
    at += CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
  }
  // Overlaps first: entries sharing one local header also disagree on names, and the overlap is
  // what the archive is built for.
  refuseOverlaps(entries, file);
  entries.forEach((entry, i) => {
    const sameName = zip.u16(entry.headerStart + 26) === centralNames[i].length && sameBytes(bytes, entry.headerStart + LOCAL_HEADER_SIZE, centralNames[i]);
    if (!sameName) zip.corrupt(`record ${entry.name} has another name in its local header`);
  });
  return entries;
}

function allocate(size: number, name: string, file: string): Uint8Array {
  try {
    return new Uint8Array(size);
  } catch {
    throw new FormatError(file, `zip record ${name} declares ${size} bytes, more memory than can be allocated`);
  }
}

/** Inflates at most `size` bytes: a stream that would produce more is refused as soon as it does. */
function inflateBounded(compressed: Uint8Array, size: number, name: string, file: string): Uint8Array {
  const out = allocate(size, name, file);
  let produced = 0;
  const inflater = new Inflate((chunk) => {
    if (chunk.length > size - produced) {
      throw new FormatError(file, `zip record ${name} inflates to more than the ${size} bytes it declares; the archive is corrupt`);
    }
    out.set(chunk, produced);
    produced += chunk.length;
  });
  try {
    for (let pos = 0; pos < compressed.length; ) {
      const step = Math.min(MAX_INFLATE_STEP, Math.max(MIN_INFLATE_STEP, Math.ceil((size - produced) / MAX_DEFLATE_RATIO)));
      const end = Math.min(compressed.length, pos + step);
      inflater.push(compressed.subarray(pos, end), end === compressed.length);
      pos = end;
    }
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError(file, `corrupt or truncated zip archive: record ${name} does not inflate (${err instanceof Error ? err.message : String(err)})`);
  }
  if (produced !== size) throw new FormatError(file, `zip record ${name} inflates to ${produced} bytes, not the ${size} it declares; the archive is corrupt`);
  return out;
}

/** The bytes of one record, in a buffer of their own, checked against the record's CRC-32. */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, file: string): Uint8Array {
  const { name } = entry;
  if (entry.flags & FLAG_ENCRYPTED) throw new FormatError(file, `zip record ${name} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8) {
    throw new FormatError(file, `zip record ${name} uses compression method ${entry.method}; only stored and deflated records are supported`);
  }
  const compressed = bytes.subarray(entry.dataStart, entry.dataStart + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 8) data = inflateBounded(compressed, entry.size, name, file);
  else {
    data = allocate(entry.size, name, file);
    data.set(compressed);
  }
  const actual = crc32(data);
  if (actual !== entry.crc) {
    throw new FormatError(file, `zip record ${name} fails its CRC-32 check (declared ${hex(entry.crc)}, computed ${hex(actual)}); the archive is corrupt`);
  }
  return data;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
