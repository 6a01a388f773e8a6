/**
 * A safe interpreter for Python pickles (protocols 0-5). Nothing in a pickle is ever executed:
 * GLOBAL/STACK_GLOBAL resolve only names the caller allows (`findGlobal`), and REDUCE, NEWOBJ,
 * INST, OBJ and BUILD only ever call the small TypeScript functions those allowed names carry.
 * Every other name is refused with a FormatError naming it.
 *
 * The interpreter is a loop over opcodes with an explicit stack, so a hostile pickle cannot
 * exhaust the JavaScript call stack; the stack, the memo and MARK nesting are bounded as well.
 * So is the total work: every opcode costs one step, and a call to an allowed global costs one
 * step per element of its arguments, since that is what it may copy. The budget grows with the
 * pickle's length, so a small pickle cannot copy a memoised list a million times.
 */
import { FormatError } from './errors.js';
import { PickleReader, decodeRawUnicodeEscape, decodeStringRepr } from './pickle/reader.js';
import { PickleGlobal, pickleTypeName, type PickleDict, type PickleValue } from './pickle/values.js';

export { PickleGlobal, pickleTypeName } from './pickle/values.js';
export type { PickleDict, PickleGlobalBehaviour, PickleValue } from './pickle/values.js';

export interface PickleLimits {
  maxStack: number;
  maxMemo: number;
  maxMarkDepth: number;
  /** Longest LONG1/LONG4/LONG integer, in bytes. */
  maxLongBytes: number;
  /** Steps (opcodes run, plus argument elements handed to allowed globals) allowed per pickle byte... */
  workPerByte: number;
  /** ...plus this many for any pickle... */
  workAllowance: number;
  /** ...and never more than this, however long the pickle. */
  maxWork: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = {
  maxStack: 1 << 22,
  maxMemo: 1 << 22,
  maxMarkDepth: 1000,
  maxLongBytes: 1024,
  // Real pickles take at most about 2.5 steps per byte: every opcode is at least a byte, and what
  // allowed globals copy (set([...]) and bytes in protocol 2) was spelled out in the pickle once,
  // at two bytes or more for each set element.
  workPerByte: 4,
  workAllowance: 1 << 16,
  maxWork: 1 << 28,
};

// A Map or Set entry costs V8 about ten times the time and memory of an array slot.
const STEPS_PER_HASHED_ENTRY = 4;

/** What a call may copy out of one argument, in steps. */
function shallowSize(value: unknown): number {
  if (Array.isArray(value) || typeof value === 'string' || value instanceof Uint8Array) return value.length;
  if (value instanceof Map || value instanceof Set) return value.size * STEPS_PER_HASHED_ENTRY;
  return 0;
}

export interface UnpickleOptions<T> {
  /** Names errors after this file. */
  file: string;
  /** The allowed globals; `undefined` refuses the name. Python 2 module names are mapped first. */
  findGlobal: (module: string, name: string) => PickleGlobal<T> | undefined;
  /** The problem text for a refused global; the default says it is not on the allowed list. */
  refusal?: (qualifiedName: string) => string;
  /** Resolves PERSID/BINPERSID ids; without it, persistent ids are refused. */
  persistentLoad?: (pid: PickleValue<T>) => PickleValue<T>;
  limits?: Partial<PickleLimits>;
}

const HIGHEST_PROTOCOL = 5;
// Python 3's Unpickler maps these Python 2 names the same way (fix_imports).
const PYTHON2_MODULES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

function bytesToInteger(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return asNumberIfSafe(value);
}

function asNumberIfSafe(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** Decodes `pickle.loads(bytes)` without executing anything. */
export function unpickle<T = never>(bytes: Uint8Array, options: UnpickleOptions<T>): PickleValue<T> {
  return new Unpickler(bytes, options).run();
}

class Unpickler<T> {
  private readonly stack: PickleValue<T>[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue<T>>();
  /** Tuples and frozensets: Python would refuse to append to them, and so do we. */
  private readonly immutable = new WeakSet<object>();
  /** Which allowed global made an object, so BUILD can ask it how to set state. */
  private readonly madeBy = new WeakMap<object, PickleGlobal<T>>();
  private readonly limits: PickleLimits;
  private readonly input: PickleReader;
  private readonly workBudget: number;
  private work = 0;

  constructor(
    bytes: Uint8Array,
    private readonly options: UnpickleOptions<T>,
  ) {
    this.limits = { ...DEFAULT_PICKLE_LIMITS, ...options.limits };
    this.input = new PickleReader(bytes, options.file);
    const { workPerByte, workAllowance, maxWork } = this.limits;
    this.workBudget = Math.min(maxWork, bytes.length * workPerByte + workAllowance);
  }

  private spend(steps: number): void {
    this.work += steps;
    if (this.work > this.workBudget) {
      this.fail(`pickle takes more than ${this.workBudget} steps (opcodes plus elements copied) to decode its ${this.input.bytes.length} bytes; it looks built to exhaust memory`);
    }
  }

  /** Charges a call for the elements it may copy out of its arguments. */
  private spendOnArguments(args: readonly PickleValue<T>[]): void {
    let steps = args.length;
    for (const arg of args) steps += shallowSize(arg);
    this.spend(steps);
  }

  private fail(problem: string): never {
    return this.input.fail(problem);
  }

  // --- the stack --------------------------------------------------------------------------

  private push(value: PickleValue<T>): void {
    if (this.stack.length >= this.limits.maxStack) this.fail(`pickle stack grows past ${this.limits.maxStack} items`);
    this.stack.push(value);
  }

  private markBase(): number {
    return this.marks.length > 0 ? this.marks[this.marks.length - 1] : 0;
  }

  private pop(): PickleValue<T> {
    if (this.stack.length <= this.markBase()) this.fail('malformed pickle: stack underflow');
    return this.stack.pop() as PickleValue<T>;
  }

  private top(): PickleValue<T> {
    if (this.stack.length <= this.markBase()) this.fail('malformed pickle: stack underflow');
    return this.stack[this.stack.length - 1];
  }

  private popMark(): PickleValue<T>[] {
    const base = this.marks.pop();
    if (base === undefined) this.fail('malformed pickle: no MARK to pop to');
    return this.stack.splice(base);
  }

  private remember(index: number, value: PickleValue<T>): void {
    if (!Number.isSafeInteger(index) || index < 0) this.fail(`invalid memo index ${index}`);
    if (!this.memo.has(index) && this.memo.size >= this.limits.maxMemo) this.fail(`pickle memo grows past ${this.limits.maxMemo} entries`);
    this.memo.set(index, value);
  }

  private recall(index: number): PickleValue<T> {
    if (!this.memo.has(index)) this.fail(`malformed pickle: memo entry ${index} is not defined`);
    return this.memo.get(index) as PickleValue<T>;
  }

  // --- values -----------------------------------------------------------------------------

  private tuple(items: PickleValue<T>[]): PickleValue<T>[] {
    this.immutable.add(items);
    return items;
  }

  private integer(text: string): number | bigint {
    const digits = text.endsWith('L') ? text.slice(0, -1) : text;
    if (!/^[+-]?\d+$/.test(digits)) this.fail(`malformed integer ${JSON.stringify(text)}`);
    if (digits.length > this.limits.maxLongBytes * 3) this.fail('integer is too long');
    return asNumberIfSafe(BigInt(digits));
  }

  /** A protocol 0 float in Python's repr, which spells the specials nan, inf and -inf. */
  private float(text: string): number {
    if (/^[+-]?nan$/i.test(text)) return Number.NaN;
    if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
    const value = Number(text);
    if (text === '' || Number.isNaN(value)) this.fail(`malformed float ${JSON.stringify(text)}`);
    return value;
  }

  private long(n: number): number | bigint {
    if (n > this.limits.maxLongBytes) this.fail(`integer of ${n} bytes is too long`);
    return bytesToInteger(this.input.take(n));
  }

  private resolveGlobal(rawModule: string, name: string): PickleGlobal<T> {
    const module = PYTHON2_MODULES[rawModule] ?? rawModule;
    const found = this.options.findGlobal(module, name);
    if (found) return found;
    const qualifiedName = `${module}.${name}`;
    const problem = this.options.refusal?.(qualifiedName) ?? `refusing to load: pickle references ${qualifiedName}, which is not on the list of allowed names`;
    throw new FormatError(this.options.file, problem);
  }

  private expectGlobal(value: PickleValue<T>, opcode: string): PickleGlobal<T> {
    if (!(value instanceof PickleGlobal)) this.fail(`malformed pickle: ${opcode} needs a callable, got a ${pickleTypeName(value)}`);
    return value;
  }

  private expectArgs(value: PickleValue<T>, opcode: string): PickleValue<T>[] {
    if (!Array.isArray(value)) this.fail(`malformed pickle: ${opcode} needs an argument tuple, got a ${pickleTypeName(value)}`);
    return value;
  }

  private made(global: PickleGlobal<T>, value: PickleValue<T>): PickleValue<T> {
    if (typeof value === 'object' && value !== null) this.madeBy.set(value, global);
    return value;
  }

  private call(global: PickleGlobal<T>, args: PickleValue<T>[]): PickleValue<T> {
    const call = global.behaviour.call;
    if (!call) this.fail(`refusing to call ${global.qualifiedName}`);
    this.spendOnArguments(args);
    return this.made(global, call(args));
  }

  private newObject(global: PickleGlobal<T>, args: PickleValue<T>[]): PickleValue<T> {
    const create = global.behaviour.newObject;
    if (!create) this.fail(`refusing to create a ${global.qualifiedName} object (NEWOBJ)`);
    this.spendOnArguments(args);
    return this.made(global, create(args));
  }

  private list(opcode: string): PickleValue<T>[] {
    const target = this.top();
    if (!Array.isArray(target) || this.immutable.has(target)) this.fail(`malformed pickle: ${opcode} needs a list, got a ${pickleTypeName(target)}`);
    return target;
  }

  private dict(opcode: string): PickleDict<T> {
    const target = this.top();
    if (!(target instanceof Map)) this.fail(`malformed pickle: ${opcode} needs a dict, got a ${pickleTypeName(target)}`);
    return target;
  }

  private setItems(dict: PickleDict<T>, items: PickleValue<T>[]): void {
    if (items.length % 2 !== 0) this.fail('malformed pickle: odd number of dict items');
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
  }

  private persistent(pid: PickleValue<T>): PickleValue<T> {
    const load = this.options.persistentLoad;
    if (!load) this.fail('refusing to load: pickle uses persistent ids, which this file type does not');
    this.spendOnArguments([pid]);
    return load(pid);
  }

  // --- the interpreter --------------------------------------------------------------------

  run(): PickleValue<T> {
    const input = this.input;
    if (input.bytes.length === 0) this.fail('pickle is empty');
    for (;;) {
      input.opcodeStart = input.pos;
      if (input.atEnd) this.fail('truncated pickle: it ends without a STOP opcode');
      this.spend(1);
      const op = input.u8();
      switch (op) {
        case 0x80: {
          const protocol = this.input.u8();
          if (protocol > HIGHEST_PROTOCOL) this.fail(`unsupported pickle protocol ${protocol}`);
          break;
        }
        case 0x95: // FRAME: framing is only a read-ahead hint
          this.input.u64();
          break;
        case 0x2e: // STOP
          return this.pop();
        case 0x28: // MARK
          if (this.marks.length >= this.limits.maxMarkDepth) this.fail(`pickle nests MARKs deeper than ${this.limits.maxMarkDepth}`);
          this.marks.push(this.stack.length);
          break;
        case 0x30: // POP
          if (this.stack.length > this.markBase()) this.stack.pop();
          else this.popMark();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.push(this.top());
          break;

        case 0x4e: // NONE
          this.push(null);
          break;
        case 0x88: // NEWTRUE
          this.push(true);
          break;
        case 0x89: // NEWFALSE
          this.push(false);
          break;
        case 0x49: {
          // INT: protocol 0 spells booleans as I01 / I00
          const text = this.input.line();
          this.push(text === '01' ? true : text === '00' ? false : this.integer(text));
          break;
        }
        case 0x4a: // BININT
          this.push(this.input.i32());
          break;
        case 0x4b: // BININT1
          this.push(this.input.u8());
          break;
        case 0x4d: // BININT2
          this.push(this.input.u16());
          break;
        case 0x4c: // LONG
          this.push(this.integer(this.input.line()));
          break;
        case 0x8a: // LONG1
          this.push(this.long(this.input.u8()));
          break;
        case 0x8b: {
          // LONG4
          const n = this.input.i32();
          if (n < 0) this.fail('negative LONG4 length');
          this.push(this.long(n));
          break;
        }
        case 0x46: {
          // FLOAT
          this.push(this.float(this.input.line().trim()));
          break;
        }
        case 0x47: // BINFLOAT (big-endian)
          this.push(this.input.f64());
          break;

        case 0x53: // STRING: a quoted Python 2 str repr
          this.push(decodeStringRepr(this.input.line(), (problem) => this.fail(problem)));
          break;
        case 0x54: {
          // BINSTRING
          const n = this.input.i32();
          if (n < 0) this.fail('negative BINSTRING length');
          this.push(this.input.text(this.input.take(n)));
          break;
        }
        case 0x55: // SHORT_BINSTRING
          this.push(this.input.text(this.input.take(this.input.u8())));
          break;
        case 0x56: // UNICODE: raw-unicode-escape text
          this.push(decodeRawUnicodeEscape(this.input.line()));
          break;
        case 0x58: // BINUNICODE
          this.push(this.input.text(this.input.take(this.input.u32())));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.push(this.input.text(this.input.take(this.input.u8())));
          break;
        case 0x8d: // BINUNICODE8
          this.push(this.input.text(this.input.take(this.input.u64())));
          break;
        case 0x42: // BINBYTES
          this.push(new Uint8Array(this.input.take(this.input.u32())));
          break;
        case 0x43: // SHORT_BINBYTES
          this.push(new Uint8Array(this.input.take(this.input.u8())));
          break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
          this.push(new Uint8Array(this.input.take(this.input.u64())));
          break;

        case 0x5d: // EMPTY_LIST
          this.push([]);
          break;
        case 0x6c: // LIST
          this.push(this.popMark());
          break;
        case 0x61: {
          // APPEND
          const value = this.pop();
          this.list('APPEND').push(value);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMark();
          const target = this.list('APPENDS');
          for (const item of items) target.push(item);
          break;
        }
        case 0x29: // EMPTY_TUPLE
          this.push(this.tuple([]));
          break;
        case 0x74: // TUPLE
          this.push(this.tuple(this.popMark()));
          break;
        case 0x85: // TUPLE1
          this.push(this.tuple([this.pop()]));
          break;
        case 0x86: {
          // TUPLE2
          const b = this.pop();
          const a = this.pop();
          this.push(this.tuple([a, b]));
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.push(this.tuple([a, b, c]));
          break;
        }
        case 0x7d: // EMPTY_DICT
          this.push(new Map());
          break;
        case 0x64: {
          // DICT
          const dict: PickleDict<T> = new Map();
          this.setItems(dict, this.popMark());
          this.push(dict);
          break;
        }
        case 0x73: {
          // SETITEM
          const value = this.pop();
          const key = this.pop();
          this.dict('SETITEM').set(key, value);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark();
          this.setItems(this.dict('SETITEMS'), items);
          break;
        }
        case 0x8f: // EMPTY_SET
          this.push(new Set());
          break;
        case 0x90: {
          // ADDITEMS
          const items = this.popMark();
          const target = this.top();
          if (!(target instanceof Set) || this.immutable.has(target)) this.fail(`malformed pickle: ADDITEMS needs a set, got a ${pickleTypeName(target)}`);
          for (const item of items) target.add(item);
          break;
        }
        case 0x91: {
          // FROZENSET
          const frozen = new Set(this.popMark());
          this.immutable.add(frozen);
          this.push(frozen);
          break;
        }

        case 0x67: // GET
          this.push(this.recall(Number(this.integer(this.input.line()))));
          break;
        case 0x68: // BINGET
          this.push(this.recall(this.input.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.push(this.recall(this.input.u32()));
          break;
        case 0x70: // PUT
          this.remember(Number(this.integer(this.input.line())), this.top());
          break;
        case 0x71: // BINPUT
          this.remember(this.input.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.remember(this.input.u32(), this.top());
          break;
        case 0x94: // MEMOIZE
          this.remember(this.memo.size, this.top());
          break;

        case 0x63: {
          // GLOBAL
          const module = this.input.line();
          const name = this.input.line();
          this.push(this.resolveGlobal(module, name));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('malformed pickle: STACK_GLOBAL needs two strings');
          this.push(this.resolveGlobal(module, name));
          break;
        }
        case 0x52: {
          // REDUCE
          const args = this.expectArgs(this.pop(), 'REDUCE');
          const callable = this.expectGlobal(this.pop(), 'REDUCE');
          this.push(this.call(callable, args));
          break;
        }
        case 0x81: {
          // NEWOBJ
          const args = this.expectArgs(this.pop(), 'NEWOBJ');
          const cls = this.expectGlobal(this.pop(), 'NEWOBJ');
          this.push(this.newObject(cls, args));
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          const kwargs = this.pop();
          const args = this.expectArgs(this.pop(), 'NEWOBJ_EX');
          const cls = this.expectGlobal(this.pop(), 'NEWOBJ_EX');
          if (!(kwargs instanceof Map) || kwargs.size > 0) this.fail(`refusing to create a ${cls.qualifiedName} object with keyword arguments`);
          this.push(this.newObject(cls, args));
          break;
        }
        case 0x69: {
          // INST
          const module = this.input.line();
          const name = this.input.line();
          const cls = this.resolveGlobal(module, name);
          this.push(this.call(cls, this.popMark()));
          break;
        }
        case 0x6f: {
          // OBJ
          const [cls, ...args] = this.popMark();
          this.push(this.call(this.expectGlobal(cls ?? null, 'OBJ'), args));
          break;
        }
        case 0x62: {
          // BUILD
          const state = this.pop();
          const target = this.top();
          const maker = typeof target === 'object' && target !== null ? this.madeBy.get(target) : undefined;
          const setState = maker?.behaviour.setState;
          if (!maker || !setState) this.fail(`refusing to set the state of a ${pickleTypeName(target)} value (BUILD)`);
          this.spendOnArguments([state]);
          setState(target, state);
          break;
        }
        case 0x50: // PERSID
          this.push(this.persistent(this.input.line()));
          break;
        case 0x51: // BINPERSID
          this.push(this.persistent(this.pop()));
          break;

        case 0x82:
        case 0x83:
        case 0x84:
          this.fail('refusing to load: pickle uses copyreg extension codes (EXT1/EXT2/EXT4)');
          break;
        case 0x97:
        case 0x98:
          this.fail('refusing to load: pickle uses out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER)');
          break;
        default:
          this.fail(`malformed pickle: unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }
}
