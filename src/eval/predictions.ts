/**
 * The benchmark's predictions, keyed by candidate generation, child and method at alpha: the
 * learning-free methods' results (scoreMatrix names its extra alphas `<method>@<alpha>`) and the
 * detector's, in one table the accuracy rows and child records read.
 */
import type { MethodResult } from '../lineage/learning-free.js';
import { usesAlpha } from '../lineage/methods.js';

/** A method's predictions at one step; `alpha` only for the methods that take one (taylor, linearized). */
export interface MethodAtAlpha {
  method: string;
  alpha?: number;
}

/** Best candidate per (candidate generation, child, method at alpha); null when no candidate was compatible. */
export class Predictions {
  private readonly byGeneration = new Map<number, Map<string, Map<string, Map<number | undefined, string | null>>>>();

  /** `names`: the methods run, so that scoreMatrix's extra results `<method>@<alpha>` are told from their method. */
  record(from: number, results: readonly MethodResult[], names: readonly string[]): void {
    for (const r of results) {
      const { method, alpha } = methodAtAlpha(r, names);
      for (const c of r.children) {
        const perMethod = getOrAdd(
          getOrAdd(this.byGeneration, from, () => new Map()),
          c.child,
          () => new Map(),
        );
        getOrAdd(perMethod, method, () => new Map()).set(alpha, c.parent);
      }
    }
  }

  get(from: number, child: string, at: MethodAtAlpha): string | null | undefined {
    return this.byGeneration.get(from)?.get(child)?.get(at.method)?.get(at.alpha);
  }
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  const found = map.get(key);
  if (found !== undefined) return found;
  const made = make();
  map.set(key, made);
  return made;
}

function methodAtAlpha(r: MethodResult, names: readonly string[]): MethodAtAlpha {
  const method = names.find((name) => r.method === name || r.method === `${name}@${r.alpha}`);
  if (method === undefined) throw new Error(`a result of method ${r.method}, which was not asked for`);
  return usesAlpha(method) ? { method, alpha: r.alpha } : { method };
}
