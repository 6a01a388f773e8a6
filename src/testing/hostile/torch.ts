/**
 * Hostile PyTorch checkpoints, each built byte by byte: small files that make a careless reader
 * copy a memoised value without end, write out a stride-0 view, inflate one stream many times
 * or past its declared size, or trust a damaged record. Every one must be refused quickly.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { constants, deflateRawSync } from 'node:zlib';
import type { HostileCase } from './types.js';
import {
  PROTOCOL_2,
  centralHeader,
  concat,
  crc32Of,
  endOfCentralDirectory,
  int,
  intTuple,
  latin1,
  localHeader,
  rebuildTensor,
  storagePid,
  u16,
  u32,
  u64,
  unicode,
  zipArchive,
  type ZipFields,
  type ZipRecord,
} from './torch-bytes.js';

async function write(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** A checkpoint holding only `pickle` as its data.pkl, plus `records`. */
function checkpoint(pickle: string, records: readonly ZipRecord[] = []): Uint8Array {
  return zipArchive([{ name: 'archive/data.pkl', data: latin1(pickle) }, ...records]);
}

/** `count` zero bytes as a raw deflate stream, built from one compressed block repeated. */
function deflatedZeros(count: number): Uint8Array {
  const piece = 1 << 20;
  if (count % piece !== 0) throw new Error(`deflatedZeros needs a multiple of ${piece} bytes`);
  // A full flush ends the piece on a byte boundary with no back-references into it, so copies of
  // it can follow each other; the final empty block ends the stream.
  const block = deflateRawSync(new Uint8Array(piece), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const end = deflateRawSync(new Uint8Array(0));
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count / piece; i++) parts.push(block);
  parts.push(end);
  return concat(parts);
}

/** A state dict pickle {'w': tensor} for a float storage '0' of `numel` elements. */
function oneTensorPickle(numel: number, shape: readonly number[], stride: readonly number[]): string {
  return `${PROTOCOL_2}}${unicode('w')}${rebuildTensor(storagePid('FloatStorage', '0', numel), 0, intTuple(shape), intTuple(stride))}s.`;
}

// --- the unpickler ------------------------------------------------------------------------

const LIST_ITEMS = 100_000;
const LIST_COPIES = 150_000;

const pickleListCopies: HostileCase = {
  name: 'pickle-list-copy-amplification',
  reader: 'pytorch',
  threat: `builtins.list(x) on one memoised ${LIST_ITEMS}-item list, ${LIST_COPIES} times: 6 bytes of pickle copy ${LIST_ITEMS} items, ${LIST_ITEMS * LIST_COPIES} in all from a 1 MB file`,
  async build(dir) {
    const list = `]q\x00(${'N'.repeat(LIST_ITEMS)}e`;
    const copies = 'h\x01h\x00\x85R'.repeat(LIST_COPIES); // BINGET list, BINGET x, TUPLE1, REDUCE
    return write(dir, 'pickle-list-copies.pt', checkpoint(`${PROTOCOL_2}${list}cbuiltins\nlist\nq\x01${copies}.`));
  },
  expect: /steps .*exhaust memory/,
};

const TEXT_LENGTH = 65_536;
const TEXT_COPIES = 120_000;

const pickleBytesCopies: HostileCase = {
  name: 'pickle-bytes-copy-amplification',
  reader: 'pytorch',
  threat: `_codecs.encode(text, 'latin1') on one memoised ${TEXT_LENGTH}-character string, ${TEXT_COPIES} times: ${(TEXT_LENGTH * TEXT_COPIES) / 2 ** 30} GiB of bytes objects from a 1 MB file`,
  async build(dir) {
    const text = `${unicode('a'.repeat(TEXT_LENGTH))}q\x00`;
    const copies = 'h\x01h\x00h\x02\x86R'.repeat(TEXT_COPIES); // encode(text, 'latin1')
    return write(dir, 'pickle-bytes-copies.pt', checkpoint(`${PROTOCOL_2}${text}c_codecs\nencode\nq\x01${unicode('latin1')}q\x02${copies}.`));
  },
  expect: /steps .*exhaust memory/,
};

const DICT_ENTRIES = 50_000;
const DICT_COPIES = 100_000;

