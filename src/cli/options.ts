/**
 * Parsers of option values, one set for every command: commander calls them as
 * `.option(flags, help, parser, default)` (defaults are given already parsed: commander does not
 * parse them). A bad value is a UsageError (exit 2) naming the option and the value, raised while
 * the command line is read, before any file is opened.
 *
 * Numbers are read strictly: decimal notation only, so '', ' ', 'inf', 'nan', '0x10' and '1,5'
 * are refused instead of becoming NaN, Infinity, 16 or a silently truncated value.
 */
import { UsageError } from './errors.js';

/** A parser of one option's value that can say what it expects (for messages). */
export interface NumberOption {
  (text: string): number;
  readonly flag: string;
  /** e.g. 'a positive integer' */
  readonly expected: string;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function readDecimal(text: string): number | undefined {
  return DECIMAL.test(text) ? Number(text) : undefined;
}

function numberOption(flag: string, expected: string, accept: (n: number) => boolean): NumberOption {
  const parse = (text: string): number => {
    const n = readDecimal(text);
    if (n === undefined || !Number.isFinite(n) || !accept(n)) throw new UsageError(`${flag} must be ${expected}, got '${text}'`);
    return n;
  };
  return Object.assign(parse, { flag, expected });
}

/** 1, 2, 3, ... (up to 2^53 - 1). */
export function positiveInt(flag: string): NumberOption {
  return numberOption(flag, 'a positive integer', (n) => Number.isSafeInteger(n) && n >= 1);
}

/** 0, 1, 2, ... (up to 2^53 - 1). */
export function nonNegativeInt(flag: string): NumberOption {
  return numberOption(flag, 'a non-negative integer', (n) => Number.isSafeInteger(n) && n >= 0);
}

/** Any finite number > 0. */
export function positiveFinite(flag: string): NumberOption {
  return numberOption(flag, 'a finite number > 0', (n) => n > 0);
}

/** Any finite number >= 0. */
export function nonNegativeFinite(flag: string): NumberOption {
  return numberOption(flag, 'a finite number >= 0', (n) => n >= 0);
}

/** Any finite number. */
export function finiteNumber(flag: string): NumberOption {
  return numberOption(flag, 'a finite number', () => true);
}

/**
 * The step along the fine-tuning tangent (F_p + alpha * J_p Delta): finite and > 0, with a warning
 * on stderr above 1, where the child is extrapolated beyond the whole weight change and the
 * first-order expansion no longer describes it.
 */
export function alphaOption(flag = '--alpha'): NumberOption {
  const positive = positiveFinite(flag);
  const parse = (text: string): number => {
    const alpha = positive(text);
    if (alpha > 1)
      process.stderr.write(
        `lineage: warning: ${flag} ${text} is above 1: the linearisation around the parent is meaningless beyond the whole weight change (alpha = 1); typical values are 0.001-0.1\n`,
      );
    return alpha;
  };
  return Object.assign(parse, { flag, expected: positive.expected });
}

/** A number parsed by `parse`, or one of the keywords (e.g. 'auto'). */
export function keywordOr<K extends string>(keywords: readonly K[], parse: NumberOption): (text: string) => K | number {
  return (text) => {
    const keyword = keywords.find((k) => k === text);
    if (keyword !== undefined) return keyword;
    try {
      return parse(text);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      throw new UsageError(`${parse.flag} must be ${keywords.map((k) => `'${k}'`).join(', ')} or ${parse.expected}, got '${text}'`);
    }
  };
}

/** For repeatable options: each occurrence appends its value. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
