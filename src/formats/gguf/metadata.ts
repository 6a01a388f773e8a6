/**
 * GGUF metadata values (gguf_metadata_value_t): twelve scalar types and arrays of them. Array
 * lengths are checked against the bytes left in the header before anything is allocated, and
 * numeric arrays are kept as typed arrays, so a header costs at most about its size in memory.
 */
import { FormatError } from '../errors.js';
import type { HeaderCursor } from './cursor.js';

/** Value type ids, in the order of the spec's gguf_metadata_value_type enum. */
const VALUE_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64'] as const;
type ValueTypeName = (typeof VALUE_TYPES)[number];
export type GgufScalarType = Exclude<ValueTypeName, 'array'>;
type NumberType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

export type GgufArrayValues =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array
  | boolean[]
  | string[];

export type GgufValue =
  | { type: NumberType; value: number }
  | { type: 'uint64' | 'int64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: GgufScalarType; values: GgufArrayValues };

/** Limits on what a header may declare; each is far above what real models use. */
export interface MetadataLimits {
  /** Elements in one array (the largest real vocabularies have about 2^18 tokens). */
  maxArrayLength: number;
}

const FIXED_SIZE: Partial<Record<GgufScalarType, number>> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  bool: 1,
  uint64: 8,
  int64: 8,
  float64: 8,
};

/** Reads a value type id, failing clearly on an id the spec does not define. */
export function readValueType(cursor: HeaderCursor, what: string): ValueTypeName {
  const id = cursor.u32(`the value type of ${what}`);
  const type = VALUE_TYPES[id];
  if (type === undefined) throw new FormatError(cursor.file, `${what} has unknown value type ${id} (expected 0..${VALUE_TYPES.length - 1})`);
  return type;
}

/** Counts the strings of a header (keys and array items included) as they are read: each costs a JS object. */
export class StringBudget {
  private used = 0;
  constructor(
    private readonly limit: number,
    private readonly file: string,
  ) {}

  spend(count: number, what: string): void {
    this.used += count;
    if (this.used > this.limit) throw new FormatError(this.file, `${what} brings the header past the limit of ${this.limit} strings`);
  }
}

function readBool(cursor: HeaderCursor, what: string): boolean {
  const byte = cursor.u8(what);
  if (byte > 1) throw new FormatError(cursor.file, `${what} is a bool stored as ${byte}; the spec allows only 0 and 1`);
  return byte === 1;
}

function readScalar(cursor: HeaderCursor, type: GgufScalarType, what: string, strings: StringBudget): GgufValue {
  switch (type) {
    case 'uint8':
      return { type, value: cursor.u8(what) };
    case 'int8':
      return { type, value: cursor.i8(what) };
    case 'uint16':
      return { type, value: cursor.u16(what) };
    case 'int16':
      return { type, value: cursor.i16(what) };
    case 'uint32':
      return { type, value: cursor.u32(what) };
    case 'int32':
      return { type, value: cursor.i32(what) };
    case 'float32':
      return { type, value: cursor.f32(what) };
    case 'float64':
      return { type, value: cursor.f64(what) };
    case 'uint64':
      return { type, value: cursor.u64(what) };
    case 'int64':
      return { type, value: cursor.i64(what) };
    case 'bool':
      return { type, value: readBool(cursor, what) };
    case 'string':
      strings.spend(1, what);
      return { type, value: cursor.string(what) };
  }
}

/** Copies `count` fixed-size items into a fresh (so aligned) buffer viewed as the right typed array. */
function readNumericArray(cursor: HeaderCursor, type: GgufScalarType, count: number, what: string): GgufArrayValues {
  const size = FIXED_SIZE[type] ?? 1;
  const copy = new Uint8Array(count * size);
  copy.set(cursor.bytes(count * size, what));
  const buffer = copy.buffer;
  switch (type) {
    case 'int8':
      return new Int8Array(buffer);
    case 'uint16':
      return new Uint16Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'uint32':
      return new Uint32Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'uint64':
      return new BigUint64Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    default:
      return copy;
  }
}

function readArray(cursor: HeaderCursor, what: string, limits: MetadataLimits, strings: StringBudget): GgufValue {
  const itemType = readValueType(cursor, `the items of ${what}`);
  // llama.cpp's reader rejects nested arrays too; refusing them also bounds recursion.
  if (itemType === 'array') throw new FormatError(cursor.file, `${what} is an array of arrays, which is not supported`);
  const declared = cursor.u64(`the length of ${what}`);
  // Every item takes at least one byte (a string at least its 8-byte length), so a count the
  // rest of the header cannot hold is refused before anything is allocated.
  const minItemBytes = itemType === 'string' ? 8 : (FIXED_SIZE[itemType] ?? 1);
  if (declared * BigInt(minItemBytes) > BigInt(cursor.remaining())) {
    throw new FormatError(
      cursor.file,
      `${what} declares ${declared} ${itemType} items (at least ${declared * BigInt(minItemBytes)} bytes), but only ${cursor.remaining()} bytes of header remain`,
    );
  }
  if (declared > BigInt(limits.maxArrayLength)) {
    throw new FormatError(cursor.file, `${what} declares ${declared} items, more than the limit of ${limits.maxArrayLength}`);
  }
  const count = Number(declared);
  if (itemType === 'string') {
    strings.spend(count, what);
    const values: string[] = [];
    for (let i = 0; i < count; i++) values.push(cursor.string(`item ${i} of ${what}`));
    return { type: 'array', itemType, values };
  }
  if (itemType === 'bool') {
    const values: boolean[] = [];
    for (let i = 0; i < count; i++) values.push(readBool(cursor, `item ${i} of ${what}`));
    return { type: 'array', itemType, values };
  }
  return { type: 'array', itemType, values: readNumericArray(cursor, itemType, count, what) };
}

/** Reads one value of the given type; `what` names it in error messages. */
export function readValue(cursor: HeaderCursor, type: ValueTypeName, what: string, limits: MetadataLimits, strings: StringBudget): GgufValue {
  return type === 'array' ? readArray(cursor, what, limits, strings) : readScalar(cursor, type, what, strings);
}

/** Arrays longer than this are shown as their first items and a count. */
const SHOWN_ITEMS = 8;

/** The shortest decimal that reads back as the same float32 (0.1, not 0.10000000149011612). */
function float32Text(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  for (let digits = 1; digits < 9; digits++) {
    const text = String(Number(value.toPrecision(digits)));
    if (Math.fround(Number(text)) === value) return text;
  }
  return String(value);
}

function scalarText(value: unknown, type: GgufScalarType): string {
  if (type === 'float32') return float32Text(value as number);
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** A one-line rendering for listings: scalars as they are, long arrays abbreviated. */
export function metadataValueText(value: GgufValue): string {
  if (value.type === 'string') return value.value;
  if (value.type !== 'array') return scalarText(value.value, value.type);
  const values = value.values as ArrayLike<unknown>;
  const items: string[] = [];
  for (let i = 0; i < Math.min(values.length, SHOWN_ITEMS); i++) items.push(scalarText(values[i], value.itemType));
  const more = value.values.length > SHOWN_ITEMS ? `, ... (${value.values.length} ${value.itemType} items)` : '';
  return `[${items.join(', ')}${more}]`;
}
