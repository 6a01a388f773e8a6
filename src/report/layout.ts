/**
 * Layered layout of a family forest: roots on top, each generation one row below its parent;
 * leaves take consecutive columns in depth-first order and a parent sits centred over its
 * children, so tree edges never cross.
 */
import type { FamilyTree } from '../lineage/tree/types.js';

export interface PlacedNode {
  id: string;
  depth: number;
  /** Column (may be fractional for parents) and row. */
  column: number;
  row: number;
}

export interface TreeLayout {
  nodes: PlacedNode[];
  columns: number;
  rows: number;
}

export function layoutForest(tree: FamilyTree): TreeLayout {
  const ids = tree.nodes.map((n) => n.id);
  const known = new Set(ids);
  const children = new Map<string, string[]>(ids.map((id) => [id, []]));
  const hasParent = new Set<string>();
  for (const e of tree.edges) {
    if (!known.has(e.parent) || !known.has(e.child) || hasParent.has(e.child)) continue;
    children.get(e.parent)!.push(e.child);
    hasParent.add(e.child);
  }
  // Declared roots first, then any node nobody claims (keeps a malformed tree drawable).
  const roots = [...tree.roots.filter((r) => known.has(r) && !hasParent.has(r)), ...ids.filter((id) => !hasParent.has(id) && !tree.roots.includes(id))];
  const placed = new Map<string, PlacedNode>();
  let nextColumn = 0;
  const visit = (id: string, depth: number): number => {
    const kids = (children.get(id) ?? []).filter((k) => !placed.has(k));
    const node: PlacedNode = { id, depth, column: 0, row: depth };
    placed.set(id, node);
    if (kids.length === 0) {
      node.column = nextColumn++;
    } else {
      const columns = kids.map((k) => visit(k, depth + 1));
      node.column = (columns[0] + columns[columns.length - 1]) / 2;
    }
    return node.column;
  };
  for (const r of roots) if (!placed.has(r)) visit(r, 0);
  // A cycle in a malformed input leaves nodes unplaced: put them on their own.
  for (const id of ids) if (!placed.has(id)) visit(id, 0);
  const nodes = ids.map((id) => placed.get(id)!);
  return { nodes, columns: Math.max(1, nextColumn), rows: 1 + nodes.reduce((top, n) => Math.max(top, n.row), 0) };
}
