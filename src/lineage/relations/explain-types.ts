/** What `lineage explain` reports (JSON keys snake_case). */
import type { Relation } from './relation.js';

export interface ExplainedCandidate {
  candidate: string;
  /** ||child - candidate|| / ||candidate|| over matched tensors (as `compare`). */
  distance: number | null;
  relation: Exclude<Relation, 'merge'>;
  reason: string;
  /** p-value of "trained independently" (independence/unit-test.ts); null when no matrix could be tested. */
  p_value?: number | null;
  rank?: number;
  target_modules?: string[];
  zero_share?: number;
}

export interface ExplainedParent {
  parent: string;
  relation: Relation;
  coefficient: number;
  p_value?: number | null;
  rank?: number;
  target_modules?: string[];
}

export interface MergeSummary {
  /** linear: a weighted sum explained up to rounding; sparse: a sparsified sum over a base (TIES, DARE), coefficients approximate. */
  kind?: 'linear' | 'sparse';
  /** sparse: the base, and the share of weights the child keeps exactly equal to it. */
  base?: string;
  unchanged_share?: number;
  /** Least-squares coefficients over the related candidates, in candidate order. */
  coefficients: { candidate: string; coefficient: number }[];
  /** ||child - sum c_k candidate_k|| / ||child||, with each block's own coefficients (`blocks`). */
  residual: number;
  /** The best single candidate's residual, for comparison. */
  single_residual: number;
  /** Blocks whose own coefficients differ from the global ones by more than the minimum merge coefficient. */
  blocks: { block: string; coefficients: { candidate: string; coefficient: number }[] }[];
}

export interface Explanation {
  child: string;
  parents: ExplainedParent[];
  candidates: ExplainedCandidate[];
  /** Present when a merge was tested (two or more related candidates). */
  merge?: MergeSummary;
}
