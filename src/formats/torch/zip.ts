/**
 * A zip reader for untrusted files: every offset and length in the central directory and the
 * local headers is checked against the file, records may not overlap (so one compressed stream
 * cannot be listed a thousand times), a deflated record is inflated only up to the size it
 * declares, and every record read must match its CRC-32. Records are read one at a time, on
 * request, so a reader pays only for the records it uses.
 *
 * The archive may be a buffer in memory or a file too big to hold: the directory reader asks a
 * ZipSource for the few pieces it parses (the end records, the central directory, each local
 * header), so opening a file reads those pieces and no record data.
 */
import { Inflate } from 'fflate';
import { FormatError } from '../errors.js';
import { allocateInputBuffer, type InputFile } from '../input-file.js';
import { crc32 } from './crc32.js';

/** Where an archive's bytes come from. */
export interface ZipSource {
  /** Bytes in the archive. */
  readonly length: number;
  /** The `length` bytes at `at`, a range the caller has checked lies inside the archive. */
  bytes(at: number, length: number): Uint8Array;
}

/** An archive held in memory; pieces are views of it. */
export function bufferZipSource(bytes: Uint8Array): ZipSource {
  return { length: bytes.length, bytes: (at, length) => bytes.subarray(at, at + length) };
}

/**
 * Reads are this long at least, so that parsing the central directory field by field costs one
 * read per page, not one per field. A few pages are kept, because the directory reader goes back
 * and forth between the central directory and the local headers it points at.
 */
const FILE_PAGE_BYTES = 16 * 1024;
const FILE_PAGES_KEPT = 4;

/** An archive on disk, read in pages through a bounded InputFile (blocking reads). */
export function fileZipSource(input: InputFile): ZipSource {
  // Most recently used first.
  const pages: { start: number; bytes: Uint8Array }[] = [];
  const bytes = (at: number, length: number): Uint8Array => {
    const hit = pages.findIndex((page) => at >= page.start && at + length <= page.start + page.bytes.length);
    if (hit >= 0) {
      const [page] = pages.splice(hit, 1);
      pages.unshift(page);
      return page.bytes.subarray(at - page.start, at - page.start + length);
    }
    const pageLength = Math.max(length, Math.min(FILE_PAGE_BYTES, input.size - at));
    const fresh = allocateInputBuffer(pageLength, input.path, 'a piece of the zip directory');
    input.readIntoSync(fresh, at, 'a piece of the zip directory');
    // Pieces handed out earlier keep their own page alive; this one is only cached.
    pages.unshift({ start: at, bytes: fresh });
    pages.length = Math.min(pages.length, FILE_PAGES_KEPT);
    return fresh.subarray(0, length);
  };
  return { length: input.size, bytes };
}

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
  constructor(
    readonly source: ZipSource,
    readonly file: string,
  ) {}

  get length(): number {
    return this.source.length;
  }

  bytes(at: number, length: number): Uint8Array {
    return this.source.bytes(at, length);
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
    const b = this.bytes(at, 2);
    return b[0] | (b[1] << 8);
  }

  u32(at: number): number {
    const b = this.bytes(at, 4);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  /** A 64-bit field; values past 2^53 come back as Infinity, which every bounds check refuses. */
  u64(at: number): number {
    const high = this.u32(at + 4);
    // Below 2^21 the high word keeps the value under 2^53, where a double holds it exactly.
    return high < 2 ** 21 ? high * 2 ** 32 + this.u32(at) : Number.POSITIVE_INFINITY;
  }
}

interface Directory {
  entries: number;
  start: number;
  size: number;
  /** Where the end records begin: the central directory and every record lie before this. */
  end: number;
}

/** Where the end-of-central-directory record starts: the last signature within a comment's reach of the end. */
function findEndRecord(zip: ZipBytes): number {
  const lowest = Math.max(0, zip.length - EOCD_SIZE - MAX_COMMENT);
  const tail = zip.bytes(lowest, zip.length - lowest);
  for (let at = tail.length - EOCD_SIZE; at >= 0; at--) {
    const signature = (tail[at] | (tail[at + 1] << 8) | (tail[at + 2] << 16) | (tail[at + 3] << 24)) >>> 0;
    if (signature === EOCD_SIGNATURE) return lowest + at;
  }
  return zip.corrupt('no end-of-central-directory record');
}

function findDirectory(zip: ZipBytes): Directory {
  const eocd = findEndRecord(zip);
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
function applyZip64(
  zip: ZipBytes,
  extraStart: number,
  extraLength: number,
  fields: { size: number; compressedSize: number; headerStart: number },
  name: string,
): void {
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

function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) return false;
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
export function readZipDirectory(source: ZipSource, file: string): ZipEntry[] {
  const zip = new ZipBytes(source, file);
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
    // A copy: a file source's page may be replaced by the next read.
    const nameBytes = new Uint8Array(zip.bytes(nameStart, nameLength));
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
    const expected = centralNames[i];
    const sameName =
      zip.u16(entry.headerStart + 26) === expected.length && sameBytes(zip.bytes(entry.headerStart + LOCAL_HEADER_SIZE, expected.length), expected);
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

/** Refuses a record we cannot read (encrypted, or compressed other than by deflate). */
export function checkReadable(entry: ZipEntry, file: string): void {
  const { name } = entry;
  if (entry.flags & FLAG_ENCRYPTED) throw new FormatError(file, `zip record ${name} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8) {
    throw new FormatError(file, `zip record ${name} uses compression method ${entry.method}; only stored and deflated records are supported`);
  }
}

/** The bytes of one record, in a buffer of their own, checked against the record's CRC-32. */
export function readZipEntry(source: ZipSource, entry: ZipEntry, file: string): Uint8Array {
  checkReadable(entry, file);
  return decodeZipEntry(entry, source.bytes(entry.dataStart, entry.compressedSize), file);
}

/**
 * A record's bytes from its `compressed` bytes as stored (read by the caller from
 * [dataStart, dataStart + compressedSize)): inflated if need be, checked against the record's
 * CRC-32. The result is a buffer of its own, or `compressed` itself for a stored record when the
 * caller `owns` that buffer.
 */
export function decodeZipEntry(entry: ZipEntry, compressed: Uint8Array, file: string, owned = false): Uint8Array {
  checkReadable(entry, file);
  const { name } = entry;
  let data: Uint8Array;
  if (entry.method === 8) data = inflateBounded(compressed, entry.size, name, file);
  else if (owned) data = compressed;
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
