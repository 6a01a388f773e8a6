/**
 * Byte-level writers for hand-built PyTorch checkpoints: pickle opcodes as latin-1 text, and zip
 * headers written field by field, so a hostile file can lie in exactly the field it means to.
 * Checksums and deflate streams come from node:zlib, not from the reader under test.
 */
import { deflateRawSync, gzipSync } from 'node:zlib';
import { concatBytes } from './files-bytes.js';

/** Bytes of a latin-1 string, so pickle opcodes can be written as in pickletools listings. */
export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** The parts one after another (the same helper the other hostile writers use). */
export const concat = concatBytes;

function le(value: number, bytes: number): string {
  let out = '';
  let rest = BigInt(value);
  for (let i = 0; i < bytes; i++) {
    out += String.fromCharCode(Number(rest & 0xffn));
    rest >>= 8n;
  }
  return out;
}

export const u16 = (value: number): string => le(value, 2);
export const u32 = (value: number): string => le(value, 4);
export const u64 = (value: number): string => le(value, 8);

// --- pickle opcodes (protocol 2) ------------------------------------------------------------

/** BINUNICODE of an ASCII string. */
export const unicode = (text: string): string => `X${u32(text.length)}${text}`;
/** BININT: a signed 32-bit integer. */
export const int = (value: number): string => `J${u32(value >>> 0)}`;
/** A tuple of integers: MARK, BININTs, TUPLE. */
export const intTuple = (values: readonly number[]): string => `(${values.map(int).join('')}t`;
export const PROTOCOL_2 = '\x80\x02';

/** A persistent id for torch storage `key` of `numel` elements, as torch.save writes it. */
export function storagePid(storageClass: string, key: string, numel: number): string {
  return `(${unicode('storage')}ctorch\n${storageClass}\n${unicode(key)}${unicode('cpu')}${int(numel)}tQ`;
}

/** torch._utils._rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict()). */
export function rebuildTensor(storage: string, offset: number, shape: string, stride: string): string {
  return `ctorch._utils\n_rebuild_tensor_v2\n(${storage}${int(offset)}${shape}${stride}\x89ccollections\nOrderedDict\n)RtR`;
}

// --- zip records ----------------------------------------------------------------------------

/** The CRC-32 of `data`, read from the trailer of a gzip stream that node:zlib writes. */
export function crc32Of(data: Uint8Array): number {
  const gz = gzipSync(data, { level: 0 });
  return new DataView(gz.buffer, gz.byteOffset, gz.byteLength).getUint32(gz.length - 8, true);
}

export function deflateRaw(data: Uint8Array): Uint8Array {
  return new Uint8Array(deflateRawSync(data, { level: 9 }));
}

export interface ZipFields {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
}

const UTF8_FLAG = 0x0800;

export function localHeader(fields: ZipFields): Uint8Array {
  const { name, method, crc, compressedSize, size } = fields;
  return latin1(
    `PK\x03\x04${u16(20)}${u16(UTF8_FLAG)}${u16(method)}${u16(0)}${u16(0x21)}${u32(crc)}${u32(compressedSize)}${u32(size)}${u16(name.length)}${u16(0)}${name}`,
  );
}

/** A central directory entry; `extra` is the raw extra field (id, length, data...). */
export function centralHeader(fields: ZipFields, headerOffset: number, extra = ''): Uint8Array {
  const { name, method, crc, compressedSize, size } = fields;
  return latin1(
    `PK\x01\x02${u16(20)}${u16(20)}${u16(UTF8_FLAG)}${u16(method)}${u16(0)}${u16(0x21)}${u32(crc)}${u32(compressedSize)}${u32(size)}` +
      `${u16(name.length)}${u16(extra.length)}${u16(0)}${u16(0)}${u16(0)}${u32(0)}${u32(headerOffset)}${name}${extra}`,
  );
}

export function endOfCentralDirectory(entries: number, directorySize: number, directoryOffset: number): Uint8Array {
  return latin1(`PK\x05\x06${u16(0)}${u16(0)}${u16(entries)}${u16(entries)}${u32(directorySize)}${u32(directoryOffset)}${u16(0)}`);
}

export interface ZipRecord {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Replaces fields in both headers, to make the archive lie. */
  lie?: Partial<Omit<ZipFields, 'name'>>;
}

/** A zip archive of `records`, in order, with a plain central directory. */
export function zipArchive(records: readonly ZipRecord[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const record of records) {
    const payload = record.deflate ? deflateRaw(record.data) : record.data;
    const fields: ZipFields = {
      name: record.name,
      method: record.deflate ? 8 : 0,
      crc: crc32Of(record.data),
      compressedSize: payload.length,
      size: record.data.length,
      ...record.lie,
    };
    const header = localHeader(fields);
    central.push(centralHeader(fields, offset));
    parts.push(header, payload);
    offset += header.length + payload.length;
  }
  const directory = concat(central);
  return concat([...parts, directory, endOfCentralDirectory(records.length, directory.length, offset)]);
}
