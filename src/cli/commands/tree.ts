import type { Command } from 'commander';
import type { SourceRef } from '../../lineage/source-ref.js';
import { usesAlpha } from '../../lineage/methods.js';
import { recoverTree } from '../../lineage/tree/recover.js';
import { treeEdgeAccuracy, type TreeEdgeAccuracy } from '../../lineage/tree/accuracy.js';
import type { TreeRecovery } from '../../lineage/tree/build.js';
import type { TruthEntry } from '../../lineage/tree/types.js';
import { reportFormatOf, reportFromTree, writeReport } from '../../report/index.js';
import { UsageError } from '../errors.js';
import { printJson, warnExcluded } from '../output.js';
import { defaultProbe, readZooManifest } from '../../zoo/manifest.js';
import { addIndependenceOptions, type IndependenceCliOptions, independenceFrom } from './independence-options.js';
import { addTreeOptions, pairProgress, treeOptionsFrom, type TreeCliOptions } from './tree-options.js';

interface TreeCommandOptions extends TreeCliOptions {
  zoo?: string;
  out?: string;
}

function treeText(tree: TreeRecovery): string {
  const children = new Map<string, TreeRecovery['edges']>();
  for (const e of tree.edges) children.set(e.parent, [...(children.get(e.parent) ?? []), e]);
  const lines: string[] = [];
  const walk = (id: string, prefix: string, label: string): void => {
    lines.push(`${prefix}${id}${label}`);
    for (const e of children.get(id) ?? [])
      walk(
        e.child,
        `${prefix}  `,
        `  (${e.relation ? `${e.relation}${e.coefficient !== undefined ? ` x ${e.coefficient.toFixed(3)}` : ''}, ` : ''}score ${e.score.toPrecision(5)}, confidence ${e.confidence.toFixed(2)}${e.parent_may_be_missing ? ', parent may be missing: looks like a sibling' : ''})`,
      );
  };
  for (const r of tree.roots) walk(r, '', '  [root]');
  return lines.join('\n');
}

function accuracyText(a: TreeEdgeAccuracy): string {
  const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
  return `edge accuracy vs manifest: ${a.correct}/${a.total} (${pct(a.accuracy)}) right parent and direction; ${a.reversed} reversed; placement ${pct(a.undirectedAccuracy)}; roots ${a.rootsCorrect}/${a.rootsTotal}`;
}

export function registerTree(program: Command): void {
  const command = program
    .command('tree')
    .description('recover the family tree (who was fine-tuned from whom) of a set of models')
    .argument('[models...]', 'model files (or use --zoo)')
    .option('--zoo <dir>', 'a zoo folder: models, true parents and probes from DIR/manifest.json; prints edge accuracy')
    .option('--out <file>', 'write a report: .html (self-contained page), .md, .json, or .graphml (the graph, for Gephi and other graph tools)');
  addIndependenceOptions(addTreeOptions(command)).action(async (files: string[], options: TreeCommandOptions & IndependenceCliOptions) => {
    if (options.zoo && files.length > 0) throw new UsageError('give model files or --zoo, not both');
    if (!options.zoo && files.length === 0) throw new UsageError('give model files or --zoo DIR');
    if (options.out && !reportFormatOf(options.out)) throw new UsageError(`--out ${options.out}: use a .html, .md, .json or .graphml file name`);
    let refs: SourceRef[] = files;
    let truth: TruthEntry[] | undefined;
    let zooProbe: string | undefined;
    if (options.zoo) {
      const zoo = await readZooManifest(options.zoo);
      refs = zoo.models.map(({ entry, path }) => ({ id: entry.id, path }));
      truth = zoo.models.map(({ entry }) => ({ id: entry.id, parent: entry.parent }));
      zooProbe = defaultProbe(zoo);
    } else if (new Set(files).size !== files.length) {
      throw new UsageError('a model file is listed twice');
    }
    const treeOptions = await treeOptionsFrom(options, zooProbe);
    const progress = pairProgress(options.progress);
    const tree = await recoverTree(refs, { ...treeOptions, independence: independenceFrom(options), onProgress: progress.onProgress });
    progress.stop();
    warnExcluded(tree.excluded);
    const accuracy = truth ? treeEdgeAccuracy(tree, truth) : undefined;
    if (options.out) {
      await writeReport(options.out, reportFromTree(tree, { title: options.zoo ? `Family tree of zoo ${options.zoo}` : 'Model family tree', truth, accuracy }));
    }
    if (options.json) {
      printJson({
        method: tree.method,
        nodes: tree.nodes,
        edges: tree.edges,
        roots: tree.roots,
        incompatible: tree.incompatible,
        excluded: tree.excluded,
        // With --zoo: the tree against the manifest's parents (treeEdgeAccuracy's fields).
        ...(accuracy ? { accuracy } : {}),
      });
      if (accuracy) process.stderr.write(`${accuracyText(accuracy)}\n`);
    } else {
      const m = tree.method;
      const lines = [`method ${m}${usesAlpha(m) ? ` (alpha ${tree.alpha})` : ''}; ${tree.nodes.length} models, ${tree.roots.length} root(s)`, treeText(tree)];
      for (const inc of tree.incompatible) lines.push(`incompatible: ${inc.a} / ${inc.b}: ${inc.reason}`);
      for (const e of tree.excluded) lines.push(`left out: ${e.model}: ${e.reason}`);
      if (accuracy) lines.push(accuracyText(accuracy));
      if (options.out) lines.push(`report written to ${options.out}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  });
}
