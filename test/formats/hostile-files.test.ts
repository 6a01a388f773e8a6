/**
 * Hostile and large-but-legal files for the safetensors, sharded safetensors, ONNX and .npy readers
 * and for file access itself, each run through the built CLI as a user would: hostile ones must be
 * refused quickly with the file named, large legal ones must load.
 */
import { afterAll, describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILES_HOSTILE_CASES, LARGE_LEGAL_FILES, buildFifoProbe, buildOnnxRuntimeRefusal, buildProbe } from '../../src/testing/hostile/files.js';
import { WALL_CAP_MS, expectRefusal, runCapped as lineage } from './hostile-cli.js';

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
