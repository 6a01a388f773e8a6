/**
 * Linear assignment for more units than an exact O(n^3) solve allows (a 1.3B Llama has 5632 MLP
 * units per layer). Rounds of:
 *   1. candidates: each remaining unit of a keeps the `candidates` remaining units of b nearest by
 *      the cosine of seeded 64-dimensional sketches (sketch.ts): n^2 * 64 multiply-adds instead of
 *      n^2 * length;
 *   2. exact rescoring of those candidates by the full inner product (n * candidates * length);
 *   3. units that are each other's best (by the exact score) among the candidate edges are matched.
 * When at most `exactLimit` units remain, the rest is solved exactly (hungarian.ts) on exact
 * scores if that is cheap, otherwise on sketched inner products with the exact candidate scores
 * put in. Rounds that match under 1% of what remains stop the loop; then the candidate edges are
 * taken greedily, best first, and what still remains is solved in chunks of `exactLimit`.
 */
import { maxAssignment } from './hungarian.js';
import { EXACT_WORK_LIMIT, denseScores, rowDot } from './scores.js';
import { normalisedRows, sketchRows, sketchSpec } from './sketch.js';

export interface ApproximateOptions {
  seed?: number;
  /** Sketch dimensions (default 64). */
  dim?: number;
  /** Candidates kept per unit (default 8). */
  candidates?: number;
  /** Units left at most for an exact finish (default 1024). */
  exactLimit?: number;
}

interface Problem {
  fa: Float32Array;
  fb: Float32Array;
  length: number;
  dim: number;
  /** Raw sketches (inner products) and normalised ones (cosines). */
  sa: Float32Array;
  sb: Float32Array;
  ca: Float32Array;
  cb: Float32Array;
  perm: Int32Array;
  taken: Uint8Array;
}

/** Candidate edges of one round: for row r of `rows`, columns cols[r * k + t] with exact scores exact[r * k + t]. */
interface Edges {
  rows: Int32Array;
  k: number;
  cols: Int32Array;
  exact: Float64Array;
}

export function approximateAssignment(fa: Float32Array, fb: Float32Array, n: number, length: number, options: ApproximateOptions = {}): Int32Array {
  const dim = options.dim ?? 64;
  const exactLimit = options.exactLimit ?? 1024;
  const spec = sketchSpec(length, dim, options.seed ?? 0x5eed);
  const sa = sketchRows(fa, n, spec);
  const sb = sketchRows(fb, n, spec);
  const p: Problem = {
    fa,
    fb,
    length,
    dim,
    sa,
    sb,
    ca: normalisedRows(sa, n, dim),
    cb: normalisedRows(sb, n, dim),
    perm: new Int32Array(n).fill(-1),
    taken: new Uint8Array(n),
  };
  let rows = Int32Array.from({ length: n }, (_, i) => i);
  let cols = rows.slice();
  let edges: Edges | undefined;
  while (rows.length > exactLimit) {
    edges = candidateEdges(p, rows, cols, Math.min(options.candidates ?? 8, cols.length));
    const matched = matchMutualBest(p, edges);
    rows = rows.filter((i) => p.perm[i] < 0);
    cols = cols.filter((j) => p.taken[j] === 0);
    if (matched < Math.max(1, 0.01 * (rows.length + matched))) break;
  }
  if (rows.length > exactLimit && edges !== undefined) {
    takeGreedily(p, edges);
    rows = rows.filter((i) => p.perm[i] < 0);
    cols = cols.filter((j) => p.taken[j] === 0);
  }
  for (let start = 0; start < rows.length; start += exactLimit) {
    finishExactly(p, rows.subarray(start, start + exactLimit), cols.subarray(start, start + exactLimit), edges);
  }
  return p.perm;
}

/** Each row's `k` best columns by sketch cosine, rescored exactly. */
function candidateEdges(p: Problem, rows: Int32Array, cols: Int32Array, k: number): Edges {
  const { dim } = p;
  const ca = gatherRows(p.ca, rows, dim);
  const cb = gatherRows(p.cb, cols, dim);
  const out = new Int32Array(rows.length * k);
  const exact = new Float64Array(rows.length * k);
  const sims = new Float64Array(ROW_BLOCK * cols.length);
  const top = new Int32Array(k);
  for (let r0 = 0; r0 < rows.length; r0 += ROW_BLOCK) {
    const count = Math.min(ROW_BLOCK, rows.length - r0);
    blockCosines(ca, r0, count, cb, cols.length, dim, sims);
    for (let x = 0; x < count; x++) {
      const r = r0 + x;
      topColumns(sims.subarray(x * cols.length, (x + 1) * cols.length), top);
      for (let t = 0; t < k; t++) {
        const j = cols[top[t]];
        out[r * k + t] = j;
        exact[r * k + t] = rowDot(p.fa, rows[r], p.fb, j, p.length);
      }
    }
  }
  return { rows, k, cols: out, exact };
}

/** Rows of a sketched together: each of b's sketches is loaded once per block. */
const ROW_BLOCK = 4;

