import type { Command } from 'commander';
import { compareModels } from '../../lineage/weights/compare.js';
import { comparisonJson, type RelationJson } from '../../lineage/weights/json.js';
import { pairPValue, type PValueOptions } from '../../lineage/independence/pair-p-value.js';
import { addIndependenceOptions, type IndependenceCliOptions, independenceFrom } from './independence-options.js';
import { pairRelation, relationJson } from '../../lineage/relations/relation.js';
import type { ModelComparison } from '../../lineage/weights/types.js';
import { openModelSource } from '../../source/open.js';
import { PEFT_LORA_FORMAT } from '../../source/peft.js';
import { loraTargets, mergedSource } from '../../lineage/adapters/lora.js';
import { InputError } from '../../base/errors.js';
import type { ModelSource } from '../../source/types.js';
import { positiveInt } from '../options.js';
import { formatCount, formatTable, printJson } from '../output.js';

/** Lists longer than this are cut in the table output; --json always lists everything. */
const LISTED = 20;

function number(x: number | null, digits = 6): string {
  return x === null ? 'n/a' : x.toPrecision(digits);
}

function percent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}

function listed<T>(items: readonly T[], line: (item: T) => string): string[] {
  const lines = items.slice(0, LISTED).map((item) => `  ${line(item)}`);
  if (items.length > LISTED) lines.push(`  ... and ${items.length - LISTED} more (--json lists all)`);
  return lines;
}

function printHuman(c: ModelComparison, relation: RelationJson, top: number, pValue?: number | null): void {
  const ranked = [...c.tensors].sort((x, y) => (y.relL2 ?? Number.POSITIVE_INFINITY) - (x.relL2 ?? Number.POSITIVE_INFINITY)).slice(0, top);
  const rows = ranked.map((t) => [t.aName, t.bName === t.aName ? '' : t.bName, number(t.relL2), number(t.cos), t.transform === 'identity' ? '' : t.transform]);
  const out = [
    `A (candidate parent): ${c.a}`,
    `B: ${c.b}`,
    '',
    `distance ||B - A|| / ||A||: ${number(c.distance)}`,
    ...(pValue !== undefined ? [`p-value (trained independently): ${pValue === null ? 'n/a (no testable matrix)' : pValue.toPrecision(3)}`] : []),
    `relation: ${relation.relation}${relation.rank !== undefined ? ` (rank ${relation.rank}, modules ${relation.target_modules?.join(', ')})` : ''}: ${relation.reason}`,
    `matched ${c.matchedTensors} tensors, ${formatCount(c.matchedParameters)} parameters: ${percent(c.coverage.a)} of A (${formatCount(c.totalParameters.a)}), ${percent(c.coverage.b)} of B (${formatCount(c.totalParameters.b)})`,
    '',
    `tensors farthest apart (${ranked.length} of ${c.tensors.length}, by relative L2):`,
    formatTable(
      [
        { header: 'A tensor' },
        { header: 'B tensor (if named otherwise)' },
        { header: 'rel L2', align: 'right' },
        { header: 'cos', align: 'right' },
        { header: 'transform' },
      ],
      rows,
    ),
  ];
  if (c.unmatched.length > 0) out.push('', `unmatched (${c.unmatched.length}):`, ...listed(c.unmatched, (u) => `${u.side.toUpperCase()}: ${u.name}`));
  if (c.excluded.length > 0)
    out.push('', `excluded (${c.excluded.length}):`, ...listed(c.excluded, (e) => `${e.aName ?? '-'} / ${e.bName ?? '-'}: ${e.reason}`));
  out.push('', `took ${c.seconds.toFixed(2)} s`);
  process.stdout.write(`${out.join('\n')}\n`);
}

function warnLowCoverage(c: ModelComparison): void {
  if (!c.lowCoverage) return;
  const side = c.coverage.a <= c.coverage.b ? 'A' : 'B';
  const share = Math.min(c.coverage.a, c.coverage.b);
  process.stderr.write(
    `lineage: warning: low coverage: only ${percent(share)} of ${side}'s parameters were matched and compared; the distance describes part of the models only\n`,
  );
}

/** B as a full model: a PEFT adapter is merged into `base` (an adapter alone holds an update, not weights to compare). */
async function modelB(pathB: string, base: string | undefined, opened: ModelSource[]): Promise<ModelSource> {
  const b = await openModelSource(pathB);
  opened.push(b);
  const adapter = b.format === PEFT_LORA_FORMAT;
  if (base === undefined) {
    if (adapter)
      throw new InputError(b.path, 'is a PEFT LoRA adapter (an update, not a model): give --base MODEL to merge it, or ask `lineage explain` for its base');
    return b;
  }
  if (!adapter) throw new InputError(b.path, 'is not a PEFT adapter: --base applies to adapter folders only');
  const baseSource = await openModelSource(base);
  opened.push(baseSource);
  return mergedSource(baseSource, b, loraTargets(b));
}

/** Opens both models, compares them, decides the relation and closes them, whatever happens in between. */
async function compareFiles(
  pathA: string,
  pathB: string,
  base: string | undefined,
  independence: PValueOptions | false,
): Promise<{ comparison: ModelComparison; relation: RelationJson; pValue?: number | null }> {
  const opened: ModelSource[] = [];
  try {
    const a = await openModelSource(pathA);
    opened.push(a);
    if (a.format === PEFT_LORA_FORMAT)
      throw new InputError(a.path, 'is a PEFT LoRA adapter (an update, not a model): compare the base it was trained on instead');
    const b = await modelB(pathB, base, opened);
    const comparison = await compareModels(a, b);
    const relation = relationJson(await pairRelation(a, b, comparison));
    if (independence === false) return { comparison, relation };
    return { comparison, relation, pValue: await pairPValue(a, b, { candidate: pathA, child: pathB }, independence) };
  } finally {
    await Promise.all(opened.map((s) => s.close()));
  }
}

export function registerCompare(program: Command): void {
  const command = program
    .command('compare')
    .description('is B derived from A? per-tensor and overall weight distances across formats and naming schemes (Hugging Face, GGUF, ONNX)')
    .argument('<a>', 'the candidate parent: a model file or folder (.safetensors, sharded index, PyTorch, .onnx, .gguf, .npy)')
    .argument('<b>', 'the model asked about, in any of the same formats')
    .option('--top <n>', 'tensors listed in the table, farthest first', positiveInt('--top'), 15)
    .option('--base <model>', 'when B is a PEFT LoRA adapter folder: merge it into this base model first')
    .option(
      '--json',
      'print JSON: {version, a, b, matched_tensors, matched_parameters, total_parameters: {a, b}, low_coverage, unmatched: [{name, side}], excluded: [{a_name, b_name, reason}], tensors: [{a_name, b_name, rel_l2, cos, rank (lora)}], distance, relation, relation_reason, rank, target_modules, zero_share, seconds}',
    );
  addIndependenceOptions(command).action(async (a: string, b: string, options: { top: number; base?: string; json?: boolean } & IndependenceCliOptions) => {
    const { comparison, relation, pValue } = await compareFiles(a, b, options.base, independenceFrom(options));
    warnLowCoverage(comparison);
    if (options.json) printJson(comparisonJson(comparison, relation, pValue));
    else printHuman(comparison, relation, options.top, pValue);
  });
}
