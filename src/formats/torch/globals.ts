/**
 * The only Python names a PyTorch checkpoint may mention: what `torch.save(state_dict)` writes
 * (OrderedDict, the tensor rebuild functions, the storage classes, torch.Size) and the few builtins
 * that plain values in a training checkpoint need. Each is a small TypeScript function that builds
 * a description of the value; nothing is ever imported or run.
 */
import type { DType } from '../../tensor.js';
import { FormatError } from '../errors.js';
import { PickleGlobal, pickleTypeName, type PickleDict, type PickleValue } from '../pickle.js';

/** A torch.*Storage class as named in a pickle: the dtype of the data behind a persistent id. */
export class StorageType {
  constructor(
    readonly className: string,
    readonly torchDtype: string,
    /** Undefined when we know the class but have no matching DType. */
    readonly dtype: DType | undefined,
  ) {}
}

/** A storage, i.e. a `<archive>/data/<key>` record of `numel` elements. */
export class StorageRef {
  constructor(
    readonly type: StorageType,
    readonly key: string,
    readonly numel: number,
  ) {}
}

/** A tensor as torch._utils._rebuild_tensor_v2 describes it: a strided view of a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

export type TorchObject = StorageType | StorageRef | TensorRef;
export type TorchValue = PickleValue<TorchObject>;
export type TorchDict = PickleDict<TorchObject>;

const STORAGE_TYPES: readonly StorageType[] = [
  new StorageType('FloatStorage', 'float32', 'float32'),
  new StorageType('HalfStorage', 'float16', 'float16'),
  new StorageType('BFloat16Storage', 'bfloat16', 'bfloat16'),
  new StorageType('DoubleStorage', 'float64', 'float64'),
  new StorageType('LongStorage', 'int64', 'int64'),
  new StorageType('IntStorage', 'int32', 'int32'),
  new StorageType('ByteStorage', 'uint8', 'uint8'),
  new StorageType('BoolStorage', 'bool', 'bool'),
  // Known, so that a checkpoint holding one of these outside its state dict (e.g. in optimizer
  // state) still loads; a state-dict tensor of these types gets a clear error when read.
  new StorageType('CharStorage', 'int8', undefined),
  new StorageType('ShortStorage', 'int16', undefined),
  new StorageType('ComplexFloatStorage', 'complex64', undefined),
  new StorageType('ComplexDoubleStorage', 'complex128', undefined),
  new StorageType('QInt8Storage', 'qint8', undefined),
  new StorageType('QUInt8Storage', 'quint8', undefined),
  new StorageType('QInt32Storage', 'qint32', undefined),
  new StorageType('QUInt4x2Storage', 'quint4x2', undefined),
  new StorageType('QUInt2x4Storage', 'quint2x4', undefined),
];

/**
 * PyTorch's own kernels stop well short of this; a longer shape is there to make every
 * per-dimension loop long, once for each of the many tensors that may share it.
 */
export const MAX_TENSOR_RANK = 64;

/** The number of an integer argument, or undefined when it is not a non-negative safe integer. */
function count(value: TorchValue): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function counts(value: TorchValue): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: number[] = [];
  for (const item of value) {
    const n = count(item);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

/** Items of a Python iterable argument (list, tuple, set). */
function items(value: TorchValue | undefined, what: string, file: string): TorchValue[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  if (value instanceof Set) return [...value];
  throw new FormatError(file, `malformed pickle: ${what} needs a list, got a ${pickleTypeName(value)}`);
}

function dictFrom(args: TorchValue[], what: string, file: string): TorchDict {
  const first = args[0];
  if (first instanceof Map) return new Map(first);
  const dict: TorchDict = new Map();
  for (const pair of items(first, what, file)) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new FormatError(file, `malformed pickle: ${what} needs (key, value) pairs`);
    dict.set(pair[0], pair[1]);
  }
  return dict;
}

