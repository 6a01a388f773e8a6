/**
 * Whether a model file an earlier build left is whole. Files are written atomically, but a copy,
 * a full disk or a crashed file system can still leave a truncated one, and a resumed build must
 * not skip it (its children would then fail to load their parent, or worse, train from garbage).
 */
import { SafetensorsFile } from '../formats/safetensors.js';
import { InputError } from '../base/errors.js';

/**
 * Undefined when `path` is a complete safetensors file: its header parses and its tensors tile the
 * rest of the file exactly (size = 8 + header length + end of the last tensor); else the problem.
 */
export async function incompleteModelFile(path: string): Promise<string | undefined> {
  let file: SafetensorsFile;
  try {
    file = await SafetensorsFile.open(path);
  } catch (err) {
    if (err instanceof InputError) return err.message;
    throw err;
  }
  await file.close();
  return undefined;
}
