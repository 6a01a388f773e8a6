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

/** Reads a whole input file; a missing or unreadable file is a FormatError naming it. */
export async function readInputFile(path: string): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(path);
  } catch (err) {
    throw new FormatError(path, `cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}
