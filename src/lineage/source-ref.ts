/**
 * Weight-space lineage reads models as sources (lazy, streamed) whatever the caller gave: a path is
 * opened by openModelSource, headers only; a model already in memory (or a loader of one) is
 * wrapped, so callers that hold weights need no second code path.
 */
import { openModelSource } from '../source/open.js';
import { memorySource } from '../source/memory.js';
import type { ModelSource } from '../source/types.js';
import { type LineageModel, type ModelRef, resolveModel } from './model.js';
import { isNamedModelPath, type NamedModelPath } from './model-path.js';

/** What weight-space commands accept as a model. */
export type SourceRef = ModelRef | NamedModelPath;

export interface OpenedModel {
  id: string;
  /** The file opened (for messages). */
  file: string;
  source: ModelSource;
}

function fromMemory(model: LineageModel): OpenedModel {
  return { id: model.id, file: model.file, source: memorySource(model.weights, model.file, { metadata: model.metadata }) };
}

export async function openRef(ref: SourceRef): Promise<OpenedModel> {
  if (typeof ref === 'string') {
    const source = await openModelSource(ref);
    return { id: ref, file: source.file, source };
  }
  if (isNamedModelPath(ref)) {
    const source = await openModelSource(ref.path);
    return { id: ref.id, file: source.file, source };
  }
  if (typeof ref === 'function') return fromMemory(await ref());
  return fromMemory(ref);
}

/** Opens every ref in order; closes those already open when one fails. */
export async function openRefs(refs: readonly SourceRef[]): Promise<OpenedModel[]> {
  const opened: OpenedModel[] = [];
  try {
    for (const ref of refs) opened.push(await openRef(ref));
  } catch (err) {
    await closeAll(opened);
    throw err;
  }
  return opened;
}

export async function closeAll(models: readonly OpenedModel[]): Promise<void> {
  await Promise.all(models.map((m) => m.source.close()));
}

/** The model in memory (feature methods need every weight at hand), under the ref's id. */
export async function loadRef(ref: SourceRef): Promise<LineageModel> {
  if (isNamedModelPath(ref)) return { ...(await resolveModel(ref.path)), id: ref.id };
  return resolveModel(ref);
}
