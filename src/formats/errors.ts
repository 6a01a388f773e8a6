import { InputError } from '../base/errors.js';

/**
 * Every problem with an input file is reported as a FormatError whose message starts with the
 * file's name, so a user sees which file is wrong and why, never a stack trace.
 */
export class FormatError extends InputError {
  constructor(file: string, problem: string) {
    super(file, problem);
    this.name = 'FormatError';
  }
}

/** Throws a FormatError unless `condition` holds. */
export function check(condition: unknown, file: string, problem: string | (() => string)): asserts condition {
  if (!condition) throw new FormatError(file, typeof problem === 'string' ? problem : problem());
}
