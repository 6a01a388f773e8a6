/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0): a magic string, a Python-literal header
 * describing dtype, order and shape, then the raw little-endian array in C order.
 */
import { type DType, type Tensor, dtypeSize, tensorBytes, tensorFromBytes } from '../tensor.js';
import { writeFileAtomic } from '../base/fsutil.js';
import { FormatError, check } from './errors.js';
import { readInputFile } from './input-file.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR_TO_DTYPE: Record<string, DType> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<i8': 'int64',
  '<i4': 'int32',
  '|u1': 'uint8',
  '<u1': 'uint8',
  '|b1': 'bool',
  '<f2': 'float16',
};
const DTYPE_TO_DESCR: Partial<Record<DType, string>> = {
  float32: '<f4',
  float64: '<f8',
  int64: '<i8',
  int32: '<i4',
  uint8: '|u1',
  bool: '|b1',
  float16: '<f2',
};

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/**
 * numpy's own cap (np.load's max_header_size): real headers are under 200 bytes, and a bounded
 * header keeps the parse below trivially cheap.
 */
export const MAX_NPY_HEADER_BYTES = 10_000;

/** Reads the header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }. */
function parseHeaderDict(text: string, file: string): NpyHeader {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(text);
  const order = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^()]*)\)/.exec(text);
  check(descr && order && shape, file, `malformed .npy header ${JSON.stringify(text.trim())}`);
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      check(/^\d+L?$/.test(s), file, `malformed shape in .npy header: (${shape[1]})`);
      const d = Number.parseInt(s, 10);
      check(Number.isSafeInteger(d), file, `shape (${shape[1]}) in .npy header has a dimension too large to be real`);
      return d;
    });
  return { descr: descr[1], fortranOrder: order[1] === 'True', shape: dims };
}

/** Elements in `shape`, checked at every step: a later 0 would hide an overflow. */
function elementCount(shape: readonly number[], file: string): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    check(Number.isSafeInteger(n), file, () => `shape (${shape.join(', ')}) in .npy header has too many elements`);
  }
  return n;
}

/** Where a .npy file's array is: its dtype, shape, and the byte range of its data in the file. */
export interface NpyLayout {
  dtype: DType;
  shape: number[];
  dataStart: number;
  dataBytes: number;
}

/**
 * Reads and checks a .npy header from the first bytes of a file of `fileSize` bytes (`head` may be
 * the whole file, or just its first 10 + MAX_NPY_HEADER_BYTES bytes): the data must fill the rest
 * of the file exactly.
 */
export function parseNpyHeader(head: Uint8Array, fileSize: number, file = '<buffer>'): NpyLayout {
  check(isNpy(head), file, 'not a .npy file (missing \\x93NUMPY magic)');
  check(head.length >= 10, file, 'truncated .npy header');
  const major = head[6];
  check(major >= 1 && major <= 3, file, `unsupported .npy format version ${major}.${head[7]}`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  check(head.length >= 8 + lengthBytes, file, 'truncated .npy header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  check(dataStart <= fileSize, file, `.npy header length ${headerLength} runs past the end of the file`);
  check(
    headerLength <= MAX_NPY_HEADER_BYTES,
    file,
    `.npy header length ${headerLength} is larger than the ${MAX_NPY_HEADER_BYTES}-byte limit numpy itself applies`,
  );
  check(dataStart <= head.length, file, 'truncated .npy header');
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(head.subarray(8 + lengthBytes, dataStart));
  const header = parseHeaderDict(headerText, file);
  const dtype = Object.hasOwn(DESCR_TO_DTYPE, header.descr) ? DESCR_TO_DTYPE[header.descr] : undefined;
  if (!dtype) {
    throw new FormatError(
      file,
      `unsupported .npy dtype '${header.descr}' (supported: ${Object.keys(DESCR_TO_DTYPE).join(', ')}; big-endian data is not supported)`,
    );
  }
  const n = elementCount(header.shape, file);
  const dimsMoreThanOne = header.shape.filter((d) => d > 1).length;
  if (header.fortranOrder && dimsMoreThanOne > 1) {
    throw new FormatError(file, 'Fortran-order arrays are not supported; save with np.ascontiguousarray(x) first');
  }
  const size = n * dtypeSize(dtype);
  const available = fileSize - dataStart;
  check(available >= size, file, () => `truncated .npy data: shape [${header.shape.join(',')}] needs ${size} bytes, file has ${available}`);
  check(available === size, file, () => `.npy file has ${available - size} unexpected trailing bytes`);
  return { dtype, shape: header.shape, dataStart, dataBytes: size };
}

export function parseNpy(bytes: Uint8Array, file = '<buffer>'): Tensor {
  const { dtype, shape, dataStart, dataBytes } = parseNpyHeader(bytes, bytes.length, file);
  return tensorFromBytes(dtype, shape, bytes.subarray(dataStart, dataStart + dataBytes));
}

export function serializeNpy(t: Tensor): Uint8Array {
  const descr = DTYPE_TO_DESCR[t.dtype];
  if (!descr) throw new Error(`.npy cannot store dtype ${t.dtype}`);
  const shapeText = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Version 1.0: the magic, version, length and header together are padded to a multiple of 64.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const headerBytes = new TextEncoder().encode(header);
  const data = tensorBytes(t);
  const out = new Uint8Array(10 + headerBytes.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  out.set(headerBytes, 10);
  out.set(data, 10 + headerBytes.length);
  return out;
}

export async function readNpy(path: string): Promise<Tensor> {
  const bytes = await readInputFile(path);
  return parseNpy(bytes, path);
}

export async function writeNpy(path: string, t: Tensor): Promise<void> {
  await writeFileAtomic(path, serializeNpy(t));
}
