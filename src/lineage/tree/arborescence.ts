/**
 * Maximum-weight spanning arborescences (Chu-Liu/Edmonds, with cycle contraction) and the forest
 * variant used for family trees: a virtual super-root joined to every allowed node by an edge whose
 * weight is a root threshold, so a node becomes a root exactly when no incoming edge beats it
 * (in the globally best solution).
 */

export interface WeightedEdge {
  from: number;
  to: number;
  weight: number;
}

export interface Arborescence {
  /** parent[v] is v's parent node, or -1 for a root. */
  parent: number[];
  /** The chosen edge into each node (undefined for roots), as given in the input. */
  inEdge: (WeightedEdge | undefined)[];
  roots: number[];
  /** Sum of the chosen edges' weights (super-root edges not counted). */
  weight: number;
}

interface IndexedEdge {
  from: number;
  to: number;
  weight: number;
  id: number;
}

/**
 * The best arborescence rooted at `root` over nodes 0..n-1, as the ids of the chosen edges (one per
 * non-root node), or undefined when some node cannot be reached. Recursive contraction: pick every
 * node's best incoming edge; if they form a cycle, contract it into one node whose incoming edges
 * are re-weighted by what they would displace, solve the smaller problem, then expand.
 */
function solveRooted(n: number, root: number, edges: readonly IndexedEdge[]): number[] | undefined {
  const best: (IndexedEdge | undefined)[] = new Array(n).fill(undefined);
  for (const e of edges) {
    if (e.to === root || e.from === e.to) continue;
    const b = best[e.to];
    if (!b || e.weight > b.weight) best[e.to] = e;
  }
  for (let v = 0; v < n; v++) if (v !== root && !best[v]) return undefined;

  const cycle = findCycle(n, root, best);
  if (!cycle) return best.filter((e): e is IndexedEdge => e !== undefined).map((e) => e.id);

  const inCycle = new Uint8Array(n);
  for (const v of cycle) inCycle[v] = 1;
  // Nodes outside the cycle keep their relative order; the cycle becomes the last node.
  const newIndex = new Int32Array(n);
  let next = 0;
  for (let v = 0; v < n; v++) if (!inCycle[v]) newIndex[v] = next++;
  const merged = next;
  for (const v of cycle) newIndex[v] = merged;

  const contracted: IndexedEdge[] = [];
  const original: IndexedEdge[] = [];
  for (const e of edges) {
    const fromIn = inCycle[e.from] === 1;
    const toIn = inCycle[e.to] === 1;
    if (fromIn && toIn) continue;
    // Entering the cycle at v replaces v's cycle edge, so it is worth only the difference.
    const weight = toIn ? e.weight - (best[e.to] as IndexedEdge).weight : e.weight;
    contracted.push({ from: newIndex[e.from], to: newIndex[e.to], weight, id: original.length });
    original.push(e);
  }
  const inner = solveRooted(merged + 1, newIndex[root], contracted);
  if (!inner) return undefined;

  const chosen = inner.map((id) => original[id]);
  const entering = chosen.find((e) => inCycle[e.to] === 1) as IndexedEdge;
  const result = chosen.map((e) => e.id);
  for (const v of cycle) if (v !== entering.to) result.push((best[v] as IndexedEdge).id);
  return result;
}

/** A cycle among the chosen best edges (nodes in cycle order), if any. */
function findCycle(n: number, root: number, best: readonly (IndexedEdge | undefined)[]): number[] | undefined {
  const state = new Int32Array(n).fill(-1); // -1 unvisited; otherwise the walk that visited it
  for (let start = 0; start < n; start++) {
    if (state[start] !== -1) continue;
    let v = start;
    while (v !== root && state[v] === -1) {
      state[v] = start;
      v = (best[v] as IndexedEdge).from;
    }
    if (v !== root && state[v] === start) {
      const cycle = [v];
      for (let u = (best[v] as IndexedEdge).from; u !== v; u = (best[u] as IndexedEdge).from) cycle.push(u);
      return cycle;
    }
  }
  return undefined;
}

function checkEdges(n: number, edges: readonly WeightedEdge[]): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`node count must be a non-negative integer, got ${n}`);
  for (const e of edges) {
    if (!Number.isInteger(e.from) || !Number.isInteger(e.to) || e.from < 0 || e.to < 0 || e.from >= n || e.to >= n) {
      throw new RangeError(`edge ${e.from}->${e.to} names a node outside 0..${n - 1}`);
    }
    if (!Number.isFinite(e.weight)) throw new RangeError(`edge ${e.from}->${e.to} has a non-finite weight ${e.weight}`);
  }
}

