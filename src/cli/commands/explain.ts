import type { Command } from 'commander';
import { type Explanation, explainChild } from '../../lineage/relations/explain.js';
import { RELATIONS } from '../../lineage/relations/relation.js';
import { UsageError } from '../errors.js';
import { formatTable, printJson } from '../output.js';
import { addIndependenceOptions, type IndependenceCliOptions, independenceFrom } from './independence-options.js';

function pText(p: number | null | undefined): string {
  return p === undefined ? '' : p === null ? 'n/a' : p.toPrecision(2);
}

function coefficientText(c: number): string {
  return c === 1 ? '' : ` x ${c.toFixed(3)}`;
}

function printHuman(e: Explanation): void {
  const lines = [`child ${e.child}`];
  const fitting = e.candidates.filter((c) => c.relation !== 'independent').length;
  if (e.parents.length === 0) lines.push(fitting > 1 ? `parent: undecided, ${fitting} candidates fit (see why)` : 'parent: none of the candidates is related');
  for (const p of e.parents) {
    const lora = p.rank !== undefined ? ` (rank ${p.rank}; ${p.target_modules?.join(', ')})` : '';
    lines.push(`parent ${p.parent}: ${p.relation}${lora}${p.relation === 'merge' ? coefficientText(p.coefficient) : ''}`);
  }
  if (e.merge && e.parents.some((p) => p.relation === 'merge')) {
    lines.push(`merge residual ${e.merge.residual.toPrecision(3)} (best single candidate ${e.merge.single_residual.toPrecision(3)})`);
    for (const b of e.merge.blocks) lines.push(`  ${b.block}: ${b.coefficients.map((c) => `${c.candidate} x ${c.coefficient.toFixed(3)}`).join(', ')}`);
  }
  lines.push(
    '',
    formatTable(
      [{ header: 'candidate' }, { header: 'distance', align: 'right' }, { header: 'p-value', align: 'right' }, { header: 'relation' }, { header: 'why' }],
      e.candidates.map((c) => [c.candidate, c.distance === null ? 'n/a' : c.distance.toPrecision(4), pText(c.p_value), c.relation, c.reason]),
    ),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerExplain(program: Command): void {
  const command = program
    .command('explain')
    .description('how was a model derived? its parent(s) among candidates and the relation: finetune, lora, quantized, converted, pruned, merge or independent')
    .argument('<child>', 'the model asked about: any file or folder `compare` reads (a PEFT adapter folder too)')
    .requiredOption('--candidates <models...>', 'candidate parents')
    .option('--base <model>', 'for a PEFT adapter folder: merge it into this base model and explain the merged model')
    .option(
      '--json',
      'print JSON: {version, child, parents: [{parent, relation, coefficient, p_value, rank?, target_modules?}], candidates: [{candidate, distance, relation, reason, p_value, ...}], merge?}',
    )
    .addHelpText('after', `\nRelations: ${RELATIONS.join(', ')}. The README's "Relations" section says how each is decided.`);
  addIndependenceOptions(command).action(async (child: string, options: { candidates: string[]; base?: string; json?: boolean } & IndependenceCliOptions) => {
    if (options.candidates.includes(child)) throw new UsageError('the child must not be among the candidates');
    if (new Set(options.candidates).size !== options.candidates.length) throw new UsageError('a candidate is listed twice');
    const explanation = await explainChild(child, options.candidates, {
      independence: independenceFrom(options),
      ...(options.base ? { base: options.base } : {}),
    });
    if (options.json) printJson(explanation);
    else printHuman(explanation);
  });
}
