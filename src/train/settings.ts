/**
 * Learning settings of zoo children, written as short strings joined by '+':
 *   full | partial:<k> | head-only (alias linear-probe) | lora:<r>[:<alpha>]   fine-tuning mode
 *   fewshot:<k>            the child's task keeps k training examples per class
 *   imbalanced:<ratio>     long-tailed training split (largest / smallest class = ratio)
 *   regularised:<wd>       weight decay wd (alias regularized; L2 added to the gradient)
 * e.g. "full", "lora:4", "fewshot:10+head-only", "imbalanced:50+regularised:0.0005".
 * At most one mode (default full). fewshot/imbalanced become task steps with the child's seed.
 */
import type { FinetuneMode } from './finetune.js';
import { formatTaskSpec, parseTaskSpec } from '../data/task-spec.js';

export interface Setting {
  mode: FinetuneMode;
  /** Task steps to add, e.g. "fewshot=10" (seed appended by withSettingSteps). */
  taskSteps: string[];
  weightDecay?: number;
}

export const SETTING_FORMS = ['full', 'partial:<k>', 'head-only', 'lora:<r>[:<alpha>]', 'fewshot:<k>', 'imbalanced:<ratio>', 'regularised:<weight decay>'];

export function parseSetting(text: string): Setting {
  const fail = (problem: string): never => {
    throw new Error(`setting '${text}': ${problem} (forms, joined by '+': ${SETTING_FORMS.join(', ')})`);
  };
  let mode: FinetuneMode | undefined;
  const taskSteps: string[] = [];
  let weightDecay: number | undefined;
  const setMode = (m: FinetuneMode) => {
    if (mode) fail('more than one fine-tuning mode');
    mode = m;
  };
  const integer = (v: string | undefined, what: string, min: number): number => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) fail(`${what} must be an integer >= ${min}, got '${v ?? ''}'`);
    return Number(v);
  };
  const number = (v: string | undefined, what: string, min: number): number => {
    const x = Number(v);
    if (v === undefined || v.trim() === '' || !Number.isFinite(x) || x < min) fail(`${what} must be a number >= ${min}, got '${v ?? ''}'`);
    return x;
  };
  for (const part of text.split('+')) {
    const [name, ...args] = part.trim().split(':');
    const argc = (max: number) => {
      if (args.length > max) fail(`'${name}' takes at most ${max} value${max === 1 ? '' : 's'}`);
    };
    switch (name) {
      case 'full':
        argc(0);
        setMode({ kind: 'full' });
        break;
      case 'partial':
        argc(1);
        setMode({ kind: 'partial', frozenBlocks: integer(args[0], 'partial: frozen blocks', 0) });
        break;
      case 'head-only':
      case 'linear-probe':
        argc(0);
        setMode({ kind: 'head-only' });
        break;
      case 'lora': {
        argc(2);
        const rank = integer(args[0], 'lora: rank', 1);
        setMode({ kind: 'lora', rank, alpha: args[1] === undefined ? rank : number(args[1], 'lora: alpha', Number.MIN_VALUE) });
        break;
      }
      case 'fewshot':
        argc(1);
        taskSteps.push(`fewshot=${integer(args[0], 'fewshot: examples per class', 1)}`);
        break;
      case 'imbalanced':
        argc(1);
        taskSteps.push(`imbalanced=${number(args[0], 'imbalanced: ratio', 1)}`);
        break;
      case 'regularised':
      case 'regularized':
        argc(1);
        if (weightDecay !== undefined) fail('weight decay given twice');
        weightDecay = number(args[0], 'regularised: weight decay', 0);
        break;
      default:
        fail(`unknown part '${part}'`);
    }
  }
  return { mode: mode ?? { kind: 'full' }, taskSteps, ...(weightDecay !== undefined ? { weightDecay } : {}) };
}

/** The task id with the setting's steps inserted before any dense (seg/det) step, seeded. */
export function withSettingSteps(task: string, setting: Setting, seed: number): string {
  if (setting.taskSteps.length === 0) return parseTaskSpec(task).id;
  const parsed = parseTaskSpec(task);
  const extra = parseTaskSpec(`${parsed.base}:${setting.taskSteps.map((s) => `${s}:s${seed}`).join(':')}`).steps;
  const dense = parsed.steps.findIndex((s) => s.op === 'seg' || s.op === 'det');
  const steps = dense < 0 ? [...parsed.steps, ...extra] : [...parsed.steps.slice(0, dense), ...extra, ...parsed.steps.slice(dense)];
  return parseTaskSpec(formatTaskSpec(parsed.base, steps)).id;
}
