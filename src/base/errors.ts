/**
 * A problem with a file the user gave us (a model, a dataset, a probe, a zoo spec or manifest): the
 * message starts with the file's name, and the CLI prints it in one line and exits 1, never with a
 * stack trace. Problems with how a model file is encoded are the subclass FormatError
 * (src/formats/errors.ts); everything else about an input's content is an InputError.
 */
export class InputError extends Error {
  readonly file: string;
  readonly problem: string;

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'InputError';
    this.file = file;
    this.problem = problem;
  }
}

/** Throws an InputError unless `condition` holds. */
export function checkInput(condition: unknown, file: string, problem: string | (() => string)): asserts condition {
  if (!condition) throw new InputError(file, typeof problem === 'string' ? problem : problem());
}
