/**
 * The HTML report: one self-contained file (inline CSS, inline SVG, a few lines of inline JS; no
 * network, no external fonts or scripts), readable offline and safe to mail around.
 */
import { esc, shortLabel } from './escape.js';
import { childRankings, formatScore } from './rankings.js';
import { familyGraphSvg } from './svg-graph.js';
import { heatmapLegendSvg, heatmapSvg } from './svg-heatmap.js';
import { originsSvg } from './svg-origins.js';
import type { ReportData } from './types.js';

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #1d1d1f; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; margin: 0 0 8px; } .scroll { overflow-x: auto; }
svg text { font: 12px system-ui, sans-serif; fill: #1d1d1f; }
.graph .node rect { fill: #eef4fb; stroke: #0072b2; stroke-width: 1.5; } .graph .node.root rect { fill: #0072b2; }
.graph .node.root text { fill: #fff; font-weight: 600; } .graph .node text { text-anchor: middle; }
.graph .edge path { fill: none; stroke: #666; } .graph .edge.edge-false path { stroke: #d55e00; stroke-dasharray: 5 3; }
.graph .edge-label { text-anchor: middle; font-size: 11px; paint-order: stroke; stroke: #fff; stroke-width: 3px; fill: #333; }
.graph .arrowhead { fill: #666; } .graph .node:hover rect { stroke-width: 3; }
.heatmap .cell.chosen { stroke: #d55e00; stroke-width: 2; } .heatmap .cell:hover { stroke: #000; stroke-width: 2; }
.heatmap .col-label, .heatmap .row-label { font-size: 11px; } .legend text { font-size: 11px; }
#readout { min-height: 1.4em; font-family: ui-monospace, monospace; color: #333; }
table { border-collapse: collapse; margin: 6px 0 14px; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } tr.chosen td { background: #fff3e0; font-weight: 600; }
.truth { color: #009e73; font-weight: 600; } .none { color: #777; font-style: italic; }
details { margin: 4px 0; } summary { cursor: pointer; }
`;

// Shows the hovered heatmap cell's raw value (titles do the same, but only after a delay).
const SCRIPT = `
(function () {
  var out = document.getElementById('readout');
  var map = document.querySelector('svg.heatmap');
  if (!out || !map) return;
  map.addEventListener('mouseover', function (ev) {
    var t = ev.target;
    if (!t || !t.getAttribute || !t.hasAttribute('data-child')) return;
    var s = t.getAttribute('data-score');
    out.textContent = 'child ' + t.getAttribute('data-child') + ' \\u2190 ' + t.getAttribute('data-candidate') + ': ' + (s ? String(Number(Number(s).toPrecision(6))) : 'not scored');
  });
})();
`;

function accuracySection(data: ReportData): string {
  const a = data.accuracy;
  if (!a) return '';
  const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '—');
  return (
    `<h2>Accuracy against the truth</h2><table data-section="accuracy"><tr><th>edges right (placement and direction)</th><td class="num">${a.correct} / ${a.total} (${pct(a.accuracy)})</td></tr>` +
    `<tr><th>edges placed right, direction flipped</th><td class="num">${a.reversed}</td></tr>` +
    `<tr><th>placement regardless of direction</th><td class="num">${pct(a.undirectedAccuracy)}</td></tr>` +
    `<tr><th>roots recovered</th><td class="num">${a.rootsCorrect} / ${a.rootsTotal}</td></tr></table>`
  );
}

function rankingSection(data: ReportData): string {
  const rankings = childRankings(data);
  if (rankings.length === 0) return '<h2>Candidate rankings</h2><p class="none">no scores</p>';
  const blocks = rankings.map((r) => {
    const rows = r.candidates
      .map((c, i) => {
        const isChosen = c.candidate === r.chosen;
        const isTrue = r.truth !== undefined && c.candidate === r.truth;
        return `<tr${isChosen ? ' class="chosen"' : ''}><td class="num">${i + 1}</td><td title="${esc(c.candidate)}">${esc(shortLabel(c.candidate, 40))}${isTrue ? ' <span class="truth">(true parent)</span>' : ''}</td><td class="num">${esc(formatScore(c.score))}</td></tr>`;
      })
      .join('');
    const head = `${esc(r.child)} — parent in tree: ${r.chosen ? esc(r.chosen) : 'none (root)'}${r.truth !== undefined ? `, true parent: ${r.truth ? esc(r.truth) : 'none'}` : ''}`;
    return `<details data-ranking="${esc(r.child)}"><summary>${head}</summary><table><tr><th>rank</th><th>candidate</th><th>score</th></tr>${rows || '<tr><td colspan="3" class="none">no compatible candidate</td></tr>'}</table></details>`;
  });
  return `<h2>Candidate rankings</h2><p class="meta">Per child, candidates by score (highlighted: the parent chosen in the tree).</p>${blocks.join('\n')}`;
}

export function renderHtml(data: ReportData): string {
  const m = data.method;
  const meta = m ? `method ${esc(m.name)}${m.alpha !== undefined ? `, alpha ${esc(m.alpha)}` : ''}${m.layer ? `, layer ${esc(m.layer)}` : ''} · ` : '';
  const counts = `${data.tree.nodes.length} models, ${data.tree.edges.length} edges, ${data.tree.roots.length} root${data.tree.roots.length === 1 ? '' : 's'}`;
  const heat = data.scores
    ? `<p class="meta">Rows: children; columns: candidate parents. Colour per row; outlined: the parent chosen in the tree.</p>${heatmapLegendSvg()}<div id="readout" aria-live="polite"></div><div class="scroll">${heatmapSvg(data.scores, data.tree)}</div>`
    : '<p class="none">no scores</p>';
  const origins =
    data.layerOrigins && data.layerOrigins.length > 0
      ? `<div class="scroll">${originsSvg(data.layerOrigins)}</div>`
      : '<p class="none" data-section="origins-missing">not computed</p>';
  const truthNote = data.truth ? ' Dashed orange edges disagree with the truth.' : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(data.title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(data.title)}</h1>
<p class="meta">${meta}${esc(counts)}</p>
<h2>Family graph</h2>
<p class="meta">Roots on top, one generation per row; edge labels are confidences.${truthNote}</p>
<div class="scroll">${familyGraphSvg(data.tree, data.truth)}</div>
${accuracySection(data)}
<h2>Score heatmap</h2>
${heat}
${rankingSection(data)}
<h2>Per-layer origins</h2>
${origins}
<script>${SCRIPT}</script>
</body></html>
`;
}
