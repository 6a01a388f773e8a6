/**
 * `tree --out family.graphml`: the GraphML is read back by an independent parser (Python's
 * xml.etree, in the standard library of the python3 every supported machine has), as graph tools
 * would read it: declared keys, directed edges, each edge's attributes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineage } from '../cli/run-cli.js';

const LM = join(import.meta.dirname, '..', '..', 'fixtures', 'lm');
const REL = join(import.meta.dirname, '..', '..', 'fixtures', 'relations');

const READ = `
import json, sys, xml.etree.ElementTree as ET
ns = {'g': 'http://graphml.graphdrawing.org/xmlns'}
root = ET.parse(sys.argv[1]).getroot()
keys = {k.get('id'): (k.get('attr.name'), k.get('attr.type')) for k in root.findall('g:key', ns)}
graph = root.find('g:graph', ns)
def attrs(el):
    return {keys[d.get('key')][0]: d.text for d in el.findall('g:data', ns)}
print(json.dumps({
  'directed': graph.get('edgedefault'),
  'nodes': {n.get('id'): attrs(n) for n in graph.findall('g:node', ns)},
  'edges': [dict(source=e.get('source'), target=e.get('target'), **attrs(e)) for e in graph.findall('g:edge', ns)],
}))
`;

describe('tree --out .graphml', () => {
  it('writes a directed GraphML graph with relation, coefficient and p-value on edges', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'graphml-')), 'family.graphml');
    const models = [join(LM, 'llama-p1'), join(LM, 'llama-c1'), join(LM, 'llama-c3'), join(REL, 'merge-avg'), join(LM, 'llama-p1.q8_0.gguf')];
    const r = await lineage('tree', ...models, '--out', out, '--json');
    expect(r.code).toBe(0);
    const tree = JSON.parse(r.stdout) as { edges: { parent: string; child: string; relation: string; coefficient?: number }[]; roots: string[] };
    const read = JSON.parse(execFileSync('python3', ['-c', READ, out], { encoding: 'utf8' })) as {
      directed: string;
      nodes: Record<string, { file: string; root: string }>;
      edges: { source: string; target: string; relation: string; coefficient?: string; p_value?: string; score: string }[];
    };
    expect(read.directed).toBe('directed');
    expect(Object.keys(read.nodes).sort()).toEqual([...models].sort());
    expect(
      Object.entries(read.nodes)
        .filter(([, n]) => n.root === 'true')
        .map(([id]) => id),
    ).toEqual(tree.roots);
    expect(read.edges.map((e) => `${e.source} -> ${e.target} ${e.relation}`).sort()).toEqual(
      tree.edges.map((e) => `${e.parent} -> ${e.child} ${e.relation}`).sort(),
    );
    const merges = read.edges.filter((e) => e.relation === 'merge');
    expect(merges.map((e) => Number(e.coefficient)).sort()).toEqual(
      tree.edges
        .filter((e) => e.relation === 'merge')
        .map((e) => e.coefficient)
        .sort(),
    );
    for (const e of read.edges) expect(Number(e.p_value)).toBeGreaterThan(0);
  }, 60_000);
});
