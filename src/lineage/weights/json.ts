/** The JSON form of a comparison (`lineage compare --json`): snake_case keys, versioned. */
import type { ModelComparison } from './types.js';

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
  tensors: { a_name: string; b_name: string; rel_l2: number | null; cos: number | null }[];
  distance: number | null;
  seconds: number;
}

export function comparisonJson(c: ModelComparison): ComparisonJson {
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
    tensors: c.tensors.map((t) => ({ a_name: t.aName, b_name: t.bName, rel_l2: t.relL2, cos: t.cos })),
    distance: c.distance,
    seconds: c.seconds,
  };
}
