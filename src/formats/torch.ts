/**
 * PyTorch checkpoints written by `torch.save` with torch >= 1.6 (.pt/.pth/.bin/.ckpt): a zip
 * archive whose data.pkl is read by our own safe unpickler, never by anything that executes code
 * (state-dict rules: torch/state-dict.ts). Read whole here; TorchCheckpointFile reads one on disk
 * tensor by tensor.
 */
import type { Weights } from '../tensor.js';
import type { WeightFile } from './types.js';
import { openTorchArchive } from './torch/archive.js';
import { readStateDict, rejectNonCheckpoint } from './torch/state-dict.js';
import { ViewBudget, checkStorage, materializeTensor } from './torch/tensors.js';
import { readInputFile } from './input-file.js';

export { TorchCheckpointFile } from './torch/file.js';

/** Reads a `torch.save` zip checkpoint held in memory; `file` names it in errors. */
export function readTorchCheckpoint(bytes: Uint8Array, file: string): WeightFile {
  rejectNonCheckpoint(bytes, file);
  const archive = openTorchArchive(bytes, file);
  const { tensors, metadata } = readStateDict(archive.dataPkl, archive.name, file);
  const users = new Map<string, number>();
  for (const [, ref] of tensors) users.set(ref.storage.key, (users.get(ref.storage.key) ?? 0) + 1);
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
  return { file, format: 'pytorch', metadata, weights };
}

/** Reads a `torch.save` zip checkpoint from disk. */
export async function readTorchFile(path: string): Promise<WeightFile> {
  const bytes = await readInputFile(path);
  return readTorchCheckpoint(bytes, path);
}
