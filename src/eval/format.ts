/** Renders a benchmark result as text or markdown tables (settings, cross-generation, alpha, timing). */
import { formatTable } from '../base/format.js';
import type { AccuracyCell, BenchResult } from './bench.js';

type Table = { headers: string[]; right: boolean[]; rows: string[][] };

function render(t: Table, markdown: boolean): string {
  if (!markdown)
    return formatTable(
      t.headers.map((header, i) => ({ header, align: t.right[i] ? 'right' : 'left' })),
      t.rows,
    );
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(t.headers), line(t.right.map((r) => (r ? '---:' : '---'))), ...t.rows.map(line)].join('\n');
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');

/** "93.3 [80.0, 100.0]" */
export function formatCell(c: AccuracyCell | undefined): string {
  if (!c || c.total === 0) return '-';
  return `${pct(c.accuracy)} [${pct(c.interval.low)}, ${pct(c.interval.high)}]`;
}

export function generationLabel(g: number): string {
  return `G${g + 1}`;
}

export function benchTables(result: BenchResult, markdown = false): string {
  const methods = result.options.methods;
  const heading = (s: string) => (markdown ? `### ${s}` : s);
  const out: string[] = [];
  out.push(
    heading(`Parent detection, top-1 % [bootstrap 95% interval] over children; candidates: every model of the parent's generation (zoo ${result.zoo.name})`),
  );
  out.push(
    render(
      {
        headers: ['setting', 'children', ...methods],
        right: [false, true, ...methods.map(() => true)],
        rows: result.settings.map((s) => [s.setting, String(s.children), ...methods.map((m) => formatCell(s.methods.find((c) => c.method === m)))]),
      },
      markdown,
    ),
  );
  if (result.crossGeneration.some((c) => c.children - c.candidates > 1)) {
    out.push('', heading("Cross-generation: candidates from generation i, children from generation j; truth = the child's ancestor at i"));
    out.push(
      render(
        {
          headers: ['candidates -> children', ...methods],
          right: [false, ...methods.map(() => true)],
          rows: result.crossGeneration.map((c) => [
            `${generationLabel(c.candidates)} -> ${generationLabel(c.children)}`,
            ...methods.map((m) => formatCell(c.methods.find((x) => x.method === m))),
          ]),
        },
        markdown,
      ),
    );
  }
  if (result.alpha.mode === 'auto') {
    const a = result.alpha;
    out.push('', heading(`Alpha chosen on ${a.validation.length} validation children (reported rows use the ${a.test.length} test children)`));
    out.push(
      render(
        {
          headers: ['method', 'alpha', 'validation top-1 %', ...a.grid.map((g) => `@${g}`)],
          right: [false, true, true, ...a.grid.map(() => true)],
          rows: a.choices.map((c) => [c.method, String(c.alpha), pct(c.validationAccuracy), ...c.grid.map((g) => pct(g.accuracy))]),
        },
        markdown,
      ),
    );
  } else {
    out.push('', `alpha = ${result.alpha.value} for taylor/linearized methods`);
  }
  out.push('', heading('Time per (candidate, child) pair'));
  out.push(
    render(
      {
        headers: ['stage', 'methods', 'pairs', 'seconds', 'ms / pair'],
        right: [false, true, true, true, true],
        rows: result.timing.map((t) => [t.stage, String(t.methods.length), String(t.pairs), t.seconds.toFixed(1), (1000 * t.secondsPerPair).toFixed(1)]),
      },
      markdown,
    ),
  );
  if (result.tree) {
    const t = result.tree;
    out.push('', heading(`Family tree of the whole zoo (lineage tree, method ${t.method})`));
    out.push(
      render(
        {
          headers: ['edges right with direction', 'placement', 'reversed', 'true roots found', 'roots in the tree', 'seconds'],
          right: [true, true, true, true, true, true],
          rows: [
            [
              `${t.correct}/${t.total} (${pct(t.total ? t.correct / t.total : Number.NaN)}%)`,
              `${pct(t.placement)}%`,
              String(t.reversed),
              `${t.rootsCorrect}/${t.rootsTotal}`,
              String(t.rootsFound),
              t.seconds.toFixed(1),
            ],
          ],
        },
        markdown,
      ),
    );
  }
  for (const n of result.notes) out.push('', `note: ${n}`);
  return `${out.join('\n')}\n`;
}
