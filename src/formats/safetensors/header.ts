/**
 * Parsing and validation of the safetensors header: the 8-byte length prefix and the JSON that
 * describes every tensor. Mirrors the reference Rust implementation (huggingface/safetensors
 * `read_metadata` + `Metadata::validate`): tensors sorted by offset must tile the data area exactly,
 * so overlaps, holes and trailing bytes are all rejected.
 */
import { isIntegerAtLeast, isJsonObject } from '../../base/validate.js';
import { check, FormatError } from '../errors.js';
import type { TensorInfo } from '../types.js';
import { dtypeFromSafetensors, storedDtypeSize, SUPPORTED_SAFETENSORS_DTYPES, type SafetensorsDtype } from './dtypes.js';

/** Size of the little-endian u64 that holds the header length. */
export const PREFIX_BYTES = 8;
/** The reference implementation's cap; a bigger header is a hostile or corrupt file. */
export const MAX_HEADER_BYTES = 100_000_000;
export const METADATA_KEY = '__metadata__';

/** One tensor as the header describes it; offsets are relative to the start of the data area. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** In file order (by data offset). */
  entries: SafetensorsEntry[];
  /** Byte offset of the data area in the file: 8 + header length. */
  dataStart: number;
}

/**
 * Reads the header length from the first 8 bytes and checks it against the cap and the file size;
 * returns the number of JSON bytes that follow the prefix.
 */
export function parseHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  check(fileSize >= PREFIX_BYTES && prefix.byteLength >= PREFIX_BYTES, file, `truncated: ${fileSize} bytes is too short for the 8-byte header length`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, PREFIX_BYTES);
  const length = view.getBigUint64(0, true);
  check(length <= BigInt(MAX_HEADER_BYTES), file, `header length ${length} is larger than the ${MAX_HEADER_BYTES}-byte limit (corrupt file?)`);
  const n = Number(length);
  check(PREFIX_BYTES + n <= fileSize, file, `header length ${n} runs past the end of the ${fileSize}-byte file (truncated?)`);
  return n;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseMetadata(value: unknown, file: string): Record<string, string> {
  check(isJsonObject(value), file, `${METADATA_KEY} must be an object of strings`);
  const pairs = Object.entries(value);
  for (const [key, v] of pairs) {
    check(typeof v === 'string', file, () => `${METADATA_KEY} value for "${key}" must be a string, got ${JSON.stringify(v)}`);
  }
  // fromEntries (not assignment) so a hostile "__proto__" key stays a plain data property.
  return Object.fromEntries(pairs) as Record<string, string>;
}

function parseEntry(name: string, value: unknown, file: string): SafetensorsEntry {
  const where = `tensor "${name}"`;
  check(isJsonObject(value), file, `${where}: entry must be an object with dtype, shape and data_offsets`);
  const { dtype: rawDtype, shape, data_offsets: offsets } = value;
  check(rawDtype !== undefined, file, `${where}: missing dtype`);
  check(shape !== undefined, file, `${where}: missing shape`);
  check(offsets !== undefined, file, `${where}: missing data_offsets`);
  check(typeof rawDtype === 'string', file, `${where}: dtype must be a string`);
  const dtype = dtypeFromSafetensors(rawDtype);
  check(dtype !== undefined, file, () => `unknown dtype ${rawDtype} for tensor "${name}" (supported: ${SUPPORTED_SAFETENSORS_DTYPES.join(', ')})`);
  check(Array.isArray(shape), file, `${where}: shape must be an array`);
  let elements = 1;
  for (const d of shape as unknown[]) {
    check(isIntegerAtLeast(d, 0), file, () => `${where}: shape [${shape.map(String).join(',')}] has a dimension that is not a non-negative integer`);
    elements *= d;
    // Checked at every step: a later 0 would hide an overflow ([2^40, 2^40, 0] has 0 elements).
    check(Number.isSafeInteger(elements), file, () => `${where}: shape [${shape.join(',')}] has too many elements`);
  }
  check(
    Array.isArray(offsets) && offsets.length === 2 && isIntegerAtLeast(offsets[0], 0) && isIntegerAtLeast(offsets[1], 0),
    file,
    `${where}: data_offsets must be two non-negative integers [begin, end]`,
  );
  const [begin, end] = offsets as [number, number];
  check(begin <= end, file, `${where}: data_offsets [${begin},${end}] end before they begin`);
  const expected = elements * storedDtypeSize(dtype);
  check(
    Number.isSafeInteger(expected) && end - begin === expected,
    file,
    () => `${where}: ${rawDtype} shape [${shape.join(',')}] needs ${expected} bytes but data_offsets [${begin},${end}] span ${end - begin}`,
  );
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/** Root object -> tensor entry -> shape or data_offsets array: no valid header nests deeper. */
const MAX_HEADER_DEPTH = 3;

/**
 * Refuses JSON nested deeper than `maxDepth` before JSON.parse builds it: three bytes `[],` become
 * a ~40-byte array, so a 100 MB header of nested empty arrays would cost ~1.4 GB to parse. At a
 * depth the format needs, every container needs a key or a shape, which keeps parsing to a few
 * bytes of memory per JSON byte. One pass; quotes and backslashes are ASCII in UTF-8.
 * `offset` is where `json` starts in the file, for the message.
 */
export function checkJsonNesting(json: Uint8Array, maxDepth: number, file: string, what: string, offset: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      check(depth <= maxDepth, file, () => `${what} nests JSON ${depth} levels deep at byte ${offset + i}; at most ${maxDepth} are allowed`);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
}

/**
 * Parses the JSON header and validates every entry against a data area of `dataLength` bytes.
 * Returns the entries in file order.
 */
export function parseHeaderJson(json: Uint8Array, dataLength: number, file: string): { metadata: Record<string, string>; entries: SafetensorsEntry[] } {
  let text: string;
  try {
    text = utf8.decode(json);
  } catch {
    throw new FormatError(file, 'header is not valid UTF-8');
  }
  checkJsonNesting(json, MAX_HEADER_DEPTH, file, 'header', PREFIX_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FormatError(file, `header is not valid JSON (${(err as Error).message})`);
  }
  check(isJsonObject(parsed), file, 'header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}');

  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value, file);
    else entries.push(parseEntry(name, value, file));
  }
  // Stable sort: zero-size tensors sharing an offset keep their JSON order.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  validateLayout(entries, dataLength, file);
  return { metadata, entries };
}

function validateLayout(entries: readonly SafetensorsEntry[], dataLength: number, file: string): void {
  let covered = 0;
  let previous: SafetensorsEntry | undefined;
  for (const e of entries) {
    check(
      e.end <= dataLength,
      file,
      () => `tensor "${e.name}" data_offsets [${e.begin},${e.end}] run past the end of the ${dataLength}-byte data area (truncated file?)`,
    );
    check(
      e.begin >= covered,
      file,
      () => `tensor "${e.name}" data_offsets [${e.begin},${e.end}] overlap tensor "${previous?.name}" [${previous?.begin},${previous?.end}]`,
    );
    check(e.begin === covered, file, () => `data bytes [${covered},${e.begin}) belong to no tensor (hole before tensor "${e.name}")`);
    covered = e.end;
    previous = e;
  }
  check(covered === dataLength, file, () => `data area has ${dataLength} bytes but tensors cover only ${covered} (trailing bytes)`);
}

export function entryInfo(e: SafetensorsEntry): TensorInfo {
  return { name: e.name, dtype: e.dtype, shape: [...e.shape], bytes: e.end - e.begin };
}
