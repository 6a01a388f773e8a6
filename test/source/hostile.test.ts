/**
 * Hostile inputs for model sources, run through `lineage compare` (which opens both models as
 * model sources) in a child process with a capped heap: each must be refused with exit code 1 and a
 * message naming the offending file, quickly and without a stack trace.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SOURCE_HOSTILE_CASES } from '../../src/testing/hostile/source.js';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'lineage.js');
/** Generous caps, so the test cannot flake; bench:hostile measures the real costs. */
const WALL_CAP_MS = 30_000;
const HEAP_CAP_MB = 1024;

function compare(path: string): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`--max-old-space-size=${HEAP_CAP_MB}`, CLI, 'compare', path, path],
      { timeout: 2 * WALL_CAP_MS, maxBuffer: 1 << 24 },
      (err, _stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stderr, ms: performance.now() - started });
      },
    );
  });
}

const root = mkdtempSync(join(tmpdir(), 'lineage-hostile-source-'));

describe('hostile inputs are refused by model sources (`lineage compare`)', () => {
  for (const c of SOURCE_HOSTILE_CASES) {
    it(
      `${c.name}: ${c.threat}`,
      async () => {
        const dir = join(root, c.name);
        mkdirSync(dir);
        const path = await c.build(dir);
        const r = await compare(path);
        // The message names a file of the case: the model, its index, its config or its data file.
        expect(r.stderr).toContain(`lineage: ${dir}/`);
        expect(r.stderr).toMatch(c.expect);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(r.code).toBe(1);
        expect(r.ms).toBeLessThan(WALL_CAP_MS);
      },
      2 * WALL_CAP_MS,
    );
  }
});
