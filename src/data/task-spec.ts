/**
 * Task ids: a base dataset followed by transforms, separated by ':'. The id is the task's name in
 * zoo manifests, and parses back into the same chain. Seeded steps take an optional `:s<seed>`
 * segment right after them (default 0); the canonical id always writes it.
 *
 *   mnist:rot=90   fashion:subset=0-4   mnist:perm=s3   fashion:fewshot=10:s1   mnist:imbalanced=100:s0
 *   mnist:seg=56x3:s0   mnist:det=56x1:s0   mnist:invert:noise=0.2:s4
 */

export type TaskStep =
  | { op: 'subset'; classes: number[] }
  | { op: 'perm'; seed: number }
  | { op: 'rot'; degrees: number }
  | { op: 'invert' }
  | { op: 'noise'; sigma: number; seed: number }
  | { op: 'fewshot'; k: number; seed: number }
  | { op: 'imbalanced'; ratio: number; seed: number }
  | { op: 'seg'; size: number; maxDigits: number; seed: number }
  | { op: 'det'; size: number; maxObjects: number; seed: number };

export interface TaskSpec {
  /** Canonical id: formatTaskSpec(base, steps). */
  id: string;
  base: string;
  steps: TaskStep[];
}

export const TASK_SPEC_FORMS = [
  '<base>                    base dataset: mnist, fashion (full, Debian), fashion-mini (shipped subset), or a name given in options.datasets',
  'subset=<classes>          keep these classes, relabelled 0..k-1 (e.g. subset=0-4, subset=0,2,7-9)',
  'perm=s<seed>              seeded permutation of the labels',
  'rot=<degrees>             counterclockwise rotation (90/180/270 exact, other angles bilinear)',
  'invert                    x -> 1 - x',
  'noise=<sigma>[:s<seed>]   additive Gaussian noise, clipped to [0, 1]',
  'fewshot=<k>[:s<seed>]     k training examples per class',
  'imbalanced=<ratio>[:s<seed>]  long-tailed training split, largest/smallest class = ratio',
  'seg=<canvas>x<digits>[:s<seed>]  segmentation: 1..digits digits on a canvas (last step)',
  'det=<canvas>x<objects>[:s<seed>] detection: 1..objects digits with boxes (last step)',
];

export class TaskSpecError extends Error {
  constructor(spec: string, problem: string) {
    super(`task '${spec}': ${problem}\nvalid forms (steps joined by ':'):\n  ${TASK_SPEC_FORMS.join('\n  ')}`);
    this.name = 'TaskSpecError';
  }
}

