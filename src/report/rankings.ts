import type { ChildRanking, ReportData } from './types.js';

/** Each child's candidates by descending score (unscored pairs left out). */
export function childRankings(data: ReportData): ChildRanking[] {
  if (!data.scores) return [];
  const chosen = new Map(data.tree.edges.map((e) => [e.child, e.parent]));
  const truth = data.truth ? new Map(data.truth.map((t) => [t.id, t.parent])) : undefined;
  const { children, candidates, values } = data.scores;
  return children.map((child, i) => ({
    child,
    chosen: chosen.get(child) ?? null,
    truth: truth ? (truth.get(child) ?? null) : undefined,
    candidates: candidates
      .map((candidate, j) => ({ candidate, score: values[i][j] }))
      .filter((c): c is { candidate: string; score: number } => c.score !== null && Number.isFinite(c.score))
      .sort((a, b) => b.score - a.score),
  }));
}

export function formatScore(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toPrecision(4);
}
