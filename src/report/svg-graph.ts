/** The family graph as inline SVG: one <g data-node-id> per model, one <g data-edge> per edge. */
import type { FamilyTree, TruthEntry } from '../lineage/tree/types.js';
import { esc, shortLabel } from './escape.js';
import { layoutForest } from './layout.js';

const NODE_W = 132;
const NODE_H = 34;
const GAP_X = 24;
const GAP_Y = 70;
const MARGIN = 20;

export function familyGraphSvg(tree: FamilyTree, truth?: readonly TruthEntry[]): string {
  const layout = layoutForest(tree);
  const pos = new Map(layout.nodes.map((n) => [n.id, { x: MARGIN + n.column * (NODE_W + GAP_X), y: MARGIN + n.row * (NODE_H + GAP_Y) }]));
  const width = MARGIN * 2 + layout.columns * (NODE_W + GAP_X) - GAP_X;
  const height = MARGIN * 2 + layout.rows * (NODE_H + GAP_Y) - GAP_Y;
  const trueParent = truth ? new Map(truth.map((t) => [t.id, t.parent])) : undefined;
  const files = new Map(tree.nodes.map((n) => [n.id, n.file]));
  const roots = new Set(tree.roots);
  const parentCount = new Map<string, number>();
  for (const e of tree.edges) parentCount.set(e.child, (parentCount.get(e.child) ?? 0) + 1);

  const edges = tree.edges
    .filter((e) => pos.has(e.parent) && pos.has(e.child))
    .map((e) => {
      const a = pos.get(e.parent)!;
      const b = pos.get(e.child)!;
      const x1 = a.x + NODE_W / 2;
      const y1 = a.y + NODE_H;
      const x2 = b.x + NODE_W / 2;
      const y2 = b.y - 4;
      const my = (y1 + y2) / 2;
      const verdict = trueParent === undefined ? '' : trueParent.get(e.child) === e.parent ? ' edge-true' : ' edge-false';
      const conf = Number.isFinite(e.confidence) ? e.confidence.toFixed(2) : '?';
      // The relation (finetune, lora, quantized, merge x coefficient, ...) says how the child was made; the number is the confidence.
      const how = e.relation ? `${e.relation}${e.coefficient !== undefined ? ` ×${e.coefficient.toFixed(2)}` : ''} ` : '';
      const relation = e.relation ? ` data-relation="${esc(e.relation)}"` : '';
      return (
        `<g class="edge${verdict}" data-edge="${esc(e.parent)} -> ${esc(e.child)}" data-confidence="${esc(conf)}"${relation}>` +
        `<title>${esc(e.parent)} → ${esc(e.child)}: ${esc(how)}score ${esc(e.score)}, confidence ${esc(conf)}</title>` +
        `<path d="M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}" stroke-width="${(1 + 2.5 * (Number.isFinite(e.confidence) ? e.confidence : 0)).toFixed(2)}" marker-end="url(#arrow)"/>` +
        `<text x="${((x1 + x2) / 2).toFixed(1)}" y="${(my + 4).toFixed(1)}" class="edge-label">${esc(how)}${esc(conf)}</text></g>`
      );
    })
    .join('\n');

  const nodes = layout.nodes
    .map((n) => {
      const p = pos.get(n.id)!;
      // A merge has several parents: one edge from each, drawn to the node placed under the first.
      const cls = roots.has(n.id) ? 'node root' : (parentCount.get(n.id) ?? 0) > 1 ? 'node merge' : 'node';
      return (
        `<g class="${cls}" data-node-id="${esc(n.id)}" data-depth="${n.depth}" transform="translate(${p.x},${p.y})">` +
        `<title>${esc(n.id)}${files.get(n.id) && files.get(n.id) !== n.id ? ` (${esc(files.get(n.id)!)})` : ''}${roots.has(n.id) ? ' — root' : ''}</title>` +
        `<rect width="${NODE_W}" height="${NODE_H}" rx="7"/>` +
        `<text x="${NODE_W / 2}" y="${NODE_H / 2 + 4}">${esc(shortLabel(n.id))}</text></g>`
      );
    })
    .join('\n');

  return (
    `<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="family graph">` +
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>\n` +
    `${edges}\n${nodes}</svg>`
  );
}
