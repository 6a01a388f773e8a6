/** The values a pickle decodes to, and the allowed Python names that may build them. */

/** What a pickle decodes to. `T` is whatever the caller's allowed globals build (e.g. tensor references). */
export type PickleValue<T = never> =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue<T>[]
  | PickleDict<T>
  | Set<PickleValue<T>>
  | PickleGlobal<T>
  | T;

/** A Python dict or OrderedDict; insertion order is kept, as in Python. */
export type PickleDict<T = never> = Map<PickleValue<T>, PickleValue<T>>;

export interface PickleGlobalBehaviour<T> {
  /** What REDUCE, INST and OBJ do: `module.name(*args)`. Absent: calling it is refused. */
  call?: (args: PickleValue<T>[]) => PickleValue<T>;
  /** What NEWOBJ does: `cls.__new__(cls, *args)`. Absent: NEWOBJ on it is refused. */
  newObject?: (args: PickleValue<T>[]) => PickleValue<T>;
  /** What BUILD does to objects this global made. Absent: BUILD on them is refused. */
  setState?: (target: PickleValue<T>, state: PickleValue<T>) => void;
  /** Something the caller wants to recognise the global by later (e.g. a storage dtype). */
  tag?: T;
}

/** A Python callable or class that the caller allowed. */
export class PickleGlobal<T = never> {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly behaviour: PickleGlobalBehaviour<T> = {},
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A short Python-ish name of a value's type, for error messages. */
export function pickleTypeName(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'string') return 'str';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'list/tuple';
  if (value instanceof Map) return 'dict';
  if (value instanceof Set) return 'set';
  if (value instanceof PickleGlobal) return value.qualifiedName;
  return 'object';
}
