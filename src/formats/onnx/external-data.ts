/**
 * Initializers whose bytes live in a file beside the model (TensorProto.data_location = EXTERNAL,
 * as onnx.save_model(..., save_as_external_data=True) writes them): the `external_data` keys are
 * checked here, before any file is touched. The location must be a relative path that stays inside
 * the model's folder; ./external-files.ts then checks the file itself.
 */
import { isAbsolute, normalize, win32 } from 'node:path';
import type { DType, Tensor } from '../../tensor.js';
import { check } from '../errors.js';
import type { StringStringEntryMsg } from './onnx-proto.js';

/** Where one tensor's bytes are: `length` bytes at `offset` of the file at `location`. */
export interface OnnxExternalData {
  dtype: DType;
  shape: number[];
  /** As written in the model: a path relative to the model's folder. */
  location: string;
  offset: number;
  /** Elements times the dtype's size; a `length` key, when given, must say the same. */
  length: number;
  /** False when the file gave no `length`: the data then runs to the end of the file. */
  lengthGiven: boolean;
}

/**
 * Called for each external tensor while a model is parsed; the tensor it returns takes the
 * external tensor's place in the model.
 */
export type ExternalDataLoader = (data: OnnxExternalData, what: string) => Tensor;

const COUNT = /^\d+$/;

function parseCount(value: string, key: string, file: string, what: string): number {
  const n = COUNT.test(value) ? Number(value) : Number.NaN;
  check(Number.isSafeInteger(n), file, () => `${what}: external_data ${key} ${JSON.stringify(value)} is not a non-negative integer below 2^53`);
  return n;
}

/** True when `location` names a file inside the model's folder, whatever the platform's separators. */
function staysInside(location: string): boolean {
  if (location.includes('\0') || isAbsolute(location) || win32.isAbsolute(location)) return false;
  if (location.split(/[\\/]/).includes('..')) return false;
  const normal = normalize(location);
  return normal !== '.' && !normal.startsWith('..');
}

/**
 * Reads and checks the external_data keys of a tensor of `dtype` and `shape` needing `bytes` bytes.
 * Unknown keys (checksum, ...) are ignored; a key given twice is refused.
 */
export function parseExternalData(
  entries: readonly StringStringEntryMsg[],
  dtype: DType,
  shape: number[],
  bytes: number,
  file: string,
  what: string,
): OnnxExternalData {
  const keys = new Map<string, string>();
  for (const { key = '', value = '' } of entries) {
    check(!keys.has(key), file, () => `${what}: external_data key "${key}" is given twice`);
    keys.set(key, value);
  }
  const location = keys.get('location');
  check(location !== undefined && location !== '', file, `${what} keeps its data in an external file but external_data names no location`);
  check(staysInside(location), file, () => `${what} keeps its data in ${JSON.stringify(location)}, which is not a file inside the model's folder`);
  const offset = parseCount(keys.get('offset') ?? '0', 'offset', file, what);
  const lengthText = keys.get('length');
  const length = lengthText === undefined ? bytes : parseCount(lengthText, 'length', file, what);
  check(length === bytes, file, () => `${what}: ${dtype} tensor of shape [${shape.join(',')}] needs ${bytes} bytes, but external_data length is ${length}`);
  return { dtype, shape, location, offset, length, lengthGiven: lengthText !== undefined };
}
