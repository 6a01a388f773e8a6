/** `--permutations`, `--seed` and `--no-p-value`: the independence test behind every `p_value`. */
import type { Command } from 'commander';
import type { PValueOptions } from '../../lineage/independence/pair-p-value.js';
import { DEFAULT_PERMUTATIONS, DEFAULT_SEED } from '../../lineage/independence/unit-test.js';
import { nonNegativeInt, positiveInt } from '../options.js';

export interface IndependenceCliOptions {
  permutations: number;
  seed: number;
  pValue: boolean;
}

export function addIndependenceOptions(command: Command): Command {
  return command
    .option(
      '--permutations <B>',
      'random unit permutations of the independence test behind p_value (the smallest p-value is 1 / (B + 1))',
      positiveInt('--permutations'),
      DEFAULT_PERMUTATIONS,
    )
    .option('--seed <n>', 'seed of the independence test (unit subsets and permutations)', nonNegativeInt('--seed'), DEFAULT_SEED)
    .option('--no-p-value', 'skip the independence test (p_value is left out)');
}

export function independenceFrom(options: IndependenceCliOptions): PValueOptions | false {
  return options.pValue ? { permutations: options.permutations, seed: options.seed } : false;
}
