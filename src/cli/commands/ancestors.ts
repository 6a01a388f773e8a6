import type { Command } from 'commander';
import { rankAncestors, type AncestorRanking } from '../../lineage/tree/ancestors.js';
import { UsageError } from '../errors.js';
import { formatTable, printJson, warnExcluded } from '../output.js';
import { addTreeOptions, pairProgress, treeOptionsFrom, type TreeCliOptions } from './tree-options.js';

interface AncestorsCommandOptions extends TreeCliOptions {
  candidates: string[];
}

function printHuman(r: AncestorRanking): void {
  const table = formatTable(
    [
      { header: 'candidate' },
      { header: 'relation' },
      { header: 'generations', align: 'right' },
      { header: 'same family' },
      { header: 'score', align: 'right' },
    ],
    r.candidates.map((c) => [
      c.id,
      c.relation,
      c.generations === null ? '-' : String(c.generations),
      c.sameFamily ? 'yes' : 'no',
      Number.isFinite(c.score) ? c.score.toPrecision(6) : '-',
    ]),
  );
  const left = r.excluded.map((e) => `left out: ${e.model}: ${e.reason}\n`).join('');
  process.stdout.write(`child ${r.child}\n${table}\n${left}`);
}

export function registerAncestors(program: Command): void {
  const command = program
    .command('ancestors')
    .description("classify candidates as the child's parent, grandparent, further ancestor or unrelated (cross-generational lineage)")
    .argument('<child>', 'child model file')
    .requiredOption('--candidates <files...>', 'candidate ancestor models');
  addTreeOptions(command).action(async (child: string, options: AncestorsCommandOptions) => {
    const all = [child, ...options.candidates];
    if (new Set(all).size !== all.length) throw new UsageError('a model file is listed twice (the child must not be among the candidates)');
    const treeOptions = await treeOptionsFrom(options);
    const progress = pairProgress(options.progress);
    const ranking = await rankAncestors(child, options.candidates, { ...treeOptions, onProgress: progress.onProgress });
    progress.stop();
    warnExcluded(ranking.excluded);
    if (options.json) {
      printJson({
        child: ranking.child,
        candidates: ranking.candidates.map((c) => ({ ...c, score: Number.isFinite(c.score) ? c.score : null })),
        excluded: ranking.excluded,
      });
    } else {
      printHuman(ranking);
    }
  });
}
