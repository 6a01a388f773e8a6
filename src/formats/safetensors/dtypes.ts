import type { DType } from '../../tensor.js';

/** Our dtype for each safetensors dtype string we support (the others have no DType to map to). */
const FROM_SAFETENSORS: Readonly<Record<string, DType>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  U8: 'uint8',
  BOOL: 'bool',
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

/** The DType for a safetensors dtype string, or undefined when we cannot represent it. */
export function dtypeFromSafetensors(name: string): DType | undefined {
  return Object.hasOwn(FROM_SAFETENSORS, name) ? FROM_SAFETENSORS[name] : undefined;
}

/** The safetensors dtype string for a DType, or undefined for a value that is not a DType. */
export function dtypeToSafetensors(dtype: DType): string | undefined {
  return Object.hasOwn(TO_SAFETENSORS, dtype) ? TO_SAFETENSORS[dtype] : undefined;
}