const pickleDictCopies: HostileCase = {
  name: 'pickle-dict-copy-amplification',
  reader: 'pytorch',
  threat: `collections.OrderedDict(d) on one memoised ${DICT_ENTRIES}-entry dict, ${DICT_COPIES} times: ${DICT_ENTRIES * DICT_COPIES} map entries from a 1 MB file`,
  async build(dir) {
    let entries = '';
    for (let i = 0; i < DICT_ENTRIES; i++) entries += `${int(i)}N`;
    const copies = 'h\x01h\x00\x85R'.repeat(DICT_COPIES);
    return write(dir, 'pickle-dict-copies.pt', checkpoint(`${PROTOCOL_2}}q\x00(${entries}uccollections\nOrderedDict\nq\x01${copies}.`));
  },
  expect: /steps .*exhaust memory/,
};

// --- tensors --------------------------------------------------------------------------------

const stride0View: HostileCase = {
  name: 'torch-stride0-expansion',
  reader: 'pytorch',
  threat: 'a 1-element storage viewed as [30000, 30000] with stride [0, 0]: 3.6 GB written out from a file of a few hundred bytes',
  async build(dir) {
    const pickle = oneTensorPickle(1, [30000, 30000], [0, 0]);
    return write(dir, 'stride0.pt', checkpoint(pickle, [{ name: 'archive/data/0', data: new Uint8Array(4) }]));
  },
  expect: /repeats elements of its 1-element storage/,
};

const SHARED_FLOATS = 262_144;
const SHARED_KEYS = 20_000;

const sharedStorageCopies: HostileCase = {
  name: 'torch-shared-storage-copies',
  reader: 'pytorch',
  threat: `${SHARED_KEYS} state-dict keys naming one memoised tensor over a 1 MiB storage: each is copied so tensors do not alias, ${SHARED_KEYS} MiB from a 1.3 MB file`,
  async build(dir) {
    const tensor = rebuildTensor(storagePid('FloatStorage', '0', SHARED_FLOATS), 0, intTuple([SHARED_FLOATS]), intTuple([1]));
    let more = '';
    for (let i = 1; i < SHARED_KEYS; i++) more += `${unicode(`w${i}`)}h\x01`;
    const pickle = `${PROTOCOL_2}}(${unicode('w0')}${tensor}q\x01${more}u.`;
    return write(dir, 'shared-storage.pt', checkpoint(pickle, [{ name: 'archive/data/0', data: new Uint8Array(SHARED_FLOATS * 4) }]));
  },
  expect: /tensors viewing the same storages would take/,
};

const RANK = 200_000;
const RANK_TENSORS = 20_000;

const hugeRank: HostileCase = {
  name: 'torch-huge-rank-shared-shape',
  reader: 'pytorch',
  threat: `one memoised shape of ${RANK} ones shared by ${RANK_TENSORS} tensors: every per-dimension loop and shape copy runs ${RANK} times per tensor`,
  async build(dir) {
    const ones = `(${'K\x01'.repeat(RANK)}tq\x02`;
    const first = `ctorch._utils\n_rebuild_tensor_v2\nq\x03(${storagePid('FloatStorage', '0', 1)}q\x04K\x00${ones}h\x02\x89ccollections\nOrderedDict\nq\x05)RtR`;
    let more = '';
    for (let i = 1; i < RANK_TENSORS; i++) more += `${unicode(`w${i}`)}h\x03(h\x04K\x00h\x02h\x02\x89h\x05)RtR`;
    const pickle = `${PROTOCOL_2}}(${unicode('w0')}${first}${more}u.`;
    return write(dir, 'huge-rank.pt', checkpoint(pickle, [{ name: 'archive/data/0', data: new Uint8Array(4) }]));
  },
  expect: /200000 dimensions/,
};

// --- the zip container ------------------------------------------------------------------------

const SHARED_HEADER_ENTRIES = 1000;
const KERNEL_BYTES = 1 << 20;
// Padding in each entry's extra field keeps the declared total under 1032 times the file size,
// so a reader that only checks that total still inflates every entry.
const PADDING = `\xfe\xca${u16(1000)}${'\x00'.repeat(1000)}`;

