/** Lineage reports: render the same content as HTML, Markdown, JSON or GraphML (the graph only), and write them atomically. */
import { extname } from 'node:path';
import { writeFileAtomic } from '../base/fsutil.js';
import { usesAlpha } from '../lineage/methods.js';
import type { TreeRecovery } from '../lineage/tree/build.js';
import type { TreeEdgeAccuracy } from '../lineage/tree/accuracy.js';
import type { TruthEntry } from '../lineage/tree/types.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderGraphml } from './graphml.js';
import type { LayerOrigin, ReportData, ReportFormat } from './types.js';

export type { ChildRanking, LayerOrigin, ReportData, ReportFormat, ScoreGrid } from './types.js';
export { layoutForest, type PlacedNode, type TreeLayout } from './layout.js';
export { childRankings } from './rankings.js';

export function renderReport(data: ReportData, format: ReportFormat): string {
  switch (format) {
    case 'html':
      return renderHtml(data);
    case 'md':
      return renderMarkdown(data);
    case 'json':
      return renderJson(data);
    case 'graphml':
      return renderGraphml(data);
  }
}

/** The format a file name asks for (.html/.htm, .md/.markdown, .json, .graphml), or undefined. */
export function reportFormatOf(path: string): ReportFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.html' || ext === '.htm') return 'html';
  if (ext === '.md' || ext === '.markdown') return 'md';
  if (ext === '.json') return 'json';
  if (ext === '.graphml') return 'graphml';
  return undefined;
}

/** Writes the report (temp file + rename: never half-written); the format follows the extension unless given. */
export async function writeReport(path: string, data: ReportData, format?: ReportFormat): Promise<ReportFormat> {
  const chosen = format ?? reportFormatOf(path);
  if (!chosen) throw new RangeError(`${path}: cannot tell the report format from the extension (use .html, .md, .json or .graphml)`);
  await writeFileAtomic(path, renderReport(data, chosen));
  return chosen;
}

export interface TreeReportExtras {
  title?: string;
  truth?: TruthEntry[];
  accuracy?: TreeEdgeAccuracy;
  layerOrigins?: LayerOrigin[] | null;
}

/** Report data for a recovered tree: graph, full score matrix (children x candidates), rankings. */
export function reportFromTree(tree: TreeRecovery, extras: TreeReportExtras = {}): ReportData {
  const ids = tree.nodes.map((n) => n.id);
  return {
    title: extras.title ?? 'Model family tree',
    method: {
      name: tree.method,
      ...(usesAlpha(tree.method) ? { alpha: tree.alpha } : {}),
      ...(tree.method.startsWith('weights') ? {} : { layer: tree.layer }),
    },
    tree: { nodes: tree.nodes, edges: tree.edges, roots: tree.roots },
    scores: { children: ids, candidates: ids, values: tree.scores },
    ...(extras.truth ? { truth: extras.truth } : {}),
    ...(extras.accuracy ? { accuracy: extras.accuracy } : {}),
    layerOrigins: extras.layerOrigins ?? null,
  };
}
