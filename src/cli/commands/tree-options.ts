/** Options shared by `lineage tree` and `lineage ancestors`: method, probe, direction, roots. */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { type BnStats, DEFAULT_ALPHA, DEFAULT_BN_STATS, DEFAULT_LAYER } from '../../lineage/learning-free.js';
import { parseMethod } from '../../lineage/methods.js';
import { treeMethodName } from '../../lineage/tree/pair-scores.js';
import { readProbe, DEFAULT_PROBE_ROWS } from '../../lineage/probe.js';
import { DEFAULT_DIRECTION_STRENGTH, DEFAULT_RELATED_DISTANCE } from '../../lineage/tree/build.js';
import { parseDirectionWeights } from '../../lineage/tree/direction.js';
import type { TreeOptions } from '../../lineage/tree/recover.js';
import { UsageError } from '../errors.js';
import { cacheDir } from '../cache-dir.js';
import { PairCache } from '../../lineage/tree/pair-cache.js';
import { BN_STATS_HELP, bnStatsFlag } from './bn-stats-option.js';
import { alphaOption, finiteNumber, keywordOr, nonNegativeFinite, positiveInt } from '../options.js';

export interface TreeCliOptions {
  method: string;
  probe?: string;
  probeRows: number;
  arch?: string;
  heads?: number;
  layer: string;
  alpha: number;
  bnStats: BnStats;
  direction: string;
  directionStrength: number;
  rootThreshold: 'auto' | 'none' | number;
  relatedDistance: number;
  json?: boolean;
  progress: boolean;
  /** A folder, or false (--no-cache). */
  cache: string | false;
}

export function addTreeOptions(command: Command): Command {
  return command
    .option(
      '--method <name>',
      'auto (default: weight evidence, weights-cos; any model and format, streamed, no probe; bench/results/tree.md), or one method: weights-l2, weights-cos, weights-rel, or <mode>-<metric> (e.g. taylor-l1, direct-cka; needs --probe)',
      'auto',
    )
    .option('--probe <X.npy>', 'probe inputs, N x C x H x W float32, already normalised (needed by feature methods)')
    .option('--probe-rows <n>', 'use the first n rows of the probe (a positive integer)', positiveInt('--probe-rows'), DEFAULT_PROBE_ROWS)
    .option('--arch <name>', 'built-in architecture; inferred when absent')
    .option('--heads <n>', 'ViT attention heads when the file does not say', positiveInt('--heads'))
    .option('--layer <name>', 'feature layer (see `lineage inspect --layers`)', DEFAULT_LAYER)
    .option('--alpha <a>', 'step along the fine-tuning tangent for taylor and linearized scores, > 0 (a warning above 1)', alphaOption(), DEFAULT_ALPHA)
    .option('--bn-stats <whose>', BN_STATS_HELP, bnStatsFlag, DEFAULT_BN_STATS)
    .option(
      '--direction <list>',
      'parent/child direction evidence: centrality, kurtosis, fit, weighted as name=w (negative: reversed), comma separated, or none',
      'centrality',
    )
    .option(
      '--direction-strength <s>',
      'weight of direction evidence, in generation steps (>= 0)',
      nonNegativeFinite('--direction-strength'),
      DEFAULT_DIRECTION_STRENGTH,
    )
    .option(
      '--root-threshold <t>',
      'auto (families by relative weight distance), none (one tree per compatible group), or a score: a model is a root when no candidate reaches it',
      keywordOr(['auto', 'none'], finiteNumber('--root-threshold')),
      'auto',
    )
    .option(
      '--related-distance <d>',
      'auto roots: largest relative weight distance between related models (>= 0)',
      nonNegativeFinite('--related-distance'),
      DEFAULT_RELATED_DISTANCE,
    )
    .option(
      '--cache <dir>',
      'weight methods: keep pairwise comparisons on disk and reuse them on reruns (only new or changed models are compared again)',
      cacheDir('pairs'),
    )
    .option('--no-cache', 'compare every pair afresh and keep nothing')
    .option('--json', 'print JSON')
    .option('--no-progress', 'do not show a progress bar');
}

/** Library options from the parsed flags; `probePath` overrides --probe (zoo default). */
export async function treeOptionsFrom(options: TreeCliOptions, probePath?: string): Promise<TreeOptions> {
  let method: ReturnType<typeof parseMethod>;
  try {
    method = parseMethod(treeMethodName(options.method));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let direction: ReturnType<typeof parseDirectionWeights>;
  try {
    direction = parseDirectionWeights(options.direction);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const probeFile = options.probe ?? probePath;
  if (method.kind === 'feature' && !probeFile) throw new UsageError(`method ${method.name} needs --probe X.npy`);
  return {
    method: method.name,
    ...(probeFile && method.kind === 'feature' ? { probe: await readProbe(probeFile, options.probeRows) } : {}),
    ...(options.arch ? { arch: options.arch } : {}),
    ...(options.heads ? { heads: options.heads } : {}),
    layer: options.layer,
    alpha: options.alpha,
    bnStats: options.bnStats,
    direction,
    ...(options.cache !== false ? { cache: await PairCache.open(options.cache) } : {}),
    directionStrength: options.directionStrength,
    rootThreshold: options.rootThreshold,
    relatedDistance: options.relatedDistance,
  };
}

/** A progress bar over scored pairs on stderr (only on a terminal). */
export function pairProgress(enabled: boolean): { onProgress: (done: number, total: number) => void; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { onProgress: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: 'pairs {bar} {value}/{total} | ETA {eta_formatted}', stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onProgress: (done, total) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
