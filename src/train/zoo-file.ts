/** Reading a zoo spec file. */
import type { ZooSpec } from './zoo-spec.js';
import { checkZooSpec } from './zoo-spec-check.js';
import { readInputFile } from '../formats/input-file.js';
import { InputError } from '../base/errors.js';

export async function readZooSpec(path: string): Promise<ZooSpec> {
  const text = new TextDecoder().decode(await readInputFile(path));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InputError(path, `invalid JSON (${(err as Error).message})`);
  }
  return checkZooSpec(parsed, path);
}