function allowedRoots(n: number, roots: Iterable<number> | undefined): number[] {
  if (roots === undefined) return Array.from({ length: n }, (_, i) => i);
  const list = [...new Set(roots)];
  for (const r of list) if (!Number.isInteger(r) || r < 0 || r >= n) throw new RangeError(`root ${r} is outside 0..${n - 1}`);
  return list;
}

/**
 * Solves over the nodes plus a super-root (index n) joined to each allowed root by `rootWeight(v)`.
 */
function solveWithSuperRoot(n: number, edges: readonly WeightedEdge[], roots: readonly number[], rootWeight: (v: number) => number): Arborescence | undefined {
  const indexed: IndexedEdge[] = edges.map((e, id) => ({ from: e.from, to: e.to, weight: e.weight, id }));
  for (const r of roots) indexed.push({ from: n, to: r, weight: rootWeight(r), id: indexed.length });
  const chosen = solveRooted(n + 1, n, indexed);
  if (!chosen) return undefined;
  const parent = new Array<number>(n).fill(-1);
  const inEdge = new Array<WeightedEdge | undefined>(n).fill(undefined);
  let weight = 0;
  for (const id of chosen) {
    if (id >= edges.length) continue;
    const e = edges[id];
    parent[e.to] = e.from;
    inEdge[e.to] = e;
    weight += e.weight;
  }
  const rootList = parent.flatMap((p, v) => (p === -1 ? [v] : []));
  return { parent, inEdge, roots: rootList, weight };
}

/** A penalty larger than any difference between two arborescences' weights: forces one root. */
function rootPenalty(n: number, edges: readonly WeightedEdge[]): number {
  const maxIn = new Float64Array(n);
  for (const e of edges) maxIn[e.to] = Math.max(maxIn[e.to], Math.abs(e.weight));
  return 1 + 2 * maxIn.reduce((a, b) => a + b, 0);
}

export interface ArborescenceOptions {
  /** Nodes allowed to be the root; every node when absent. */
  roots?: Iterable<number>;
}

/**
 * The maximum-weight spanning arborescence (one root) of a directed graph on nodes 0..n-1.
 * The root is chosen among `roots` (all nodes by default) by joining a super-root to them with a
 * penalty edge that any second root would pay again. Throws when no spanning arborescence exists.
 */
export function chuLiuEdmonds(n: number, edges: readonly WeightedEdge[], options: ArborescenceOptions = {}): Arborescence {
  checkEdges(n, edges);
  if (n === 0) return { parent: [], inEdge: [], roots: [], weight: 0 };
  const roots = allowedRoots(n, options.roots);
  if (roots.length === 0) throw new RangeError('no node is allowed to be the root');
  const penalty = rootPenalty(n, edges);
  const result = solveWithSuperRoot(n, edges, roots, () => -penalty);
  if (!result || result.roots.length !== 1) throw new RangeError('the graph has no spanning arborescence from an allowed root');
  return result;
}

export interface ForestOptions extends ArborescenceOptions {
  /**
   * Weight of making a node a root: a number for every node, or one per node. Higher thresholds
   * give more roots.
   */
  rootWeight: number | ((node: number) => number);
}

/**
 * The maximum-weight spanning forest of arborescences: roots are nodes (among `roots`) whose
 * root weight beats what any incoming edge would contribute in the best overall solution.
 * Throws when some node can be reached neither from an allowed root nor by an edge.
 */
export function maxSpanningForest(n: number, edges: readonly WeightedEdge[], options: ForestOptions): Arborescence {
  checkEdges(n, edges);
  if (n === 0) return { parent: [], inEdge: [], roots: [], weight: 0 };
  const roots = allowedRoots(n, options.roots);
  const rw = options.rootWeight;
  const rootWeight = typeof rw === 'number' ? () => rw : rw;
  for (const r of roots) if (!Number.isFinite(rootWeight(r))) throw new RangeError(`root weight of node ${r} is not finite`);
  const result = solveWithSuperRoot(n, edges, roots, rootWeight);
  if (!result) throw new RangeError('some node has no incoming edge and is not allowed to be a root');
  return result;
}
