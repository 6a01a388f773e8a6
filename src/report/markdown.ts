/** The Markdown twin of the HTML report: the same sections as tables and an indented tree. */
import { childRankings, formatScore } from './rankings.js';
import type { ReportData } from './types.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

function treeLines(data: ReportData): string[] {
  const children = new Map<string, string[]>();
  const conf = new Map<string, number>();
  for (const e of data.tree.edges) {
    children.set(e.parent, [...(children.get(e.parent) ?? []), e.child]);
    conf.set(e.child, e.confidence);
  }
  const lines: string[] = [];
  const seen = new Set<string>();
  const walk = (id: string, depth: number): void => {
    if (seen.has(id)) return;
    seen.add(id);
    const c = conf.get(id);
    lines.push(`${'  '.repeat(depth)}- ${id}${c !== undefined ? ` (confidence ${c.toFixed(2)})` : ' (root)'}`);
    for (const k of children.get(id) ?? []) walk(k, depth + 1);
  };
  for (const r of data.tree.roots) walk(r, 0);
  for (const n of data.tree.nodes) walk(n.id, 0);
  return lines;
}

export function renderMarkdown(data: ReportData): string {
  const out: string[] = [`# ${data.title}`, ''];
  const m = data.method;
  if (m) out.push(`Method ${m.name}${m.alpha !== undefined ? `, alpha ${m.alpha}` : ''}${m.layer ? `, layer ${m.layer}` : ''}.`, '');
  out.push(`${data.tree.nodes.length} models, ${data.tree.edges.length} edges, roots: ${data.tree.roots.join(', ') || 'none'}.`, '');

  out.push('## Family graph', '', ...treeLines(data), '');
  const truth = data.truth ? new Map(data.truth.map((t) => [t.id, t.parent])) : undefined;
  out.push(
    table(
      ['parent', 'child', 'relation', 'score', 'confidence', ...(truth ? ['true parent'] : [])],
      data.tree.edges.map((e) => [
        e.parent,
        e.child,
        `${e.relation ?? ''}${e.coefficient !== undefined ? ` x ${e.coefficient.toFixed(3)}` : ''}`,
        formatScore(e.score),
        e.confidence.toFixed(3),
        ...(truth ? [truth.get(e.child) ?? 'none'] : []),
      ]),
    ),
    '',
  );

  if (data.accuracy) {
    const a = data.accuracy;
    out.push('## Accuracy against the truth', '');
    out.push(
      table(
        ['measure', 'value'],
        [
          ['edges right (placement and direction)', `${a.correct} / ${a.total}`],
          ['edges placed right, direction flipped', String(a.reversed)],
          ['placement regardless of direction', Number.isFinite(a.undirectedAccuracy) ? `${(100 * a.undirectedAccuracy).toFixed(1)}%` : '—'],
          ['roots recovered', `${a.rootsCorrect} / ${a.rootsTotal}`],
        ],
      ),
      '',
    );
  }

  out.push('## Score heatmap', '');
  if (data.scores) {
    out.push('Rows: children; columns: candidate parents.', '');
    out.push(
      table(
        ['child \\ candidate', ...data.scores.candidates],
        data.scores.children.map((c, i) => [c, ...data.scores!.values[i].map(formatScore)]),
      ),
      '',
    );
  } else {
    out.push('No scores.', '');
  }

  out.push('## Candidate rankings', '');
  const rankings = childRankings(data);
  if (rankings.length === 0) out.push('No scores.', '');
  for (const r of rankings) {
    out.push(`### ${r.child}`, '', `Parent in tree: ${r.chosen ?? 'none (root)'}${r.truth !== undefined ? `; true parent: ${r.truth ?? 'none'}` : ''}.`, '');
    out.push(
      table(
        ['rank', 'candidate', 'score'],
        r.candidates.map((c, i) => [String(i + 1), c.candidate === r.chosen ? `**${c.candidate}**` : c.candidate, formatScore(c.score)]),
      ),
      '',
    );
  }

  out.push('## Per-layer origins', '');
  if (data.layerOrigins && data.layerOrigins.length > 0) {
    out.push(
      table(
        ['layer', 'origins (probability)'],
        data.layerOrigins.map((l) => [
          l.layer,
          [...l.origins]
            .sort((a, b) => b.probability - a.probability)
            .map((o) => `${o.model} ${(100 * o.probability).toFixed(1)}%`)
            .join(', '),
        ]),
      ),
      '',
    );
  } else {
    out.push('Not computed.', '');
  }
  return out.join('\n');
}
