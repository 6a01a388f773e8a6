/**
 * A byte-level GGUF writer for tests: it writes exactly the fields it is told to, lies included
 * (counts, lengths, offsets), so hostile files can be built field by field from the spec.
 */

/** Value type ids of the spec's gguf_metadata_value_type. */
export const GGUF_VALUE_TYPE = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

/** ggml type ids used by the tests. */
export const GGML_TYPE_ID = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q4_K: 12, IQ2_XXS: 16, BF16: 30 } as const;

export class GgufBytes {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  raw(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.size += bytes.byteLength;
    return this;
  }

  private fixed(byteLength: number, write: (view: DataView) => void): this {
    const bytes = new Uint8Array(byteLength);
    write(new DataView(bytes.buffer));
    return this.raw(bytes);
  }

  u8(value: number): this {
    return this.fixed(1, (v) => v.setUint8(0, value));
  }
  u32(value: number): this {
    return this.fixed(4, (v) => v.setUint32(0, value, true));
  }
  i32(value: number): this {
    return this.fixed(4, (v) => v.setInt32(0, value, true));
  }
  u64(value: number | bigint): this {
    return this.fixed(8, (v) => v.setBigUint64(0, BigInt(value), true));
  }
  f32(value: number): this {
    return this.fixed(4, (v) => v.setFloat32(0, value, true));
  }

  /** A gguf_string_t; `declaredLength` overrides the length field (to lie about it). */
  string(text: string, declaredLength?: number | bigint): this {
    const bytes = new TextEncoder().encode(text);
    return this.u64(declaredLength ?? bytes.byteLength).raw(bytes);
  }

  /** The fixed header: magic, version, tensor count, metadata count. */
  header(tensorCount: number | bigint, kvCount: number | bigint, version = 3): this {
    return this.raw(new TextEncoder().encode('GGUF')).u32(version).u64(tensorCount).u64(kvCount);
  }

  /** A metadata pair holding a string. */
  kvString(key: string, value: string): this {
    return this.string(key).u32(GGUF_VALUE_TYPE.string).string(value);
  }

  /** A metadata pair holding a uint32. */
  kvU32(key: string, value: number): this {
    return this.string(key).u32(GGUF_VALUE_TYPE.uint32).u32(value);
  }

  /** A tensor info: name, dims in ggml order (ne[0] innermost), type id, data offset. */
  tensorInfo(name: string, ne: readonly (number | bigint)[], typeId: number, offset: number | bigint): this {
    this.string(name).u32(ne.length);
    for (const d of ne) this.u64(d);
    return this.u32(typeId).u64(offset);
  }

  /** Zero bytes up to the next multiple of `alignment`. */
  padTo(alignment: number): this {
    return this.raw(new Uint8Array((alignment - (this.size % alignment)) % alignment));
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }
}