/** sims[x * m + c] = ca row (r0 + x) . cb row c, for `count` <= ROW_BLOCK rows. */
function blockCosines(ca: Float32Array, r0: number, count: number, cb: Float32Array, m: number, dim: number, sims: Float64Array): void {
  if (count < ROW_BLOCK) {
    for (let x = 0; x < count; x++) for (let c = 0; c < m; c++) sims[x * m + c] = rowDot(ca, r0 + x, cb, c, dim);
    return;
  }
  const o0 = r0 * dim;
  const o1 = o0 + dim;
  const o2 = o1 + dim;
  const o3 = o2 + dim;
  for (let c = 0; c < m; c++) {
    const ob = c * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let t = 0; t < dim; t++) {
      const y = cb[ob + t];
      s0 += ca[o0 + t] * y;
      s1 += ca[o1 + t] * y;
      s2 += ca[o2 + t] * y;
      s3 += ca[o3 + t] * y;
    }
    sims[c] = s0;
    sims[m + c] = s1;
    sims[2 * m + c] = s2;
    sims[3 * m + c] = s3;
  }
}

/** Indices of the top.length largest values, best first. */
function topColumns(values: Float64Array, top: Int32Array): void {
  const k = top.length;
  const best = new Float64Array(k).fill(Number.NEGATIVE_INFINITY);
  top.fill(0);
  for (let c = 0; c < values.length; c++) {
    const s = values[c];
    if (!(s > best[k - 1])) continue;
    let t = k - 1;
    for (; t > 0 && best[t - 1] < s; t--) {
      best[t] = best[t - 1];
      top[t] = top[t - 1];
    }
    best[t] = s;
    top[t] = c;
  }
}

function gatherRows(s: Float32Array, rows: Int32Array, dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let r = 0; r < rows.length; r++) out.set(s.subarray(rows[r] * dim, (rows[r] + 1) * dim), r * dim);
  return out;
}

/** Matches the candidate edges that are the best edge of both their row and their column; returns how many. */
function matchMutualBest(p: Problem, e: Edges): number {
  const n = p.perm.length;
  const colScore = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  const colRow = new Int32Array(n).fill(-1);
  const rowBest = new Int32Array(e.rows.length).fill(-1);
  for (let r = 0; r < e.rows.length; r++) {
    let best = Number.NEGATIVE_INFINITY;
    for (let t = 0; t < e.k; t++) {
      const j = e.cols[r * e.k + t];
      const s = e.exact[r * e.k + t];
      if (s > best) {
        best = s;
        rowBest[r] = j;
      }
      if (s > colScore[j]) {
        colScore[j] = s;
        colRow[j] = e.rows[r];
      }
    }
  }
  let matched = 0;
  for (let r = 0; r < e.rows.length; r++) {
    const j = rowBest[r];
    if (j < 0 || colRow[j] !== e.rows[r]) continue;
    p.perm[e.rows[r]] = j;
    p.taken[j] = 1;
    matched++;
  }
  return matched;
}

/** Candidate edges best first, each taken when both its ends are free. */
function takeGreedily(p: Problem, e: Edges): void {
  const order = Int32Array.from({ length: e.cols.length }, (_, q) => q).sort((x, y) => e.exact[y] - e.exact[x]);
  for (const q of order) {
    const i = e.rows[Math.floor(q / e.k)];
    const j = e.cols[q];
    if (p.perm[i] >= 0 || p.taken[j] === 1 || !Number.isFinite(e.exact[q])) continue;
    p.perm[i] = j;
    p.taken[j] = 1;
  }
}

/** Exact assignment of `rows` to `cols` (as many), on exact scores when affordable, else on sketched ones. */
function finishExactly(p: Problem, rows: Int32Array, cols: Int32Array, edges: Edges | undefined): void {
  const r = rows.length;
  if (r === 0) return;
  let score: Float64Array;
  if (r * r * p.length <= EXACT_WORK_LIMIT) {
    score = denseScores(gatherRows(p.fa, rows, p.length), gatherRows(p.fb, cols, p.length), r, p.length);
  } else {
    score = denseScores(gatherRows(p.sa, rows, p.dim), gatherRows(p.sb, cols, p.dim), r, p.dim);
    if (edges !== undefined) putExactScores(score, rows, cols, edges);
  }
  const local = maxAssignment(score, r);
  for (let x = 0; x < r; x++) {
    p.perm[rows[x]] = cols[local[x]];
    p.taken[cols[local[x]]] = 1;
  }
}

function putExactScores(score: Float64Array, rows: Int32Array, cols: Int32Array, e: Edges): void {
  const r = rows.length;
  const rowAt = new Map<number, number>();
  const colAt = new Map<number, number>();
  rows.forEach((i, x) => rowAt.set(i, x));
  cols.forEach((j, y) => colAt.set(j, y));
  for (let q = 0; q < e.cols.length; q++) {
    const x = rowAt.get(e.rows[Math.floor(q / e.k)]);
    const y = colAt.get(e.cols[q]);
    if (x !== undefined && y !== undefined) score[x * r + y] = e.exact[q];
  }
}
