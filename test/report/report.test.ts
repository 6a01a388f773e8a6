import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layoutForest, renderReport, reportFormatOf, writeReport, childRankings } from '../../src/report/index.js';
import { sampleReport } from './sample-report.js';

describe('layoutForest', () => {
  it('puts roots on top, leaves in depth-first columns and parents over their children', () => {
    const layout = layoutForest(sampleReport(false).tree);
    const at = Object.fromEntries(layout.nodes.map((n) => [n.id, [n.column, n.row]]));
    // leaves a1, b1, other-child take columns 0, 1, 2; a and b sit over them; root between a and b
    expect(at).toEqual({ root: [0.5, 0], a: [0, 1], b: [1, 1], a1: [0, 2], b1: [1, 2], other: [2, 0], 'other-child': [2, 1] });
    expect(layout.columns).toBe(3);
    expect(layout.rows).toBe(3);
  });

  it('still places every node of a malformed tree (cycle, unknown ids)', () => {
    const layout = layoutForest({
      nodes: ['x', 'y'].map((id) => ({ id, file: id })),
      edges: [
        { parent: 'x', child: 'y', score: 0, confidence: 1 },
        { parent: 'y', child: 'x', score: 0, confidence: 1 },
        { parent: 'ghost', child: 'x', score: 0, confidence: 1 },
      ],
      roots: [],
    });
    expect(layout.nodes.map((n) => n.id)).toEqual(['x', 'y']);
  });
});

describe('renderReport', () => {
  it('html: self-contained, escaped, one element per node and edge', () => {
    const html = renderReport(sampleReport(true), 'html');
    expect(html.match(/data-node-id=/g)).toHaveLength(7);
    expect(html.match(/data-edge=/g)).toHaveLength(5);
    expect(html).toContain('<title>Sample &lt;family&gt; report</title>');
    expect(html).not.toContain('<family>');
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:|\/\/)/);
    expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/);
    expect(html).toContain('data-layer="fc1"');
    expect(renderReport(sampleReport(false), 'html')).toContain('>not computed</p>');
  });

  it('escapes hostile model names', () => {
    const data = sampleReport(false);
    data.tree.nodes[0] = { id: '"><script>alert(1)</script>', file: 'x' };
    data.tree.roots = ['"><script>alert(1)</script>'];
    const html = renderReport(data, 'html');
    expect(html).not.toContain('<script>alert');
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it('markdown: tree, edges, heatmap table, rankings and origins', () => {
    const md = renderReport(sampleReport(true), 'md');
    expect(md).toContain('# Sample <family> report');
    expect(md).toContain('- root (root)\n  - a (confidence 0.60)\n    - a1 (confidence 0.74)');
    expect(md).toContain('| root | a |  | -0.01000 | 0.600 | root |');
    expect(md).toContain('| fc1 | a 70.0%, b 20.0%, root 10.0% |');
    expect(md).toContain('| edges right (placement and direction) | 4 / 5 |');
    expect(md).toContain('### a1\n\nParent in tree: a; true parent: a.');
    expect(renderReport(sampleReport(false), 'md')).toContain('## Per-layer origins\n\nNot computed.');
  });

  it('json: the data plus rankings, null for not computed and non-finite numbers', () => {
    const data = sampleReport(false);
    data.tree.edges[0].score = Number.NaN;
    const doc = JSON.parse(renderReport(data, 'json')) as {
      layerOrigins: null;
      rankings: { child: string; candidates: { candidate: string }[] }[];
      tree: { edges: { score: number | null }[] };
    };
    expect(doc.layerOrigins).toBeNull();
    expect(doc.tree.edges[0].score).toBeNull();
    // a (row 1) scores -0.01 * (1 + |1 - j|) - 0.001: root and b tie at -0.021, then a1 at -0.031
    const a = doc.rankings.find((r) => r.child === 'a')!.candidates.map((c) => c.candidate);
    expect(a.slice(0, 2).sort()).toEqual(['b', 'root']);
    expect(a[2]).toBe('a1');
  });

  it('rankings sort descending and mark chosen and true parents', () => {
    const r = childRankings(sampleReport(false)).find((x) => x.child === 'b1')!;
    expect(r.chosen).toBe('b');
    expect(r.truth).toBe('a');
    expect(r.candidates.map((c) => c.score)).toEqual([...r.candidates.map((c) => c.score)].sort((a, b) => b - a));
  });
});

describe('writeReport', () => {
  it('picks the format from the extension and leaves no temp files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineage-report-write-'));
    expect(await writeReport(join(dir, 'r.md'), sampleReport(false))).toBe('md');
    expect(await writeReport(join(dir, 'r.HTML'), sampleReport(false))).toBe('html');
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toMatch(/^# Sample/);
    await expect(writeReport(join(dir, 'r.txt'), sampleReport(false))).rejects.toThrow(/r\.txt: cannot tell the report format/);
    expect(readdirSync(dir).sort()).toEqual(['r.HTML', 'r.md']);
    expect(reportFormatOf('x.json')).toBe('json');
    rmSync(dir, { recursive: true, force: true });
  });
});
