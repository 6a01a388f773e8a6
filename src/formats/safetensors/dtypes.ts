import { dtypeSize, type DType } from '../../tensor.js';

/**
 * Safetensors dtypes with no DType of their own. Read whole, each widens to a DType that holds every
 * value exactly (float8 to float32, small integers to int32, uint32 to int64); listings keep the
 * stored name.
 */
export const WIDENED_DTYPES = ['float8_e4m3fn', 'float8_e5m2', 'int8', 'int16', 'uint16', 'uint32'] as const;
export type WidenedDtype = (typeof WIDENED_DTYPES)[number];

/** What a safetensors tensor may be stored as. */
export type SafetensorsDtype = DType | WidenedDtype;

/** Our dtype for each safetensors dtype string we support (U64 has no exact widening, so it is not). */
const FROM_SAFETENSORS: Readonly<Record<string, SafetensorsDtype>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U32: 'uint32',
  U16: 'uint16',
  U8: 'uint8',
  BOOL: 'bool',
  F8_E4M3: 'float8_e4m3fn',
  F8_E5M2: 'float8_e5m2',
};

const WIDENED_SIZE: Readonly<Record<WidenedDtype, number>> = {
  float8_e4m3fn: 1,
  float8_e5m2: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  uint32: 4,
};

const TO_SAFETENSORS: Readonly<Record<DType, string>> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};

export const SUPPORTED_SAFETENSORS_DTYPES: readonly string[] = Object.keys(FROM_SAFETENSORS);

/** The dtype for a safetensors dtype string, or undefined when we cannot represent it. */
export function dtypeFromSafetensors(name: string): SafetensorsDtype | undefined {
  return Object.hasOwn(FROM_SAFETENSORS, name) ? FROM_SAFETENSORS[name] : undefined;
}

export function isWidenedDtype(dtype: string): dtype is WidenedDtype {
  return (WIDENED_DTYPES as readonly string[]).includes(dtype);
}

/** Bytes per element as stored. */
export function storedDtypeSize(dtype: SafetensorsDtype): number {
  return isWidenedDtype(dtype) ? WIDENED_SIZE[dtype] : dtypeSize(dtype);
}

/** The safetensors dtype string for a DType, or undefined for a value that is not a DType. */
export function dtypeToSafetensors(dtype: DType): string | undefined {
  return Object.hasOwn(TO_SAFETENSORS, dtype) ? TO_SAFETENSORS[dtype] : undefined;
}
