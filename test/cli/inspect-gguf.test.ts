import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', 'bin', 'lineage.js');
const fixture = (name: string) => join(import.meta.dirname, '..', '..', 'fixtures', 'gguf', name);

describe('lineage inspect on GGUF files', () => {
  it('--json lists ggml types, numpy-order shapes, stored bytes and metadata', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'inspect', fixture('q4_k.gguf'), '--json']);
    const report = JSON.parse(stdout);
    expect(report.format).toBe('gguf');
    expect(report.tensors).toEqual([
      { name: 'weight', dtype: 'Q4_K', shape: [3, 256], bytes: 3 * 144 },
      { name: 'random_blocks', dtype: 'Q4_K', shape: [2, 256], bytes: 2 * 144 },
    ]);
    expect(report.elements).toBe(5 * 256);
    expect(report.metadata).toEqual({
      'general.architecture': 'lineage-fixture',
      'general.name': 'Q4_K fixture',
      'general.quantization_version': '2',
    });
  });

  it('the table shows metadata (arrays abbreviated) and a 4-d tensor in numpy order', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'inspect', fixture('metadata.gguf')]);
    expect(stdout).toMatch(/\(gguf\)/);
    expect(stdout).toContain('  tokenizer.ggml.token_type: [1, 2, 3, -4]');
    expect(stdout).toContain('... (9 string items)]');
    expect(stdout).toMatch(/blk\.0\.four_d\s+F32\s+\[2, 1, 3, 2\]/);
  });
});
