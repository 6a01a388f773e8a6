/**
 * Score heatmap: rows = children, columns = candidate parents. Colours are normalised per row
 * (best candidate brightest) because only the order inside a row decides a parent; the raw score
 * is in each cell's title and data-score.
 */
import type { FamilyTree } from '../lineage/tree/types.js';
import { sequentialColor } from './colors.js';
import { esc, shortLabel } from './escape.js';
import { formatScore } from './rankings.js';
import type { ScoreGrid } from './types.js';

export function heatmapSvg(grid: ScoreGrid, tree: FamilyTree): string {
  const cell = Math.max(6, Math.min(30, Math.floor(720 / Math.max(1, grid.candidates.length))));
  const showLabels = cell >= 12;
  const left = showLabels ? 150 : 10;
  const top = showLabels ? 110 : 10;
  const width = left + cell * grid.candidates.length + (showLabels ? 90 : 10);
  const height = top + cell * grid.children.length + 10;
  const chosen = new Set(tree.edges.map((e) => `${e.parent}\u0000${e.child}`));
  const parts: string[] = [];
  grid.children.forEach((child, i) => {
    const row = grid.values[i] ?? [];
    const finite = row.filter((v): v is number => v !== null && Number.isFinite(v));
    const lo = finite.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
    const hi = finite.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
    grid.candidates.forEach((candidate, j) => {
      const v = row[j];
      const x = left + j * cell;
      const y = top + i * cell;
      const has = v !== null && v !== undefined && Number.isFinite(v);
      const t = has ? (hi > lo ? (v - lo) / (hi - lo) : 1) : 0;
      const fill = has ? sequentialColor(t) : '#e5e5e5';
      const mark = chosen.has(`${candidate}\u0000${child}`) ? ' chosen' : '';
      parts.push(
        `<rect class="cell${mark}" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" data-child="${esc(child)}" data-candidate="${esc(candidate)}" data-score="${has ? esc(v) : ''}">` +
          `<title>child ${esc(child)} ← candidate ${esc(candidate)}: ${has ? esc(formatScore(v)) : 'not scored'}</title></rect>`,
      );
    });
    if (showLabels)
      parts.push(`<text class="row-label" x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(shortLabel(child, 16))}</text>`);
  });
  if (showLabels) {
    grid.candidates.forEach((candidate, j) => {
      const x = left + j * cell + cell / 2 + 4;
      parts.push(`<text class="col-label" transform="translate(${x},${top - 6}) rotate(-60)">${esc(shortLabel(candidate, 16))}</text>`);
    });
    parts.push(`<text class="axis-label" x="${left - 6}" y="${top - 8}" text-anchor="end">child ↓  candidate →</text>`);
  }
  return `<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="score heatmap">${parts.join('')}</svg>`;
}

/** A horizontal legend bar for the heatmap's per-row scale. */
export function heatmapLegendSvg(): string {
  const stops = Array.from({ length: 11 }, (_, i) => `<stop offset="${i * 10}%" stop-color="${sequentialColor(i / 10)}"/>`).join('');
  return (
    `<svg class="legend" xmlns="http://www.w3.org/2000/svg" width="260" height="34" viewBox="0 0 260 34"><defs><linearGradient id="seq">${stops}</linearGradient></defs>` +
    `<rect x="0" y="0" width="260" height="12" fill="url(#seq)"/><text x="0" y="28">row's worst</text><text x="260" y="28" text-anchor="end">row's best</text></svg>`
  );
}