const SEEDED = new Set(['perm', 'noise', 'fewshot', 'imbalanced', 'seg', 'det']);
const DENSE = new Set(['seg', 'det']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const UINT = /^\d+$/;

function parseClasses(text: string, fail: (p: string) => never): number[] {
  const classes = new Set<number>();
  for (const part of text.split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!range) fail(`bad class list '${text}' (use e.g. 0-4 or 0,2,7-9)`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (to < from || to - from > 100_000) fail(`bad class range '${part}'`);
    for (let c = from; c <= to; c++) classes.add(c);
  }
  return [...classes].sort((a, b) => a - b);
}

function formatClasses(classes: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < classes.length; ) {
    let j = i;
    while (j + 1 < classes.length && classes[j + 1] === classes[j] + 1) j++;
    parts.push(j === i ? `${classes[i]}` : `${classes[i]}-${classes[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function canonicalAngle(degrees: number): number {
  const a = degrees % 360;
  return a < 0 ? a + 360 : a + 0; // + 0 turns -0 into 0
}

export function formatStep(step: TaskStep): string {
  switch (step.op) {
    case 'subset':
      return `subset=${formatClasses(step.classes)}`;
    case 'perm':
      return `perm=s${step.seed}`;
    case 'rot':
      return `rot=${canonicalAngle(step.degrees)}`;
    case 'invert':
      return 'invert';
    case 'noise':
      return `noise=${step.sigma}:s${step.seed}`;
    case 'fewshot':
      return `fewshot=${step.k}:s${step.seed}`;
    case 'imbalanced':
      return `imbalanced=${step.ratio}:s${step.seed}`;
    case 'seg':
      return `seg=${step.size}x${step.maxDigits}:s${step.seed}`;
    case 'det':
      return `det=${step.size}x${step.maxObjects}:s${step.seed}`;
  }
}

export function formatTaskSpec(base: string, steps: readonly TaskStep[]): string {
  return [base, ...steps.map(formatStep)].join(':');
}

function parseStep(token: string, seed: number, fail: (p: string) => never): TaskStep {
  const eq = token.indexOf('=');
  const op = eq < 0 ? token : token.slice(0, eq);
  const value = eq < 0 ? undefined : token.slice(eq + 1);
  const needValue = (): string => {
    if (value === undefined || value === '') fail(`'${op}' needs a value`);
    return value;
  };
  const atLeast = (text: string, what: string, integer: boolean, min: number): number => {
    if (!(integer ? UINT : NUMBER).test(text)) fail(`${what} '${text}' is not ${integer ? 'an integer' : 'a number'}`);
    const x = Number(text);
    if (!Number.isFinite(x) || x < min || (integer && !Number.isSafeInteger(x))) fail(`${what} ${text} must be at least ${min}`);
    return x;
  };
  const canvas = (what: string): { size: number; count: number } => {
    const m = /^(\d+)x(\d+)$/.exec(needValue());
    if (!m) fail(`'${op}=${value}' must look like ${op}=56x${op === 'seg' ? 3 : 1} (canvas side x ${what})`);
    return { size: atLeast(m[1], 'canvas size', true, 1), count: atLeast(m[2], what, true, 1) };
  };
  switch (op) {
    case 'subset':
      return { op, classes: parseClasses(needValue(), fail) };
    case 'perm': {
      const m = /^s(\d+)$/.exec(needValue());
      if (!m) fail(`'perm=${value}' must look like perm=s3`);
      return { op, seed: atLeast(m[1], 'seed', true, 0) };
    }
    case 'rot': {
      const text = needValue();
      if (!NUMBER.test(text) || !Number.isFinite(Number(text))) fail(`angle '${text}' is not a number of degrees`);
      return { op, degrees: canonicalAngle(Number(text)) };
    }
    case 'invert':
      if (value !== undefined) fail("'invert' takes no value");
      return { op };
    case 'noise':
      return { op, sigma: atLeast(needValue(), 'noise sigma', false, 0), seed };
    case 'fewshot':
      return { op, k: atLeast(needValue(), 'few-shot k', true, 1), seed };
    case 'imbalanced':
      return { op, ratio: atLeast(needValue(), 'imbalance ratio', false, 1), seed };
    case 'seg': {
      const { size, count } = canvas('digits per canvas');
      return { op, size, maxDigits: count, seed };
    }
    case 'det': {
      const { size, count } = canvas('objects per canvas');
      return { op, size, maxObjects: count, seed };
    }
    default:
      return fail(`unknown step '${token}'`);
  }
}

export function parseTaskSpec(spec: string): TaskSpec {
  const fail = (problem: string): never => {
    throw new TaskSpecError(spec, problem);
  };
  const tokens = spec.trim().split(':');
  const base = tokens[0];
  if (!/^[a-z][a-z0-9_-]*$/i.test(base)) fail(`base dataset '${base}' must be a name such as mnist or fashion`);
  const steps: TaskStep[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const token = tokens[i];
    let seed = 0;
    const next = tokens[i + 1];
    const seedToken = next !== undefined && /^s\d+$/.test(next) && !/^s\d+$/.test(token);
    if (seedToken) {
      const op = token.split('=')[0];
      if (!SEEDED.has(op) || op === 'perm') fail(`'${next}' follows '${token}', which takes no seed`);
      seed = Number(next.slice(1));
      i++;
    } else if (/^s\d+$/.test(token)) {
      fail(`seed '${token}' does not follow a seeded step`);
    }
    const step = parseStep(token, seed, fail);
    if (steps.length > 0 && DENSE.has(steps[steps.length - 1].op)) fail(`'${token}' follows a dense step (seg/det must be the last step)`);
    if ('seed' in step && step.seed > 0xffffffff) fail(`seed ${step.seed} must be below 2^32`);
    steps.push(step);
  }
  return { id: formatTaskSpec(base, steps), base, steps };
}
