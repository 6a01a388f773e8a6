/**
 * The family graph as GraphML (http://graphml.graphdrawing.org/), for Gephi, yEd, Cytoscape and
 * NetworkX: one node per model (id, file, root), one directed edge per parent link with its score,
 * confidence, relation, merge coefficient and p-value. Keys are declared with their types, as
 * GraphML readers need; attributes a link does not have are left out.
 */
import type { ReportData } from './types.js';
import { esc } from './escape.js';

interface Key {
  id: string;
  for: 'node' | 'edge';
  name: string;
  type: 'string' | 'double' | 'boolean';
}

const KEYS: readonly Key[] = [
  { id: 'file', for: 'node', name: 'file', type: 'string' },
  { id: 'root', for: 'node', name: 'root', type: 'boolean' },
  { id: 'truth', for: 'node', name: 'true_parent', type: 'string' },
  { id: 'score', for: 'edge', name: 'score', type: 'double' },
  { id: 'confidence', for: 'edge', name: 'confidence', type: 'double' },
  { id: 'relation', for: 'edge', name: 'relation', type: 'string' },
  { id: 'coefficient', for: 'edge', name: 'coefficient', type: 'double' },
  { id: 'p_value', for: 'edge', name: 'p_value', type: 'double' },
  { id: 'branch_position', for: 'edge', name: 'branch_position', type: 'double' },
  { id: 'parent_may_be_missing', for: 'edge', name: 'parent_may_be_missing', type: 'boolean' },
];

function data(key: string, value: string | number | boolean | null | undefined): string {
  if (value === undefined || value === null || (typeof value === 'number' && !Number.isFinite(value))) return '';
  return `<data key="${key}">${esc(String(value))}</data>`;
}

export function renderGraphml(report: ReportData): string {
  const roots = new Set(report.tree.roots);
  const truth = report.truth ? new Map(report.truth.map((t) => [t.id, t.parent])) : undefined;
  const keys = KEYS.map((k) => `  <key id="${k.id}" for="${k.for}" attr.name="${k.name}" attr.type="${k.type}"/>`);
  const nodes = report.tree.nodes.map(
    (n) => `    <node id="${esc(n.id)}">${data('file', n.file)}${data('root', roots.has(n.id))}${truth ? data('truth', truth.get(n.id) ?? 'none') : ''}</node>`,
  );
  const edges = report.tree.edges.map(
    (e, i) =>
      `    <edge id="e${i}" source="${esc(e.parent)}" target="${esc(e.child)}">` +
      `${data('score', e.score)}${data('confidence', e.confidence)}${data('relation', e.relation)}${data('coefficient', e.coefficient)}${data('p_value', e.p_value)}` +
      `${data('branch_position', e.branch_position)}${data('parent_may_be_missing', e.parent_may_be_missing)}</edge>`,
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">',
    ...keys,
    `  <graph id="${esc(report.title)}" edgedefault="directed">`,
    ...nodes,
    ...edges,
    '  </graph>',
    '</graphml>',
    '',
  ].join('\n');
}
