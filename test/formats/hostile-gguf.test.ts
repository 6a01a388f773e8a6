import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GGUF_HOSTILE_CASES } from '../../src/testing/hostile/gguf.js';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'lineage.js');
/** Generous caps, so the test cannot flake; bench:hostile measures the real costs. */
const WALL_CAP_MS = 30_000;
const HEAP_CAP_MB = 1024;

function inspect(path: string): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`--max-old-space-size=${HEAP_CAP_MB}`, CLI, 'inspect', path],
      { timeout: 2 * WALL_CAP_MS, maxBuffer: 1 << 24 },
      (err, _stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stderr, ms: performance.now() - started });
      },
    );
  });
}

const root = mkdtempSync(join(tmpdir(), 'lineage-hostile-gguf-'));

describe('hostile GGUF files are refused by `lineage inspect`', () => {
  for (const c of GGUF_HOSTILE_CASES) {
    it(
      `${c.name}: ${c.threat}`,
      async () => {
        const dir = join(root, c.name);
        mkdirSync(dir);
        const path = await c.build(dir);
        const r = await inspect(path);
        expect(r.stderr).toContain(`lineage: ${path}: `);
        expect(r.stderr).toMatch(c.expect);
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
        expect(r.code).toBe(1);
        expect(r.ms).toBeLessThan(WALL_CAP_MS);
      },
      2 * WALL_CAP_MS,
    );
  }
});
