/**
 * Opening a model reads headers only, and a row range reads only its rows: a safetensors file with
 * a 4 GiB bf16 tensor (sparse on disk, so the test costs no disk space) opens and yields row ranges
 * from its start, middle and end while memory grows by far less than one read of it would take.
 * The caps are generous so the test cannot flake; exact costs are measured by a benchmark.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelSource } from '../../src/source/index.js';

const ROWS = 65536;
const COLUMNS = 32768;
const DATA_BYTES = ROWS * COLUMNS * 2; // 4 GiB of bf16
const MEMORY_CAP = 1024 * 1024 * 1024;
const TIME_CAP_MS = 30_000;

let dir: string;
let path: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'source-memory-'));
  path = join(dir, 'huge.safetensors');
  const header = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'BF16', shape: [ROWS, COLUMNS], data_offsets: [0, DATA_BYTES] } }));
  const prefix = new Uint8Array(8 + header.length);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);
  prefix.set(header, 8);
  const handle = await fs.open(path, 'w');
  try {
    await handle.write(prefix);
    // The data area is a hole: bf16 zeros, read back without taking any disk space.
    await handle.truncate(prefix.length + DATA_BYTES);
    // One non-zero value (bf16 1.0 = 0x3f80) in the last row, so the read is seen to reach it.
    await handle.write(Uint8Array.from([0x80, 0x3f]), 0, 2, prefix.length + DATA_BYTES - 2);
  } finally {
    await handle.close();
  }
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('memory of a model source', () => {
  it('opens a 4 GiB bf16 tensor and reads row ranges from it without reading it', async () => {
    const started = performance.now();
    const before = process.memoryUsage().rss;
    const source = await openModelSource(path);
    try {
      expect(source.tensors).toEqual([{ name: 'w', dtype: 'bfloat16', shape: [ROWS, COLUMNS], bytes: DATA_BYTES }]);
      const afterOpen = process.memoryUsage().rss;
      for (const start of [0, ROWS / 2, ROWS - 16]) {
        const rows = await source.readRows('w', start, 16);
        expect(rows.length).toBe(16 * COLUMNS);
        const last = start === ROWS - 16 ? 1 : 0;
        expect([rows[0], rows[rows.length - 1]]).toEqual([0, last]);
      }
      const afterRows = process.memoryUsage().rss;
      expect({ openGrowth: afterOpen - before < MEMORY_CAP, readGrowth: afterRows - before < MEMORY_CAP }).toEqual({ openGrowth: true, readGrowth: true });
    } finally {
      await source.close();
    }
    expect(performance.now() - started).toBeLessThan(TIME_CAP_MS);
  });
});
