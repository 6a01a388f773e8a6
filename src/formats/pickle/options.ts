/** What a caller tells the unpickler: the file's name, the allowed globals and the limits. */
import type { PickleGlobal, PickleValue } from './values.js';

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
