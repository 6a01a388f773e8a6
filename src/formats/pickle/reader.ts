/** Bounds-checked reading of a pickle's bytes, and the text encodings of protocol 0. */
import { FormatError } from '../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

export class PickleReader {
  pos = 0;
  /** Where the opcode being run starts; errors point there. */
  opcodeStart = 0;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    private readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(problem: string): never {
    throw new FormatError(this.file, `${problem} (pickle byte ${this.opcodeStart})`);
  }

  get atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** Moves past the next `n` bytes, checking that they are there; returns where they start. */
  private advance(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) this.fail(`invalid length ${n}`);
    const remaining = this.bytes.length - this.pos;
    if (n > remaining) this.fail(`truncated pickle: needs ${n} more bytes, only ${remaining} left`);
    const start = this.pos;
    this.pos += n;
    return start;
  }

  take(n: number): Uint8Array {
    const start = this.advance(n);
    return this.bytes.subarray(start, start + n);
  }

  // Fixed-size reads index the bytes directly: a subarray per opcode (a Buffer's, when the
  // pickle came from a file) would be the largest cost of decoding a large checkpoint.
  u8(): number {
    return this.bytes[this.advance(1)];
  }

  u16(): number {
    const at = this.advance(2);
    return this.bytes[at] | (this.bytes[at + 1] << 8);
  }

  i32(): number {
    return this.view.getInt32(this.advance(4), true);
  }

  u32(): number {
    return this.view.getUint32(this.advance(4), true);
  }

  u64(): number {
    const value = this.view.getBigUint64(this.advance(8), true);
    // No real length gets near 2^53; anything larger is caught by take()'s bounds check.
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  }

  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated pickle: text argument without a newline');
    const text = latin1.decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }

  text(bytes: Uint8Array): string {
    try {
      return utf8.decode(bytes);
    } catch {
      return this.fail('invalid UTF-8 in a pickled string');
    }
  }

  /** BINFLOAT: a big-endian float64. */
  f64(): number {
    return this.view.getFloat64(this.advance(8), false);
  }
}

/** Decodes a protocol 0 STRING argument: a Python str repr such as 'it\'s' or "a\x00b". */
export function decodeStringRepr(repr: string, fail: (problem: string) => never): string {
  const quote = repr[0];
  if (repr.length < 2 || (quote !== "'" && quote !== '"') || repr[repr.length - 1] !== quote) fail('malformed STRING argument: not quoted');
  const body = repr.slice(1, -1);
  const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '\n': '' };
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = body[++i] ?? '';
    if (next in simple) out += simple[next];
    else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 1, i + 3))) {
      out += String.fromCharCode(Number.parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (/[0-7]/.test(next)) {
      const digits = /^[0-7]{1,3}/.exec(body.slice(i))?.[0] ?? next;
      out += String.fromCharCode(Number.parseInt(digits, 8) & 0xff);
      i += digits.length - 1;
    } else out += `\\${next}`;
  }
  return out;
}

/** Decodes raw-unicode-escape text: latin-1 except for \uXXXX and \UXXXXXXXX escapes. */
export function decodeRawUnicodeEscape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (match, short: string | undefined, long: string | undefined) => {
    const code = Number.parseInt(short ?? long ?? '', 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : match;
  });
}
