/**
 * A bounded, forward-only reader over the start of a file, used to parse a GGUF header without
 * reading the (possibly huge) tensor data after it. Every read is checked against the file's
 * size and the header byte limit before any buffer is allocated, so a declared length can never
 * make us read or allocate more than the file holds.
 *
 * The cursor parses bytes already in memory (a prefix of the file). When it needs bytes past the
 * prefix that the file does have, it throws NeedMoreBytes, and the caller fetches a longer prefix
 * and parses again: headers are read in growing pieces, never the whole file.
 */
import { FormatError } from '../errors.js';

/** Thrown when the header continues past the bytes fetched so far. */
export class NeedMoreBytes extends Error {
  constructor(readonly needed: number) {
    super(`the header needs the first ${needed} bytes of the file`);
    this.name = 'NeedMoreBytes';
  }
}

const utf8 = new TextDecoder('utf-8');

export class HeaderCursor {
  /** Offset of the next byte to read. */
  position = 0;
  private readonly view: DataView;
  /** Reads may not go past this offset: the file's end or the header limit, whichever is first. */
  private readonly end: number;

  /**
   * `prefix` holds the file's first bytes; `fileSize` is the size of the whole file; reads stop
   * at `maxHeaderBytes`.
   */
  constructor(
    private readonly prefix: Uint8Array,
    private readonly fileSize: number,
    readonly file: string,
    private readonly maxHeaderBytes: number,
  ) {
    this.end = Math.min(fileSize, maxHeaderBytes);
    this.view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  }

  /** Bytes that may still be read as header. */
  remaining(): number {
    return this.end - this.position;
  }

  /** Throws unless `length` more bytes may be read; `what` names the field for the message. */
  private require(length: number, what: string): void {
    const needed = this.position + length;
    if (needed > this.fileSize) {
      throw new FormatError(this.file, `${what} needs ${length} bytes at offset ${this.position}, past the end of the ${this.fileSize}-byte file (truncated?)`);
    }
    if (needed > this.end)
      throw new FormatError(this.file, `${what} at offset ${this.position} runs past the ${this.maxHeaderBytes}-byte limit on GGUF headers`);
    if (needed > this.prefix.byteLength) throw new NeedMoreBytes(needed);
  }

  /** The next `length` bytes, as a view of the prefix. */
  bytes(length: number, what: string): Uint8Array {
    this.require(length, what);
    this.position += length;
    return this.prefix.subarray(this.position - length, this.position);
  }

  /** Claims `length` bytes and returns their offset in the prefix. */
  private at(length: number, what: string): number {
    this.require(length, what);
    this.position += length;
    return this.position - length;
  }

  u8(what: string): number {
    return this.view.getUint8(this.at(1, what));
  }
  i8(what: string): number {
    return this.view.getInt8(this.at(1, what));
  }
  u16(what: string): number {
    return this.view.getUint16(this.at(2, what), true);
  }
  i16(what: string): number {
    return this.view.getInt16(this.at(2, what), true);
  }
  u32(what: string): number {
    return this.view.getUint32(this.at(4, what), true);
  }
  i32(what: string): number {
    return this.view.getInt32(this.at(4, what), true);
  }
  u64(what: string): bigint {
    return this.view.getBigUint64(this.at(8, what), true);
  }
  i64(what: string): bigint {
    return this.view.getBigInt64(this.at(8, what), true);
  }
  f32(what: string): number {
    return this.view.getFloat32(this.at(4, what), true);
  }
  f64(what: string): number {
    return this.view.getFloat64(this.at(8, what), true);
  }

  /** A gguf_string_t: u64 byte length then UTF-8 bytes; `maxBytes` caps the declared length. */
  string(what: string, maxBytes = Number.MAX_SAFE_INTEGER): string {
    const length = this.u64(`the length of ${what}`);
    if (length > BigInt(this.remaining())) {
      throw new FormatError(
        this.file,
        `${what} declares ${length} bytes at offset ${this.position}, but only ${this.remaining()} bytes of header can follow (file is ${this.fileSize} bytes)`,
      );
    }
    if (length > BigInt(maxBytes)) throw new FormatError(this.file, `${what} declares ${length} bytes, more than the ${maxBytes}-byte limit`);
    return utf8.decode(this.bytes(Number(length), what));
  }
}
