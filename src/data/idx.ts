/**
 * IDX files (the MNIST family format): 2 zero bytes, a type code, the number of dimensions, then
 * each dimension as a big-endian uint32, then the data. Only unsigned bytes (type 0x08) occur in the
 * datasets we use, so that is the only type read. Files may be gzip-compressed.
 */
import { gunzipSync } from 'node:zlib';
import { readInputFile } from '../formats/input-file.js';
import { InputError, checkInput } from '../base/errors.js';

export const IDX_UBYTE = 0x08;
/** Magic numbers of the two layouts the MNIST family uses. */
export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

const TYPE_NAMES: Record<number, string> = { 8: 'uint8', 9: 'int8', 11: 'int16', 12: 'int32', 13: 'float32', 14: 'float64' };
const MAX_DECOMPRESSED = 2 ** 31 - 1;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses an uncompressed IDX buffer of unsigned bytes; the data is a view into `bytes`. */
export function parseIdx(bytes: Uint8Array, file = '<buffer>'): IdxArray {
  checkInput(bytes.length >= 4, file, `too short for an IDX header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  checkInput(
    bytes[0] === 0 && bytes[1] === 0,
    file,
    `not an IDX file (magic 0x${magic.toString(16).padStart(8, '0')}; expected 0x00000803 for images or 0x00000801 for labels)`,
  );
  const type = bytes[2];
  const rank = bytes[3];
  if (type !== IDX_UBYTE) {
    const name = TYPE_NAMES[type];
    throw new InputError(
      file,
      name ? `IDX element type ${name} is not supported (only uint8)` : `not an IDX file (unknown element type 0x${type.toString(16)})`,
    );
  }
  checkInput(rank >= 1, file, 'IDX file declares 0 dimensions');
  const dataStart = 4 + 4 * rank;
  checkInput(bytes.length >= dataStart, file, `truncated IDX header: ${rank} dimensions need ${dataStart} bytes, file has ${bytes.length}`);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const available = bytes.length - dataStart;
  checkInput(count <= available, file, `truncated IDX data: dimensions [${dims.join(', ')}] need ${count} bytes, file has ${available}`);
  checkInput(count === available, file, `IDX dimensions [${dims.join(', ')}] need ${count} bytes but the file has ${available - count} extra bytes after them`);
  return { dims, data: bytes.subarray(dataStart) };
}

/** Undoes gzip when the bytes start with its magic; other bytes are returned unchanged. */
export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_DECOMPRESSED });
  } catch (err) {
    throw new InputError(file, `corrupt gzip data (${(err as Error).message})`);
  }
}

/** A dataset file's bytes: a regular file only, read no further than its size (see readInputFile). */
export function readFileBytes(path: string): Promise<Uint8Array> {
  return readInputFile(path);
}

/** Reads a possibly gzip-compressed IDX file of unsigned bytes. */
export async function readIdx(path: string): Promise<IdxArray> {
  return parseIdx(maybeGunzip(await readFileBytes(path), path), path);
}

/** Images as [N, H, W] (IDX magic 0x803) or [N, C, H, W] (0x804). */
export function checkIdxImages(a: IdxArray, file: string): [number, number, number, number] {
  checkInput(
    a.dims.length === 3 || a.dims.length === 4,
    file,
    `expected an IDX image file (3 or 4 dimensions, magic 0x00000803), got ${a.dims.length} dimensions [${a.dims.join(', ')}]`,
  );
  const [n, ...rest] = a.dims;
  const [c, h, w] = rest.length === 2 ? [1, rest[0], rest[1]] : rest;
  checkInput(h > 0 && w > 0 && c > 0, file, `image dimensions [${a.dims.join(', ')}] contain a zero`);
  return [n, c, h, w];
}

export function checkIdxLabels(a: IdxArray, file: string): number {
  checkInput(a.dims.length === 1, file, `expected an IDX label file (1 dimension, magic 0x00000801), got ${a.dims.length} dimensions [${a.dims.join(', ')}]`);
  return a.dims[0];
}
