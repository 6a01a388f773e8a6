/**
 * The state of the pickle machine (its stack, MARKs, memo and work spent) and the bounded
 * operations every opcode handler goes through, so that no handler can forget a limit.
 */
import { PickleReader } from './reader.js';
import { DEFAULT_PICKLE_LIMITS, type PickleLimits, type UnpickleOptions } from './options.js';
import type { PickleGlobal, PickleValue } from './values.js';

// A Map or Set entry costs V8 about ten times the time and memory of an array slot.
const STEPS_PER_HASHED_ENTRY = 4;

/** What a call may copy out of one argument, in steps. */
function shallowSize(value: unknown): number {
  if (Array.isArray(value) || typeof value === 'string' || value instanceof Uint8Array) return value.length;
  if (value instanceof Map || value instanceof Set) return value.size * STEPS_PER_HASHED_ENTRY;
  return 0;
}

export class PickleMachine<T> {
  readonly stack: PickleValue<T>[] = [];
  /** Stack lengths at each open MARK; items below the innermost one are out of reach. */
  readonly marks: number[] = [];
  /** Indexed by memo index: pickles number their memo entries 0, 1, 2, ..., and an array is several times faster than a Map. */
  private readonly memo: PickleValue<T>[] = [];
  private memoSize = 0;
  /** Tuples and frozensets: Python would refuse to append to them, and so do we. */
  readonly immutable = new WeakSet<object>();
  /** Which allowed global made an object, so BUILD can ask it how to set state. */
  readonly madeBy = new WeakMap<object, PickleGlobal<T>>();
  readonly limits: PickleLimits;
  readonly input: PickleReader;
  readonly workBudget: number;
  private work = 0;

  constructor(
    bytes: Uint8Array,
    readonly options: UnpickleOptions<T>,
  ) {
    this.limits = { ...DEFAULT_PICKLE_LIMITS, ...options.limits };
    this.input = new PickleReader(bytes, options.file);
    const { workPerByte, workAllowance, maxWork } = this.limits;
    this.workBudget = Math.min(maxWork, bytes.length * workPerByte + workAllowance);
  }

  /** Throws a FormatError naming the file and the byte where the current opcode starts. */
  fail(problem: string): never {
    return this.input.fail(problem);
  }

  spend(steps: number): void {
    this.work += steps;
    if (this.work > this.workBudget) {
      this.fail(
        `pickle takes more than ${this.workBudget} steps (opcodes plus elements copied) to decode its ${this.input.bytes.length} bytes; it looks built to exhaust memory`,
      );
    }
  }

  /** Charges a call for the elements it may copy out of its arguments. */
  spendOnArguments(args: readonly PickleValue<T>[]): void {
    let steps = args.length;
    for (const arg of args) steps += shallowSize(arg);
    this.spend(steps);
  }

  // --- the stack and its MARKs --------------------------------------------------------------

  push(value: PickleValue<T>): void {
    if (this.stack.length >= this.limits.maxStack) this.fail(`pickle stack grows past ${this.limits.maxStack} items`);
    this.stack.push(value);
  }

  private markBase(): number {
    return this.marks.length > 0 ? this.marks[this.marks.length - 1] : 0;
  }

  pop(): PickleValue<T> {
    if (this.stack.length <= this.markBase()) this.fail('malformed pickle: stack underflow');
    return this.stack.pop() as PickleValue<T>;
  }

  top(): PickleValue<T> {
    if (this.stack.length <= this.markBase()) this.fail('malformed pickle: stack underflow');
    return this.stack[this.stack.length - 1];
  }

  mark(): void {
    if (this.marks.length >= this.limits.maxMarkDepth) this.fail(`pickle nests MARKs deeper than ${this.limits.maxMarkDepth}`);
    this.marks.push(this.stack.length);
  }

  /** Removes and returns the items above the innermost MARK, and that MARK. */
  popMark(): PickleValue<T>[] {
    const base = this.marks.pop();
    if (base === undefined) this.fail('malformed pickle: no MARK to pop to');
    return this.stack.splice(base);
  }

  /** POP: drops the top item, or, when a MARK is on top, that MARK and nothing above it. */
  discard(): void {
    if (this.stack.length > this.markBase()) this.stack.pop();
    else this.popMark();
  }

  // --- the memo -----------------------------------------------------------------------------

  remember(index: number, value: PickleValue<T>): void {
    if (!Number.isSafeInteger(index) || index < 0) this.fail(`invalid memo index ${index}`);
    if (!this.isRemembered(index)) {
      if (this.memoSize >= this.limits.maxMemo) this.fail(`pickle memo grows past ${this.limits.maxMemo} entries`);
      this.memoSize++;
    }
    this.memo[index] = value;
  }

  /** MEMOIZE: remembers the top item under the next free index. */
  memoize(): void {
    this.remember(this.memoSize, this.top());
  }

  recall(index: number): PickleValue<T> {
    if (!this.isRemembered(index)) this.fail(`malformed pickle: memo entry ${index} is not defined`);
    return this.memo[index];
  }

  // An allowed global may return undefined; only then is the slow own-property check needed.
  private isRemembered(index: number): boolean {
    return this.memo[index] !== undefined || Object.hasOwn(this.memo, index);
  }
}