/** The allowed names for one file; errors name that file. */
export function torchGlobals(file: string): (module: string, name: string) => PickleGlobal<TorchObject> | undefined {
  const malformed = (what: string): never => {
    throw new FormatError(file, `malformed pickle: unexpected arguments to ${what}`);
  };

  const rebuildTensor =
    (what: string, minArgs: number, maxArgs: number) =>
    (args: TorchValue[]): TorchValue => {
      const [storage, offsetArg, shapeArg, strideArg] = args;
      if (Array.isArray(shapeArg) && shapeArg.length > MAX_TENSOR_RANK) {
        throw new FormatError(file, `a tensor in the pickle has ${shapeArg.length} dimensions, more than the ${MAX_TENSOR_RANK} supported`);
      }
      const offset = count(offsetArg ?? null);
      const shape = counts(shapeArg ?? null);
      const stride = counts(strideArg ?? null);
      if (
        args.length < minArgs ||
        args.length > maxArgs ||
        !(storage instanceof StorageRef) ||
        offset === undefined ||
        !shape ||
        !stride ||
        shape.length !== stride.length
      ) {
        return malformed(what);
      }
      return new TensorRef(storage, offset, shape, stride);
    };
  // Parameters wrap a tensor; requires_grad, hooks and extra state do not matter for weights.
  const rebuildParameter =
    (what: string, argCount: number) =>
    (args: TorchValue[]): TorchValue => {
      if (args.length !== argCount || !(args[0] instanceof TensorRef)) return malformed(what);
      return args[0];
    };
  const ignoreState = (): void => {
    // torch keeps module versions in OrderedDict._metadata; nothing a weight reader needs.
  };

  const table = new Map<string, PickleGlobal<TorchObject>>();
  const allow = (module: string, name: string, behaviour: PickleGlobal<TorchObject>['behaviour']): void => {
    table.set(`${module}.${name}`, new PickleGlobal(module, name, behaviour));
  };

  allow('collections', 'OrderedDict', {
    call: (args) => dictFrom(args, 'OrderedDict', file),
    newObject: () => new Map(),
    setState: ignoreState,
  });
  allow('torch._utils', '_rebuild_tensor_v2', { call: rebuildTensor('torch._utils._rebuild_tensor_v2', 6, 7) });
  allow('torch._utils', '_rebuild_tensor', { call: rebuildTensor('torch._utils._rebuild_tensor', 4, 4) });
  allow('torch._utils', '_rebuild_parameter', { call: rebuildParameter('torch._utils._rebuild_parameter', 3) });
  allow('torch._utils', '_rebuild_parameter_with_state', {
    call: rebuildParameter('torch._utils._rebuild_parameter_with_state', 4),
  });
  for (const type of STORAGE_TYPES) allow('torch', type.className, { tag: type });
  const size = (args: TorchValue[]): TorchValue => counts(args[0] ?? []) ?? malformed('torch.Size');
  allow('torch', 'Size', { call: size, newObject: size });

  allow('builtins', 'set', { call: (args) => new Set(items(args[0], 'set', file)), newObject: () => new Set() });
  allow('builtins', 'frozenset', { call: (args) => new Set(items(args[0], 'frozenset', file)) });
  allow('builtins', 'list', { call: (args) => [...items(args[0], 'list', file)], newObject: () => [] });
  allow('builtins', 'tuple', { call: (args) => [...items(args[0], 'tuple', file)] });
  allow('builtins', 'dict', { call: (args) => dictFrom(args, 'dict', file), newObject: () => new Map() });
  // Protocol 2 writes bytes objects as _codecs.encode(text, 'latin1').
  allow('_codecs', 'encode', {
    call: (args) => {
      const [text, encoding] = args;
      if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) return malformed('_codecs.encode');
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (code > 0xff) return malformed('_codecs.encode');
        out[i] = code;
      }
      return out;
    },
  });

  return (module, name) => table.get(`${module}.${name}`);
}

/** Why a name is refused, with a hint when the file holds a whole pickled model. */
export function torchRefusal(qualifiedName: string): string {
  const problem = `refusing to load: pickle references ${qualifiedName}, which is not part of a tensor state dict`;
  if (/^(torch\.nn\.|torchvision\.|timm\.|transformers\.|__main__\.)/.test(qualifiedName)) {
    return `${problem} (the file seems to hold a whole pickled model; save model.state_dict() instead)`;
  }
  return problem;
}

/**
 * Resolves torch's persistent ids ('storage', storage_type, key, location, numel) to storage
 * references; the same key always yields the same reference, so shared storages stay shared.
 */
export function torchPersistentLoad(file: string): (pid: TorchValue) => TorchValue {
  const storages = new Map<string, StorageRef>();
  return (pid) => {
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
      throw new FormatError(file, 'refusing to load: pickle has a persistent id that is not a torch storage');
    }
    const [, typeGlobal, key, , numelArg] = pid;
    const type = typeGlobal instanceof PickleGlobal ? typeGlobal.behaviour.tag : undefined;
    const numel = count(numelArg);
    if (!(type instanceof StorageType) || typeof key !== 'string' || numel === undefined) {
      throw new FormatError(file, 'malformed pickle: unexpected persistent storage id');
    }
    const known = storages.get(key);
    if (known) {
      if (known.type !== type || known.numel !== numel) throw new FormatError(file, `storage ${key} is described twice with different types or sizes`);
      return known;
    }
    const storage = new StorageRef(type, key, numel);
    storages.set(key, storage);
    return storage;
  };
}
