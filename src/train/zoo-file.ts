/** Reading a zoo spec file. */
import { promises as fs } from 'node:fs';
import { FormatError } from '../formats/errors.js';
import { type ZooSpec, checkZooSpec } from './zoo-spec.js';

export async function readZooSpec(path: string): Promise<ZooSpec> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    throw new FormatError(path, `cannot read zoo spec (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FormatError(path, `invalid JSON (${(err as Error).message})`);
  }
  return checkZooSpec(parsed, path);
}
