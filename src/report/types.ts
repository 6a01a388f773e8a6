/** What a lineage report shows; the HTML, Markdown and JSON renderings carry the same content. */
import type { TreeEdgeAccuracy } from '../lineage/tree/accuracy.js';
import type { FamilyTree, TruthEntry } from '../lineage/tree/types.js';

/** Per-layer origin probabilities (layer-level lineage). */
export interface LayerOrigin {
  layer: string;
  origins: { model: string; probability: number }[];
}

/** Children x candidates scores: values[i][j] = score of candidates[j] as the parent of children[i]. */
export interface ScoreGrid {
  children: string[];
  candidates: string[];
  values: (number | null)[][];
}

export interface ReportData {
  title: string;
  /** Scoring method, alpha and feature layer, when the scores came from a learning-free method. */
  method?: { name: string; alpha?: number; layer?: string };
  tree: FamilyTree;
  scores?: ScoreGrid;
  /** True parents (a zoo manifest), to mark them in the report. */
  truth?: TruthEntry[];
  accuracy?: TreeEdgeAccuracy;
  /** Absent or null: not computed. */
  layerOrigins?: LayerOrigin[] | null;
}

export type ReportFormat = 'html' | 'md' | 'json' | 'graphml';

export interface ChildRanking {
  child: string;
  /** Chosen parent in the tree, if any. */
  chosen: string | null;
  truth: string | null | undefined;
  candidates: { candidate: string; score: number }[];
}
