import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { checkLineage, type LineageCheck, type Verdict } from '../../lineage/check.js';
import type { NamedModelPath } from '../../lineage/model-path.js';
import { UsageError } from '../errors.js';
import { requestExitCode } from '../exit-code.js';
import { formatTable, printJson } from '../output.js';
import { addIndependenceOptions, type IndependenceCliOptions, independenceFrom } from './independence-options.js';

/** Exit code per verdict: a contradiction or an unverifiable claim must stop a script. */
export const VERDICT_EXIT: Readonly<Record<Verdict, number>> = { confirmed: 0, contradicted: 3, unverifiable: 4 };

/** `id=path`, or a path (its own id); a path that exists is a path even if it holds `=`. */
export function parseCandidate(text: string): NamedModelPath {
  const eq = text.indexOf('=');
  if (eq <= 0 || existsSync(text)) return { id: text, path: text };
  return { id: text.slice(0, eq), path: text.slice(eq + 1) };
}

function printHuman(c: LineageCheck): void {
  const lines = [`model ${c.model}`];
  if (c.declared.length === 0) lines.push('declared parent: none');
  for (const d of c.declared) lines.push(`declared parent: ${d.id} (${d.source})${d.candidate ? ` = candidate ${d.candidate}` : ', not among the candidates'}`);
  lines.push(
    `detected parent: ${c.detected.map((p) => `${p.parent} (${p.relation}${p.relation === 'merge' ? ` x ${p.coefficient.toFixed(3)}` : ''})`).join(', ') || 'none'}`,
  );
  if (c.p_value !== null) lines.push(`p-value (declared parent trained independently): ${c.p_value.toPrecision(3)}`);
  lines.push(`verdict: ${c.verdict.toUpperCase()}: ${c.reason}`, '');
  lines.push(
    formatTable(
      [{ header: 'candidate' }, { header: 'distance', align: 'right' }, { header: 'relation' }],
      c.candidates.map((x) => [x.candidate, x.distance === null ? 'n/a' : x.distance.toPrecision(4), x.relation]),
    ),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerCheck(program: Command): void {
  const command = program
    .command('check')
    .description('does the model come from the parent it declares? declared lineage (config.json, model card, GGUF metadata) against the weights')
    .argument('<model>', 'the model to check: any file or folder `compare` reads')
    .requiredOption('--candidates <[id=]paths...>', 'candidate parents, each optionally named as the model declares it (meta-llama/Llama-2-7b-hf=./llama2/)')
    .option(
      '--json',
      'print JSON: {version, model, declared: [{id, source, candidate}], detected: [{parent, relation, coefficient, p_value}], relation, p_value, verdict, reason, candidates}',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 confirmed, 3 contradicted (another parent detected, or the declared one independent), 4 unverifiable (nothing declared, or the declared parent not among the candidates); 1 bad input, 2 bad usage.',
    );
  addIndependenceOptions(command).action(async (model: string, options: { candidates: string[]; json?: boolean } & IndependenceCliOptions) => {
    const candidates = options.candidates.map(parseCandidate);
    if (new Set(candidates.map((c) => c.id)).size !== candidates.length) throw new UsageError('a candidate id is listed twice');
    if (candidates.some((c) => c.path === model)) throw new UsageError('the model must not be among the candidates');
    const result = await checkLineage(model, candidates, independenceFrom(options));
    if (options.json) printJson(result);
    else printHuman(result);
    requestExitCode(VERDICT_EXIT[result.verdict]);
  });
}
