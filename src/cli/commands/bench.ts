/** `lineage bench --zoo DIR`: the paper's accuracy tables for a built zoo, printed and written as JSON. */
import type { Command } from 'commander';
import { writeFileAtomic } from '../../base/fsutil.js';
import { alphaOption, keywordOr, nonNegativeInt, positiveInt } from '../options.js';
import { BN_STATS_HELP, bnStatsFlag } from './bn-stats-option.js';
import { type BnStats, DEFAULT_ALPHA, DEFAULT_BN_STATS } from '../../lineage/learning-free.js';
import { benchmarkZoo } from '../../eval/bench.js';
import { benchTables } from '../../eval/format.js';

interface BenchCliOptions {
  zoo: string;
  methods: string;
  detector?: string;
  alpha: number | 'auto';
  seed: number;
  resamples: number;
  out?: string;
  markdown?: boolean;
  bnStats: BnStats;
  /** false with --no-tree. */
  tree: boolean;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'benchmark parent detection on a built zoo: top-1 accuracy per setting and method with bootstrap intervals, the cross-generation matrix, time per pair, and the family tree of the whole zoo (edges right with direction, placement, roots)',
    )
    .requiredOption('--zoo <dir>', 'zoo folder (with manifest.json)')
    .option(
      '--methods <list>',
      "comma list of methods (auto: weight evidence, feature evidence breaking ties; or <mode>-<metric>, weights-l2, weights-cos, weights-rel), or 'all' (auto, then every method)",
      'all',
    )
    .option('--detector <file>', 'learned detector (.safetensors) to add as a method')
    .option(
      '--alpha <value>',
      "tangent step for taylor/linearized methods, > 0 (a warning above 1), or 'auto' (chosen on validation children, reported on test children)",
      keywordOr(['auto'], alphaOption()),
      DEFAULT_ALPHA,
    )
    .option('--seed <n>', 'seed of the bootstrap and of the validation split (a non-negative integer)', nonNegativeInt('--seed'), 0)
    .option('--resamples <n>', 'bootstrap resamples (a positive integer)', positiveInt('--resamples'), 1000)
    .option('--out <results.json>', 'write the full result as JSON')
    .option('--markdown', 'print markdown tables')
    .option('--bn-stats <whose>', BN_STATS_HELP, bnStatsFlag, DEFAULT_BN_STATS)
    .option('--no-tree', 'skip the family tree of the whole zoo (lineage tree with its default method)')
    .action(async (options: BenchCliOptions) => {
      const result = await benchmarkZoo(options.zoo, {
        methods: options.methods,
        detector: options.detector,
        alpha: options.alpha,
        seed: options.seed,
        resamples: options.resamples,
        bnStats: options.bnStats,
        tree: options.tree,
        onProgress: (p) => process.stderr.write(`bench: ${p.done}/${p.total} ${p.step}\n`),
      });
      if (options.out) await writeFileAtomic(options.out, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(benchTables(result, Boolean(options.markdown)));
      if (options.out) process.stderr.write(`results: ${options.out}\n`);
    });
}
