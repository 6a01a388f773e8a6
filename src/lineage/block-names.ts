/** Blocks of a model, from its parameter names: the unit of layer-level lineage and of re-initialised heads. */
import { isBufferName } from '../base/naming.js';

/** Groups parameter names into blocks: `layer1.0.conv1.weight` -> `layer1.0`, `fc1.weight` -> `fc1`. */
export function blockOf(name: string): string {
  const parts = name.split('.');
  const numeric = parts.findIndex((p, i) => i > 0 && /^\d+$/.test(p));
  if (numeric > 0 && numeric < parts.length - 1) return parts.slice(0, numeric + 1).join('.');
  return parts.length > 1 ? parts.slice(0, -1).join('.') : parts[0];
}

export function groupBlocks(names: Iterable<string>): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  for (const name of names) {
    if (isBufferName(name)) continue;
    const block = blockOf(name);
    const list = blocks.get(block) ?? [];
    list.push(name);
    blocks.set(block, list);
  }
  return blocks;
}
