import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { allMethodNames, parseMethodList, usesAlpha } from '../../lineage/methods.js';
import { AUTO_METHOD } from '../../lineage/auto.js';
import { type BnStats, DEFAULT_ALPHA, DEFAULT_BN_STATS, DEFAULT_LAYER, type MethodResult } from '../../lineage/learning-free.js';
import { detectWithMethods } from '../../lineage/detect-methods.js';
import { readProbe, DEFAULT_PROBE_ROWS } from '../../lineage/probe.js';
import { UsageError } from '../errors.js';
import { BN_STATS_HELP, bnStatsFlag } from './bn-stats-option.js';
import { formatTable, printJson } from '../output.js';
import { addIndependenceOptions, type IndependenceCliOptions, independenceFrom } from './independence-options.js';
import { alphaOption, collect, positiveInt } from '../options.js';

interface DetectCliOptions {
  child: string[];
  parents: string[];
  probe?: string;
  probeRows: number;
  arch?: string;
  heads?: number;
  layer: string;
  method: string;
  alpha: number;
  json?: boolean;
  progress: boolean;
  bnStats: BnStats;
  detector?: string;
}

function printHuman(results: MethodResult[]): void {
  const out: string[] = [];
  for (const r of results) {
    out.push(`method ${r.method}${usesAlpha(r.method) ? ` (alpha ${r.alpha})` : ''}${r.method === AUTO_METHOD ? '' : `, layer ${r.layer}`}`);
    for (const c of r.children) {
      const margin = c.scores.length >= 2 ? c.scores[0].score - c.scores[1].score : undefined;
      const evidence = c.evidence ? `, decided by ${c.evidence === 'combined' ? 'weights, ties broken by features' : c.evidence}` : '';
      out.push(
        `child ${c.child}: parent ${c.parent ?? '(none)'}${margin !== undefined ? `, margin ${margin.toPrecision(4)} over the runner-up` : ''}${evidence}`,
      );
      out.push(
        formatTable(
          [{ header: 'rank', align: 'right' }, { header: 'candidate' }, { header: 'score', align: 'right' }],
          c.scores.map((s, i) => [String(i + 1), s.parent, s.score.toPrecision(6)]),
        )
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n'),
      );
      for (const inc of c.incompatible) out.push(`  incompatible: ${inc.parent}: ${inc.reason}`);
      out.push('');
    }
  }
  process.stdout.write(out.join('\n'));
}

export function registerDetect(program: Command): void {
  const command = program
    .command('detect')
    .description('rank candidate parents of each child model (learning-free lineage detection)')
    .requiredOption('--child <file>', 'child model (repeat for several children)', collect)
    .requiredOption('--parents <files...>', 'candidate parent models')
    .option('--probe <X.npy>', 'probe inputs, N x C x H x W float32, already normalised (feature methods only; weight methods need none)')
    .option('--probe-rows <n>', 'use the first n rows of the probe (a positive integer)', positiveInt('--probe-rows'), DEFAULT_PROBE_ROWS)
    .option(
      '--arch <name>',
      'feature methods: built-in architecture (mlp, convnet, resnet18, resnet34, resnet50, vit); inferred when absent. Weight methods work on any architecture',
    )
    .option('--heads <n>', 'ViT attention heads when the file does not say', positiveInt('--heads'))
    .option('--layer <name>', 'feature layer: a named layer (see `lineage inspect --layers`) or an ONNX value name', DEFAULT_LAYER)
    .option(
      '--method <names>',
      `auto (default: weight evidence, feature evidence breaking ties when --probe is given; see README), a method, a comma list, or 'all': <mode>-<metric> with mode direct|taylor|linearized|fitted and metric l1|l2|lp|lse|linf|cka|cka-unbiased|dc, or weights-l2, weights-cos, weights-rel (any model, any format: no probe, no architecture), or detector (with --detector)`,
      AUTO_METHOD,
    )
    .option(
      '--alpha <a>',
      'step along the fine-tuning tangent for taylor and linearized scores, > 0 (a warning above 1; fitted methods search their own in [0, 1])',
      alphaOption(),
      DEFAULT_ALPHA,
    )
    .option('--bn-stats <whose>', BN_STATS_HELP, bnStatsFlag, DEFAULT_BN_STATS)
    .option('--detector <file>', 'learned detector for --method detector (see `lineage detector train`)')
    .option('--json', 'print JSON: one object per method (an array when several methods)')
    .option('--no-progress', 'do not show a progress bar')
    .addHelpText('after', `\nMethods: ${allMethodNames().join(', ')}`);
  addIndependenceOptions(command).action(async (options: DetectCliOptions & IndependenceCliOptions) => {
    const names = options.method.split(',').map((m) => m.trim());
    const useDetector = names.includes('detector');
    if (useDetector && !options.detector) throw new UsageError('--method detector needs --detector FILE (trained with `lineage detector train`)');
    const rest = names.filter((m) => m !== 'detector');
    const explicit = rest.filter((m) => m !== AUTO_METHOD);
    let parsed: ReturnType<typeof parseMethodList> = [];
    try {
      if (explicit.length > 0) parsed = parseMethodList(explicit.join(','));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const feature = parsed.find((m) => m.kind === 'feature');
    if (feature && !options.probe) throw new UsageError(`method ${feature.name} needs --probe X.npy (weight methods and auto need none)`);
    const methods = rest.includes(AUTO_METHOD) ? rest : parsed;
    const probe = options.probe ? await readProbe(options.probe, options.probeRows) : undefined;
    const bar =
      options.progress && process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { format: 'candidates {bar} {value}/{total} | ETA {eta_formatted}', stream: process.stderr },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
    bar?.start(options.parents.length, 0);
    const { learningFree, detector } = await detectWithMethods(options.child, options.parents, {
      probe,
      methods,
      detector: useDetector ? options.detector : undefined,
      alpha: options.alpha,
      layer: options.layer,
      arch: options.arch,
      heads: options.heads,
      bnStats: options.bnStats,
      independence: independenceFrom(options),
      onProgress: (done) => bar?.update(done),
    });
    const results = [...learningFree];
    if (detector) results.splice(names.indexOf('detector'), 0, detector);
    bar?.stop();
    if (options.json) printJson(results.length === 1 ? results[0] : results);
    else printHuman(results);
  });
}
