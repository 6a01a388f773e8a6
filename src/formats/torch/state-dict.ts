/**
 * From a checkpoint's data.pkl to its state dict: the pickle is run by our own safe unpickler
 * (never by anything that executes code), and a top-level state dict is accepted, or a training
 * checkpoint that nests it under 'state_dict', 'model_state_dict', 'model' or 'module' (other
 * entries, such as optimizer state, are ignored).
 */
import { FormatError } from '../errors.js';
import { pickleTypeName, unpickle } from '../pickle.js';
import { isZip } from './archive.js';
import { TensorRef, torchGlobals, torchPersistentLoad, torchRefusal, type TorchDict, type TorchValue } from './globals.js';

const NESTED_STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model', 'module'];

function hasTensors(dict: TorchDict): boolean {
  for (const value of dict.values()) if (value instanceof TensorRef) return true;
  return false;
}

function findStateDict(root: TorchValue, file: string): { stateDict: TorchDict; key?: string } {
  if (!(root instanceof Map)) throw new FormatError(file, `holds a ${pickleTypeName(root)}, not a state dict`);
  for (const key of NESTED_STATE_DICT_KEYS) {
    const nested = root.get(key);
    if (nested instanceof Map && hasTensors(nested)) return { stateDict: nested, key };
  }
  if (hasTensors(root)) return { stateDict: root };
  throw new FormatError(
    file,
    `holds no tensors: expected a state dict, or a checkpoint dict with one of ${NESTED_STATE_DICT_KEYS.map((k) => `'${k}'`).join(', ')}`,
  );
}

/** Plain top-level values (e.g. 'epoch', 'arch') of a checkpoint dict, as strings. */
function scalarEntries(root: TorchDict): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of root) {
    if (typeof key !== 'string') continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') out[key] = String(value);
  }
  return out;
}

/** Refuses, from its first bytes, a file that is not a zip checkpoint, saying what it is instead. */
export function rejectNonCheckpoint(head: Uint8Array, file: string): void {
  if (head.length === 0) throw new FormatError(file, 'file is empty');
  if (isZip(head)) return;
  // The legacy format is a sequence of pickles; torch wrote them with protocol 2.
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) {
    throw new FormatError(file, 'legacy (pre-1.6) PyTorch format is not supported; re-save with torch>=1.6');
  }
  throw new FormatError(file, 'not a PyTorch checkpoint: expected a zip archive as written by torch.save (torch>=1.6)');
}

export interface StateDict {
  /** State-dict tensors in pickle order; entries that are not tensors (extra state) are skipped. */
  tensors: [string, TensorRef][];
  metadata: Record<string, string>;
}

/** Unpickles data.pkl of archive `archiveName` and finds its state dict. */
export function readStateDict(dataPkl: Uint8Array, archiveName: string, file: string): StateDict {
  const root = unpickle(dataPkl, {
    file,
    findGlobal: torchGlobals(file),
    refusal: torchRefusal,
    persistentLoad: torchPersistentLoad(file),
  });
  const { stateDict, key } = findStateDict(root, file);
  const tensors: [string, TensorRef][] = [];
  for (const [name, value] of stateDict) {
    if (typeof name === 'string' && value instanceof TensorRef) tensors.push([name, value]);
  }
  const metadata: Record<string, string> = key !== undefined && root instanceof Map ? scalarEntries(root) : {};
  metadata.torch_archive = archiveName;
  if (key !== undefined) metadata.state_dict_key = key;
  return { tensors, metadata };
}