const sharedLocalHeader: HostileCase = {
  name: 'zip-one-stream-many-entries',
  reader: 'pytorch',
  threat: `${SHARED_HEADER_ENTRIES} central-directory entries pointing at one deflated record of ${KERNEL_BYTES >> 20} MiB of zeros: ${SHARED_HEADER_ENTRIES} MiB inflated from a 1 MB file`,
  async build(dir) {
    const pickle = latin1(`${PROTOCOL_2}}.`);
    const pickleFields: ZipFields = { name: 'archive/data.pkl', method: 0, crc: crc32Of(pickle), compressedSize: pickle.length, size: pickle.length };
    const kernel = deflatedZeros(KERNEL_BYTES);
    const kernelCrc = crc32Of(new Uint8Array(KERNEL_BYTES));
    const pickleHeader = localHeader(pickleFields);
    const kernelOffset = pickleHeader.length + pickle.length;
    const kernelFields = (i: number): ZipFields => ({
      name: `archive/data/${i}`,
      method: 8,
      crc: kernelCrc,
      compressedSize: kernel.length,
      size: KERNEL_BYTES,
    });
    const kernelHeader = localHeader(kernelFields(0));
    const central = [centralHeader(pickleFields, 0)];
    for (let i = 0; i < SHARED_HEADER_ENTRIES; i++) central.push(centralHeader(kernelFields(i), kernelOffset, PADDING));
    const directory = concat(central);
    const directoryOffset = kernelOffset + kernelHeader.length + kernel.length;
    return write(
      dir,
      'one-stream-many-entries.pt',
      concat([pickleHeader, pickle, kernelHeader, kernel, directory, endOfCentralDirectory(central.length, directory.length, directoryOffset)]),
    );
  },
  expect: /overlap/,
};

const QUOTED_ENTRIES = 2000;
const QUOTED_KERNEL_BYTES = 4096;

const overlappingRecords: HostileCase = {
  name: 'zip-overlapping-records',
  reader: 'pytorch',
  threat: `${QUOTED_ENTRIES} records, each a deflate stored block quoting the next record's local header and then running on into the next (an overlapping zip bomb): every byte is inflated up to ${QUOTED_ENTRIES} times, growing with the square of the file size`,
  async build(dir) {
    const name = (i: number): string => `archive/data/${String(i).padStart(5, '0')}`;
    // Every local header has the same length, so offsets and quoted lengths are known up front.
    const headerLength = localHeader({ name: name(0), method: 8, crc: 0, compressedSize: 0, size: 0 }).length;
    const quoteLength = 5; // a non-final stored block header: 0x00, LEN, NLEN
    const kernel = deflateRawSync(new Uint8Array(QUOTED_KERNEL_BYTES));
    const last = QUOTED_ENTRIES - 1;
    const headerStart = (i: number): number => i * (headerLength + quoteLength);
    const kernelStart = headerStart(last) + headerLength;
    const kernelEnd = kernelStart + kernel.length;
    // Record i inflates to the local headers of records i+1.. and then the kernel's zeros: the
    // tail of `inflated` from header i+1 on. Headers hold the CRCs of these tails, so they are
    // written from the last record back.
    const inflated = new Uint8Array(last * headerLength + QUOTED_KERNEL_BYTES);
    const fieldsOf: ZipFields[] = [];
    const headers: Uint8Array[] = [];
    for (let i = last; i >= 0; i--) {
      const dataStart = headerStart(i) + headerLength;
      const output = inflated.subarray(i * headerLength);
      const fields: ZipFields = { name: name(i), method: 8, crc: crc32Of(output), compressedSize: kernelEnd - dataStart, size: output.length };
      fieldsOf[i] = fields;
      headers[i] = localHeader(fields);
      if (i > 0) inflated.set(headers[i], (i - 1) * headerLength);
    }
    const body: Uint8Array[] = [];
    for (let i = 0; i < QUOTED_ENTRIES; i++) {
      body.push(headers[i]);
      if (i < last) body.push(latin1(`\x00${u16(headerLength)}${u16(headerLength ^ 0xffff)}`));
    }
    body.push(kernel);
    const pickle = latin1(`${PROTOCOL_2}}.`);
    const pickleFields: ZipFields = { name: 'archive/data.pkl', method: 0, crc: crc32Of(pickle), compressedSize: pickle.length, size: pickle.length };
    const central: Uint8Array[] = [];
    for (let i = 0; i < QUOTED_ENTRIES; i++) central.push(centralHeader(fieldsOf[i], headerStart(i)));
    central.push(centralHeader(pickleFields, kernelEnd));
    const directory = concat(central);
    const pickleRecord = [localHeader(pickleFields), pickle];
    const directoryOffset = kernelEnd + pickleRecord[0].length + pickle.length;
    return write(
      dir,
      'overlapping-records.pt',
      concat([...body, ...pickleRecord, directory, endOfCentralDirectory(central.length, directory.length, directoryOffset)]),
    );
  },
  expect: /overlap/,
};

