/**
 * The ggml tensor types a GGUF file may declare, by their numeric id in the file: how many
 * elements one block holds and how many bytes it takes (ggml's `blck_size` and `type_size`).
 * Sizes come from the block structs in llama.cpp's ggml-common.h.
 */

/** The types whose dequantisation we implement. */
export const SUPPORTED_GGML_TYPES = ['F32', 'F16', 'BF16', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'Q8_K'] as const;
export type SupportedGgmlType = (typeof SUPPORTED_GGML_TYPES)[number];

/** Types a file may hold that we list by name but cannot dequantise. */
type OtherGgmlType =
  | 'Q8_1'
  | 'IQ2_XXS'
  | 'IQ2_XS'
  | 'IQ3_XXS'
  | 'IQ1_S'
  | 'IQ4_NL'
  | 'IQ3_S'
  | 'IQ2_S'
  | 'IQ4_XS'
  | 'I8'
  | 'I16'
  | 'I32'
  | 'I64'
  | 'F64'
  | 'IQ1_M'
  | 'TQ1_0'
  | 'TQ2_0'
  | 'MXFP4';
export type GgmlTypeName = SupportedGgmlType | OtherGgmlType;

export interface GgmlType {
  id: number;
  name: GgmlTypeName;
  /** Elements per block; a row (ne[0] elements) must be a whole number of blocks. */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

/** Super-block size of the k-quants (ggml's QK_K). */
export const QK_K = 256;
/** Block size of the legacy quants Q4_0 .. Q8_0 (ggml's QK4_0 etc.). */
export const QK_LEGACY = 32;

function t(id: number, name: GgmlTypeName, blockSize: number, typeSize: number): GgmlType {
  return { id, name, blockSize, typeSize };
}

/** Ids 4, 5 and 31..33, 36..38 were removed from ggml and never appear in valid files. */
const TYPES: readonly GgmlType[] = [
  t(0, 'F32', 1, 4),
  t(1, 'F16', 1, 2),
  t(2, 'Q4_0', QK_LEGACY, 2 + 16),
  t(3, 'Q4_1', QK_LEGACY, 2 + 2 + 16),
  t(6, 'Q5_0', QK_LEGACY, 2 + 4 + 16),
  t(7, 'Q5_1', QK_LEGACY, 2 + 2 + 4 + 16),
  t(8, 'Q8_0', QK_LEGACY, 2 + 32),
  t(9, 'Q8_1', QK_LEGACY, 2 + 2 + 32),
  t(10, 'Q2_K', QK_K, 16 + 64 + 2 + 2),
  t(11, 'Q3_K', QK_K, 32 + 64 + 12 + 2),
  t(12, 'Q4_K', QK_K, 2 + 2 + 12 + 128),
  t(13, 'Q5_K', QK_K, 2 + 2 + 12 + 32 + 128),
  t(14, 'Q6_K', QK_K, 128 + 64 + 16 + 2),
  t(15, 'Q8_K', QK_K, 4 + 256 + 16 * 2),
  t(16, 'IQ2_XXS', QK_K, 2 + 64),
  t(17, 'IQ2_XS', QK_K, 2 + 64 + 8),
  t(18, 'IQ3_XXS', QK_K, 2 + 96),
  t(19, 'IQ1_S', QK_K, 2 + 32 + 16),
  t(20, 'IQ4_NL', QK_LEGACY, 2 + 16),
  t(21, 'IQ3_S', QK_K, 2 + 64 + 8 + 32 + 4),
  t(22, 'IQ2_S', QK_K, 2 + 64 + 8 + 8),
  t(23, 'IQ4_XS', QK_K, 2 + 2 + 4 + 128),
  t(24, 'I8', 1, 1),
  t(25, 'I16', 1, 2),
  t(26, 'I32', 1, 4),
  t(27, 'I64', 1, 8),
  t(28, 'F64', 1, 8),
  t(29, 'IQ1_M', QK_K, 32 + 16 + 8),
  t(30, 'BF16', 1, 2),
  t(34, 'TQ1_0', QK_K, 48 + 4 + 2),
  t(35, 'TQ2_0', QK_K, 64 + 2),
  t(39, 'MXFP4', QK_LEGACY, 1 + 16),
];

const BY_ID = new Map(TYPES.map((type) => [type.id, type]));
const BY_NAME = new Map(TYPES.map((type) => [type.name, type]));

/** The type with this id in a GGUF tensor info, or undefined for an unknown or removed id. */
export function ggmlTypeById(id: number): GgmlType | undefined {
  return BY_ID.get(id);
}

export function ggmlTypeByName(name: GgmlTypeName): GgmlType {
  const type = BY_NAME.get(name);
  if (type === undefined) throw new Error(`no ggml type named ${name}`);
  return type;
}

export function isSupportedGgmlType(name: GgmlTypeName): name is SupportedGgmlType {
  return (SUPPORTED_GGML_TYPES as readonly string[]).includes(name);
}

/** The IQ types use lattice codebooks (grids of 256..2048 entries) that we do not carry. */
export function isIqType(name: GgmlTypeName): boolean {
  return name.startsWith('IQ');
}

/** Why a type cannot be read, in words for an error message. */
export function unsupportedReason(name: GgmlTypeName): string {
  const supported = `supported: ${SUPPORTED_GGML_TYPES.join(', ')}`;
  if (isIqType(name)) return `ggml type ${name} is an IQ (codebook) quantisation, which lineage cannot dequantise (${supported})`;
  return `ggml type ${name} cannot be dequantised by lineage (${supported})`;
}
