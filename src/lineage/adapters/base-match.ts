/**
 * Whether a model could be the base of a LoRA adapter, from headers alone: every module the adapter
 * changes must be a tensor of the base, of the shape its factors imply. A module is found by its
 * exact name, or through the canonical (llama.cpp) key of weights/naming.ts when the base names its
 * tensors another way (a GGUF conversion, a checkpoint saved without the task model's prefix).
 */
import type { ModelSource, SourceTensor } from '../../source/types.js';
import { detectFamily, type NamingFamily, toCanonical } from '../weights/naming.js';
import type { LoraTarget } from './targets.js';

export interface AdapterMatch {
  /** The caller's name for the candidate base. */
  candidate: string;
  /** Targets whose module the base has, of the shape the adapter's factors imply. */
  matched: number;
  total: number;
  /** False when some module the base has by name has another shape. */
  shapesAgree: boolean;
  /** Why targets did not match: the first few, then how many more. */
  mismatches: string[];
}

/** How a base tensor was found for a module: by its name, or by its canonical key under another naming. */
export interface ResolvedModule {
  tensor: SourceTensor;
  /** The base names the module the adapter's way, or in the same naming family: its weights are stored the same way. */
  sameNaming: boolean;
}

/** Finds the base tensor of each module of an adapter. */
export class BaseResolver {
  private readonly byName: Map<string, SourceTensor>;
  private readonly byKey = new Map<string, SourceTensor>();
  private readonly baseFamily: NamingFamily | undefined;
  private readonly moduleFamily: NamingFamily | undefined;

  constructor(base: ModelSource, targets: readonly LoraTarget[]) {
    this.byName = new Map(base.tensors.map((t) => [t.name, t]));
    this.baseFamily = detectFamily(
      base.tensors.map((t) => t.name),
      base.format,
    );
    this.moduleFamily = detectFamily(targets.map((t) => t.module));
    if (this.baseFamily === undefined) return;
    for (const t of base.tensors) {
      const key = toCanonical(t.name, this.baseFamily);
      if (key !== undefined && !this.byKey.has(key)) this.byKey.set(key, t);
    }
  }

  resolve(module: string): ResolvedModule | undefined {
    const named = this.byName.get(module);
    if (named !== undefined) return { tensor: named, sameNaming: true };
    if (this.moduleFamily === undefined) return undefined;
    const key = toCanonical(module, this.moduleFamily);
    const tensor = key === undefined ? undefined : this.byKey.get(key);
    return tensor === undefined ? undefined : { tensor, sameNaming: this.baseFamily === this.moduleFamily };
  }
}

/** The shape the base tensor of `target` has when stored the adapter's way: [out, in], or [in, out] for fan_in_fan_out. */
export function expectedShape(target: LoraTarget, adapter: ModelSource): [number, number] {
  const inputs = adapter.tensors.find((t) => t.name === target.a)?.shape[1] ?? Number.NaN;
  const outputs = adapter.tensors.find((t) => t.name === target.b)?.shape[0] ?? Number.NaN;
  return target.fanInFanOut ? [inputs, outputs] : [outputs, inputs];
}

function sameShape(shape: readonly number[], expected: readonly number[]): boolean {
  return shape.length === expected.length && shape.every((d, i) => d === expected[i]);
}

const SHOWN_MISMATCHES = 10;

/**
 * How well `base` (called `id`) fits the adapter, reading headers only. A base in another naming
 * (GGUF) may store a weight transposed (GPT-2's Conv1D), so there either orientation is accepted.
 */
export function matchAdapterToBase(adapter: ModelSource, targets: readonly LoraTarget[], base: ModelSource, id: string): AdapterMatch {
  const resolver = new BaseResolver(base, targets);
  const problems: string[] = [];
  let matched = 0;
  let shapesAgree = true;
  for (const target of targets) {
    const found = resolver.resolve(target.module);
    if (found === undefined) {
      problems.push(`${target.module}: not in ${id}`);
      continue;
    }
    const expected = expectedShape(target, adapter);
    const shape = found.tensor.shape;
    if (sameShape(shape, expected) || (!found.sameNaming && sameShape(shape, [expected[1], expected[0]]))) {
      matched++;
      continue;
    }
    shapesAgree = false;
    problems.push(`${target.module}: ${found.tensor.name} in ${id} is [${shape.join(', ')}], the adapter needs [${expected.join(', ')}]`);
  }
  const mismatches = problems.slice(0, SHOWN_MISMATCHES);
  if (problems.length > SHOWN_MISMATCHES) mismatches.push(`... and ${problems.length - SHOWN_MISMATCHES} more`);
  return { candidate: id, matched, total: targets.length, shapesAgree, mismatches };
}

/** The candidates that fit every target of the adapter, in the order given. */
export function agreeingBases(matches: readonly AdapterMatch[]): AdapterMatch[] {
  return matches.filter((m) => m.total > 0 && m.matched === m.total && m.shapesAgree);
}