const LIE_INFLATED = 256 << 20;

const inflatePastDeclared: HostileCase = {
  name: 'zip-inflates-past-declared-size',
  reader: 'pytorch',
  threat: `a data.pkl declared as 100 bytes whose deflate stream holds ${LIE_INFLATED >> 20} MiB of zeros: a reader that inflates first and checks after pays for all of it`,
  async build(dir) {
    // zipArchive writes `data` as it is, so the deflate stream goes in with the method and size it lies about.
    const pickle: ZipRecord = { name: 'archive/data.pkl', data: deflatedZeros(LIE_INFLATED), lie: { method: 8, size: 100, crc: crc32Of(new Uint8Array(100)) } };
    return write(dir, 'inflates-past-declared.pt', zipArchive([pickle]));
  },
  expect: /inflates to more than the 100 bytes it declares/,
};

const crcMismatch: HostileCase = {
  name: 'zip-crc-mismatch',
  reader: 'pytorch',
  threat: 'a stored storage record changed after its CRC-32 was written: a reader that skips the check loads damaged weights without a word',
  async build(dir) {
    const written = new Uint8Array(16);
    written[0] = 1;
    const record: ZipRecord = { name: 'archive/data/0', data: new Uint8Array(16), lie: { crc: crc32Of(written) } };
    return write(dir, 'crc-mismatch.pt', checkpoint(oneTensorPickle(4, [4], [1]), [record]));
  },
  expect: /archive\/data\/0 fails its CRC-32 check/,
  // Found when the record is read: inspect lists tensors from the headers alone.
  command: 'compare',
};

const headerPastEnd: HostileCase = {
  name: 'zip-local-header-past-end',
  reader: 'pytorch',
  threat: 'a central directory entry whose local header offset lies 4 GB past the end of a tiny file',
  async build(dir) {
    const bytes = checkpoint(`${PROTOCOL_2}}.`);
    // The first central directory entry's local header offset sits 42 bytes into it.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const directoryOffset = view.getUint32(bytes.length - 6, true);
    view.setUint32(directoryOffset + 42, 0xfffffff0, true);
    return write(dir, 'header-past-end.pt', bytes);
  },
  expect: /local header of record archive\/data\.pkl .* does not fit before byte/,
};

const zip64EntryCount: HostileCase = {
  name: 'zip64-entry-count',
  reader: 'pytorch',
  threat: 'a zip64 end record declaring 2^40 entries: a reader that sizes an array by it, or loops that many times, never finishes',
  async build(dir) {
    const plain = checkpoint(`${PROTOCOL_2}}.`);
    const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
    const directorySize = view.getUint32(plain.length - 10, true);
    const directoryOffset = view.getUint32(plain.length - 6, true);
    const body = plain.subarray(0, directoryOffset + directorySize);
    const record = body.length;
    const zip64 = latin1(
      `PK\x06\x06${u64(44)}${u16(45)}${u16(45)}${u32(0)}${u32(0)}${u64(2 ** 40)}${u64(2 ** 40)}${u64(directorySize)}${u64(directoryOffset)}`,
    );
    const locator = latin1(`PK\x06\x07${u32(0)}${u64(record)}${u32(1)}`);
    const eocd = latin1(`PK\x05\x06${u16(0)}${u16(0)}${u16(0xffff)}${u16(0xffff)}${u32(0xffffffff)}${u32(0xffffffff)}${u16(0)}`);
    return write(dir, 'zip64-entry-count.pt', concat([body, zip64, locator, eocd]));
  },
  expect: /declares 1099511627776 records/,
};

export const TORCH_HOSTILE_CASES: HostileCase[] = [
  pickleListCopies,
  pickleBytesCopies,
  pickleDictCopies,
  stride0View,
  sharedStorageCopies,
  hugeRank,
  sharedLocalHeader,
  overlappingRecords,
  inflatePastDeclared,
  crcMismatch,
  headerPastEnd,
  zip64EntryCount,
];
