/** The JSON form of a comparison (`lineage compare --json`): snake_case keys, versioned. */
import type { ModelComparison } from './types.js';

/** How b was derived from a, when the caller decided it (relations/relation.ts). */
export interface RelationJson {
  relation: string;
  reason: string;
  rank?: number;
  target_modules?: string[];
  zero_share?: number;
  /** Effective rank of the delta, per tensor pair where it was computed. */
  ranks?: { a_name: string; b_name: string; rank: number | null }[];
}

export interface ComparisonJson {
  version: 1;
  a: string;
  b: string;
  matched_tensors: number;
  matched_parameters: number;
  total_parameters: { a: number; b: number };
  low_coverage: boolean;
  unmatched: { name: string; side: 'a' | 'b' }[];
  excluded: { a_name: string | null; b_name: string | null; reason: string }[];
  tensors: { a_name: string; b_name: string; rel_l2: number | null; cos: number | null; rank?: number | null }[];
  distance: number | null;
  relation?: string;
  relation_reason?: string;
  rank?: number;
  target_modules?: string[];
  zero_share?: number;
  /** p-value of "trained independently" (independence/unit-test.ts), when the caller computed it; null when untestable. */
  p_value?: number | null;
  seconds: number;
}

export function comparisonJson(c: ModelComparison, relation?: RelationJson, pValue?: number | null): ComparisonJson {
  const rankOf = new Map((relation?.ranks ?? []).map((r) => [`${r.a_name}\n${r.b_name}`, r.rank]));
  const rankOfTensor = (a: string, b: string) => {
    const key = `${a}\n${b}`;
    return rankOf.has(key) ? { rank: rankOf.get(key) ?? null } : {};
  };
  return {
    version: 1,
    a: c.a,
    b: c.b,
    matched_tensors: c.matchedTensors,
    matched_parameters: c.matchedParameters,
    total_parameters: { a: c.totalParameters.a, b: c.totalParameters.b },
    low_coverage: c.lowCoverage,
    unmatched: c.unmatched.map((u) => ({ name: u.name, side: u.side })),
    excluded: c.excluded.map((e) => ({ a_name: e.aName, b_name: e.bName, reason: e.reason })),
    tensors: c.tensors.map((t) => ({ a_name: t.aName, b_name: t.bName, rel_l2: t.relL2, cos: t.cos, ...rankOfTensor(t.aName, t.bName) })),
    distance: c.distance,
    ...(relation
      ? {
          relation: relation.relation,
          relation_reason: relation.reason,
          ...(relation.rank !== undefined ? { rank: relation.rank } : {}),
          ...(relation.target_modules ? { target_modules: relation.target_modules } : {}),
          ...(relation.zero_share !== undefined ? { zero_share: relation.zero_share } : {}),
        }
      : {}),
    ...(pValue !== undefined ? { p_value: pValue } : {}),
    seconds: c.seconds,
  };
}
