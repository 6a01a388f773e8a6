/** What `detect` reports: per method, per child, the candidates ranked by score (higher = more likely parent). */

/** A tensor left out of one child-candidate comparison (a head whose shape changed, say). */
export interface ExcludedTensorEntry {
  candidate_tensor: string;
  child_tensor: string;
  reason: string;
}

export interface CandidateScore {
  parent: string;
  score: number;
  /** Weight methods: tensors of the pair left out of the score, when any (new heads, changed shapes). */
  excluded_tensors?: ExcludedTensorEntry[];
  /** p-value of "trained independently" (independence/unit-test.ts); null when no matrix could be tested. */
  p_value?: number | null;
}

export interface ChildResult {
  child: string;
  parent: string | null;
  scores: CandidateScore[];
  incompatible: { parent: string; reason: string }[];
  /** Weights scored after aligning the child's hidden units (auto, when nothing was related as stored). */
  aligned?: boolean;
  /** `auto` only: the evidence that decided (auto.ts). */
  evidence?: 'weights' | 'features' | 'combined';
}

export interface MethodResult {
  method: string;
  alpha: number;
  layer: string;
  children: ChildResult[];
}

/** NaN scores rank last. */
function rankValue(score: number): number {
  return Number.isNaN(score) ? Number.NEGATIVE_INFINITY : score;
}

/** The child's candidates best first; its parent is the best one with a finite score. */
export function rankCandidates(child: string, scores: readonly CandidateScore[], incompatible: ChildResult['incompatible']): ChildResult {
  const ranked = [...scores].sort((a, b) => rankValue(b.score) - rankValue(a.score));
  const parent = ranked.length > 0 && Number.isFinite(ranked[0].score) ? ranked[0].parent : null;
  return { child, parent, scores: ranked, incompatible };
}
