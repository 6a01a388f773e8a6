/**
 * PyTorch checkpoints written by `torch.save` with torch >= 1.6 (.pt/.pth/.bin/.ckpt): a zip
 * archive whose data.pkl is read by our own safe unpickler, never by anything that executes code.
 * A top-level state dict is accepted, or a training checkpoint that nests it under 'state_dict',
 * 'model_state_dict', 'model' or 'module' (other entries, such as optimizer state, are ignored).
 */
import type { Weights } from '../tensor.js';
import { FormatError } from './errors.js';
import { unpickle, pickleTypeName } from './pickle.js';
import type { WeightFile } from './types.js';
import { isZip, openTorchArchive } from './torch/archive.js';
import { TensorRef, torchGlobals, torchPersistentLoad, torchRefusal, type TorchDict, type TorchValue } from './torch/globals.js';
import { ViewBudget, checkStorage, materializeTensor } from './torch/tensors.js';
import { readInputFile } from './input-file.js';

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
  throw new FormatError(file, `holds no tensors: expected a state dict, or a checkpoint dict with one of ${NESTED_STATE_DICT_KEYS.map((k) => `'${k}'`).join(', ')}`);
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

function rejectNonCheckpoint(bytes: Uint8Array, file: string): void {
  if (bytes.length === 0) throw new FormatError(file, 'file is empty');
  if (isZip(bytes)) return;
  // The legacy format is a sequence of pickles; torch wrote them with protocol 2.
  if (bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) {
    throw new FormatError(file, 'legacy (pre-1.6) PyTorch format is not supported; re-save with torch>=1.6');
  }
  throw new FormatError(file, 'not a PyTorch checkpoint: expected a zip archive as written by torch.save (torch>=1.6)');
}

/** Reads a `torch.save` zip checkpoint held in memory; `file` names it in errors. */
export function readTorchCheckpoint(bytes: Uint8Array, file: string): WeightFile {
  rejectNonCheckpoint(bytes, file);
  const archive = openTorchArchive(bytes, file);
  const root = unpickle(archive.dataPkl, {
    file,
    findGlobal: torchGlobals(file),
    refusal: torchRefusal,
    persistentLoad: torchPersistentLoad(file),
  });
  const { stateDict, key } = findStateDict(root, file);

  const tensors: [string, TensorRef][] = [];
  const users = new Map<string, number>();
  for (const [name, value] of stateDict) {
    if (typeof name !== 'string' || !(value instanceof TensorRef)) continue; // e.g. non-tensor extra state
    tensors.push([name, value]);
    users.set(value.storage.key, (users.get(value.storage.key) ?? 0) + 1);
  }
  // Every storage is checked before any tensor is read, so the budget counts only real bytes.
  const records = new Map<string, Uint8Array>();
  let storageBytes = 0;
  for (const [name, ref] of tensors) {
    const { key } = ref.storage;
    if (records.has(key)) continue;
    const recordName = `${archive.name}/data/${key}`;
    const record = archive.record(recordName);
    storageBytes += checkStorage(name, ref.storage, recordName, record, file);
    records.set(key, record as Uint8Array);
  }
  const budget = new ViewBudget(file, storageBytes);
  const weights: Weights = new Map();
  for (const [name, ref] of tensors) {
    const exclusive = users.get(ref.storage.key) === 1;
    weights.set(name, materializeTensor(name, ref, records.get(ref.storage.key) as Uint8Array, exclusive, budget, file));
  }

  const metadata: Record<string, string> = key !== undefined && root instanceof Map ? scalarEntries(root) : {};
  metadata.torch_archive = archive.name;
  if (key !== undefined) metadata.state_dict_key = key;
  return { file, format: 'pytorch', metadata, weights };
}

/** Reads a `torch.save` zip checkpoint from disk. */
export async function readTorchFile(path: string): Promise<WeightFile> {
  const bytes = await readInputFile(path);
  return readTorchCheckpoint(bytes, path);
}
