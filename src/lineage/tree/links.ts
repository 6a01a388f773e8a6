/**
 * Families of models: the minimum spanning tree of a symmetric distance matrix, cut at a distance
 * (single linkage: two models are in one family when a chain of short links joins them).
 */

export interface Link {
  a: number;
  b: number;
  distance: number;
}

/** Kruskal over the finite entries of a symmetric n x n distance matrix (a forest when disconnected). */
export function minimumSpanningLinks(n: number, distance: Float64Array): Link[] {
  const candidates: Link[] = [];
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const d = distance[a * n + b];
      if (Number.isFinite(d)) candidates.push({ a, b, distance: d });
    }
  }
  candidates.sort((x, y) => x.distance - y.distance || x.a - y.a || x.b - y.b);
  const uf = new UnionFind(n);
  return candidates.filter((l) => uf.union(l.a, l.b));
}

/** Family label per node: components of the links shorter than `maxDistance`. */
export function families(n: number, links: readonly Link[], maxDistance: number): Int32Array {
  const uf = new UnionFind(n);
  for (const l of links) if (l.distance < maxDistance) uf.union(l.a, l.b);
  const out = new Int32Array(n);
  for (let v = 0; v < n; v++) out[v] = uf.find(v);
  return out;
}

class UnionFind {
  private readonly up: Int32Array;
  constructor(n: number) {
    this.up = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(v: number): number {
    let r = v;
    while (this.up[r] !== r) r = this.up[r];
    while (this.up[v] !== r) {
      const next = this.up[v];
      this.up[v] = r;
      v = next;
    }
    return r;
  }
  /** Joins the sets of a and b; false when they were already one. */
  union(a: number, b: number): boolean {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return false;
    this.up[Math.max(ra, rb)] = Math.min(ra, rb);
    return true;
  }
}
