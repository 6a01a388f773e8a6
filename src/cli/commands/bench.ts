/** `lineage bench --zoo DIR`: the paper's accuracy tables for a built zoo, printed and written as JSON. */
import type { Command } from 'commander';
import { writeFileAtomic } from '../../fsutil.js';
import { UsageError } from '../errors.js';
import { BN_STATS_HELP, bnStatsFlag } from './bn-stats-option.js';
import { DEFAULT_BN_STATS } from '../../lineage/learning-free.js';
import { benchmarkZoo } from '../../eval/bench.js';
import { benchTables } from '../../eval/format.js';

interface BenchCliOptions {
  zoo: string;
  methods: string;
  detector?: string;
  alpha: string;
  seed: string;
  resamples: string;
  out?: string;
  markdown?: boolean;
  bnStats: string;
}

function parseAlpha(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--alpha must be a number or 'auto', got '${text}'`);
  return value;
}

function parseCount(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new UsageError(`${name} must be a non-negative integer, got '${text}'`);
  return value;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('benchmark parent detection on a built zoo: top-1 accuracy per setting and method with bootstrap intervals, the cross-generation matrix, time per pair')
    .requiredOption('--zoo <dir>', 'zoo folder (with manifest.json)')
    .option('--methods <list>', "comma list of methods, or 'all'", 'all')
    .option('--detector <file>', 'learned detector (.safetensors) to add as a method')
    .option('--alpha <value>', "tangent step for taylor/linearized methods, or 'auto' (chosen on validation children, reported on test children)", '0.01')
    .option('--seed <n>', 'seed of the bootstrap and of the validation split', '0')
    .option('--resamples <n>', 'bootstrap resamples', '1000')
    .option('--out <results.json>', 'write the full result as JSON')
    .option('--markdown', 'print markdown tables')
    .option('--bn-stats <whose>', BN_STATS_HELP, DEFAULT_BN_STATS)
    .action(async (options: BenchCliOptions) => {
      const result = await benchmarkZoo(options.zoo, {
        methods: options.methods,
        detector: options.detector,
        alpha: parseAlpha(options.alpha),
        seed: parseCount(options.seed, '--seed'),
        resamples: Math.max(1, parseCount(options.resamples, '--resamples')),
        bnStats: bnStatsFlag(options.bnStats),
        onProgress: (p) => process.stderr.write(`bench: ${p.done}/${p.total} ${p.step}\n`),
      });
      if (options.out) await writeFileAtomic(options.out, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(benchTables(result, Boolean(options.markdown)));
      if (options.out) process.stderr.write(`results: ${options.out}\n`);
    });
}
