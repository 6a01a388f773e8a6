/** Per-layer origin chart: one stacked bar per layer, one segment per origin model. */
import { categoricalColor } from './colors.js';
import { esc, shortLabel } from './escape.js';
import type { LayerOrigin } from './types.js';

const BAR_W = 420;
const ROW_H = 22;

export function originsSvg(layers: readonly LayerOrigin[]): string {
  const models = [...new Set(layers.flatMap((l) => l.origins.map((o) => o.model)))];
  const color = new Map(models.map((m, i) => [m, categoricalColor(i)]));
  const left = 150;
  const legendTop = layers.length * ROW_H + 16;
  const height = legendTop + Math.ceil(models.length / 3) * 18 + 8;
  const width = left + BAR_W + 20;
  const parts: string[] = [];
  layers.forEach((l, i) => {
    const y = i * ROW_H + 4;
    parts.push(
      `<g data-layer="${esc(l.layer)}"><text class="row-label" x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(shortLabel(l.layer, 22))}</text>`,
    );
    const total = l.origins.reduce((s, o) => s + (Number.isFinite(o.probability) && o.probability > 0 ? o.probability : 0), 0);
    let x = left;
    for (const o of l.origins) {
      const p = Number.isFinite(o.probability) && o.probability > 0 ? o.probability : 0;
      const w = total > 0 ? (BAR_W * p) / Math.max(1, total) : 0;
      parts.push(
        `<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${ROW_H - 6}" fill="${color.get(o.model)}" data-origin="${esc(o.model)}" data-probability="${esc(p)}">` +
          `<title>${esc(l.layer)}: ${esc(o.model)} ${(100 * p).toFixed(1)}%</title></rect>`,
      );
      x += w;
    }
    parts.push('</g>');
  });
  models.forEach((m, i) => {
    const x = left + (i % 3) * 150 - 140;
    const y = legendTop + Math.floor(i / 3) * 18;
    parts.push(
      `<rect x="${x + 140}" y="${y}" width="12" height="12" fill="${color.get(m)}"/><text x="${x + 156}" y="${y + 10}">${esc(shortLabel(m, 20))}</text>`,
    );
  });
  return `<svg class="origins" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="per-layer origins">${parts.join('')}</svg>`;
}
