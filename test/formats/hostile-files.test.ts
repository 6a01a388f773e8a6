/**
 * Hostile and large-but-legal files for the safetensors, sharded safetensors, ONNX and .npy readers
 * and for file access itself, each run through the built CLI as a user would: hostile ones must be
 * refused quickly with the file named, large legal ones must load.
 */
import { afterAll, describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILES_HOSTILE_CASES, LARGE_LEGAL_FILES, buildFifoProbe, buildOnnxRuntimeRefusal, buildProbe } from '../../src/testing/hostile/files.js';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'lineage.js');
/** Generous caps, so the test cannot flake; bench:hostile measures the real costs. */
const WALL_CAP_MS = 30_000;
const HEAP_CAP_MB = 1024;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function lineage(...args: string[]): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`--max-old-space-size=${HEAP_CAP_MB}`, CLI, ...args],
      // The timeout kills a child that hangs on a FIFO, so a regression fails instead of stalling.
      { timeout: 2 * WALL_CAP_MS, maxBuffer: 1 << 28 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

/** The error line names `path` (or, for a folder, a file inside it) and nothing crashed. */
function expectRefusal(r: Run, path: string, problem: RegExp): void {
  expect(r.stderr).toContain(`lineage: ${path}`);
  expect(r.stderr).toMatch(problem);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.stderr).not.toMatch(/Maximum call stack|Invalid typed array length|heap out of memory/);
  expect(r.code).toBe(1);
  expect(r.ms).toBeLessThan(WALL_CAP_MS);
}

const root = mkdtempSync(join(tmpdir(), 'lineage-hostile-files-'));
// The large legal files take ~100 MB; symlinks are removed, never followed.
afterAll(() => rmSync(root, { recursive: true, force: true }));

function caseDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

describe('hostile files are refused by `lineage inspect`', () => {
  for (const c of FILES_HOSTILE_CASES) {
    it(
      `${c.name}: ${c.threat}`,
      async () => {
        const path = await c.build(caseDir(c.name));
        expectRefusal(await lineage('inspect', path), path, c.expect);
      },
      2 * WALL_CAP_MS,
    );
  }
});

describe('large legal files load with `lineage inspect`', () => {
  for (const c of LARGE_LEGAL_FILES) {
    it(
      `${c.name}: ${c.threat}`,
      async () => {
        const path = await c.build(caseDir(c.name));
        const r = await lineage('inspect', path);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^${c.tensors} tensors, `, 'm'));
        expect(r.ms).toBeLessThan(WALL_CAP_MS);
      },
      2 * WALL_CAP_MS,
    );
  }
});

describe('files read after the model', () => {
  it.skipIf(process.platform === 'win32')(
    'a probe .npy that is a FIFO is refused, not read forever',
    async () => {
      const dir = caseDir('probe-fifo');
      const probe = await buildFifoProbe(dir);
      expectRefusal(await lineage('features', join(dir, 'unread.safetensors'), '--probe', probe), probe, /is a FIFO \(named pipe\), not a regular file/);
    },
    2 * WALL_CAP_MS,
  );

  it(
    'an ONNX model that ONNX Runtime refuses is named in the error',
    async () => {
      const dir = caseDir('ort-refusal');
      const model = await buildOnnxRuntimeRefusal(dir);
      const probe = await buildProbe(dir, 'probe.npy', 1, 3);
      const r = await lineage('features', model, '--probe', probe);
      expectRefusal(r, `${model}: ONNX Runtime cannot load the model: `, /Gemm|dimension|shape/i);
    },
    2 * WALL_CAP_MS,
  );
});
