/**
 * Every problem with an input file is reported as a FormatError whose message starts with the
 * file's name, so a user sees which file is wrong and why, never a stack trace.
 */
export class FormatError extends Error {
  readonly file: string;
  readonly problem: string;

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'FormatError';
    this.file = file;
    this.problem = problem;
  }
}

/** Throws a FormatError unless `condition` holds. */
export function check(condition: unknown, file: string, problem: string | (() => string)): asserts condition {
  if (!condition) throw new FormatError(file, typeof problem === 'string' ? problem : problem());
}

/**
 * Reads a whole input file: it must be a regular file (symlinks followed; devices, FIFOs and folders
 * are refused), and no more bytes are read than its size when opened. Failures are FormatErrors
 * naming it. Readers needing random access use InputFile from ./input-file.js.
 */
export async function readInputFile(path: string): Promise<Uint8Array> {
  // Imported lazily: input-file.ts imports this module for FormatError.
  const { readRegularFile } = await import('./input-file.js');
  return readRegularFile(path);
}
