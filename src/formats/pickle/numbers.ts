/** Integers and floats as pickles spell them: decimal text (protocol 0) or little-endian bytes. */
import type { PickleMachine } from './machine.js';

function asNumberIfSafe(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** A two's complement little-endian integer, as LONG1 and LONG4 carry it. */
function bytesToInteger(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return asNumberIfSafe(value);
}

/** A protocol 0 integer: decimal digits, with Python 2's trailing L on longs. */
export function decimalInteger<T>(vm: PickleMachine<T>, text: string): number | bigint {
  const digits = text.endsWith('L') ? text.slice(0, -1) : text;
  if (!/^[+-]?\d+$/.test(digits)) vm.fail(`malformed integer ${JSON.stringify(text)}`);
  if (digits.length > vm.limits.maxLongBytes * 3) vm.fail('integer is too long');
  return asNumberIfSafe(BigInt(digits));
}

/** A protocol 0 float in Python's repr, which spells the specials nan, inf and -inf. */
export function decimalFloat<T>(vm: PickleMachine<T>, text: string): number {
  if (/^[+-]?nan$/i.test(text)) return Number.NaN;
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) vm.fail(`malformed float ${JSON.stringify(text)}`);
  return value;
}

/** The next `n` input bytes as a LONG1/LONG4 integer; more bytes than the limit are refused. */
export function longInteger<T>(vm: PickleMachine<T>, n: number): number | bigint {
  if (n > vm.limits.maxLongBytes) vm.fail(`integer of ${n} bytes is too long`);
  return bytesToInteger(vm.input.take(n));
}
