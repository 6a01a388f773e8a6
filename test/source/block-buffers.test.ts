/**
 * bf16 and float32 safetensors rows are read into reusable blocks, bf16 widened in place. Checked
 * against bit patterns written by hand (every bf16 is a float32 whose low 16 bits are zero), and
 * the reuse itself: a block handed back is reused, with fresh values, and nothing else is taken.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelSource } from '../../src/source/index.js';
import { blockBuffer, recycleFloat32 } from '../../src/source/block-buffers.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'source-block-buffers-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

// 1, -0.5, -0, +inf, NaN with a payload, the smallest subnormal, the largest finite, 3.140625.
const BF16_BITS = [0x3f80, 0xbf00, 0x8000, 0x7f80, 0x7fc1, 0x0001, 0x7f7f, 0x4049];
const ROWS = 4;
const COLS = 6;

/** A safetensors file holding a [4, 6] BF16 tensor (the pattern repeated) and a [4, 6] F32 one. */
async function writeFile(path: string): Promise<{ bf16: number[]; f32: number[] }> {
  const n = ROWS * COLS;
  const bf16 = Array.from({ length: n }, (_, i) => BF16_BITS[i % BF16_BITS.length] ^ (i >= BF16_BITS.length ? 0x8000 : 0));
  const f32 = Array.from({ length: n }, (_, i) => (0x3f800000 + i * 0x1234567) >>> 0);
  const header = {
    half: { dtype: 'BF16', shape: [ROWS, COLS], data_offsets: [0, 2 * n] },
    full: { dtype: 'F32', shape: [ROWS, COLS], data_offsets: [2 * n, 6 * n] },
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + 6 * n);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  const data = 8 + json.length;
  bf16.forEach((bits, i) => view.setUint16(data + 2 * i, bits, true));
  f32.forEach((bits, i) => view.setUint32(data + 2 * n + 4 * i, bits, true));
  await fs.writeFile(path, bytes);
  return { bf16, f32 };
}

function bitsOf(values: Float32Array): number[] {
  return [...new Uint32Array(values.buffer, values.byteOffset, values.length)];
}

describe('reusable row blocks', () => {
  it('widens bf16 rows in place to the float32 with the same high 16 bits, NaN payloads and -0 kept', async () => {
    const path = join(dir, 'pattern.safetensors');
    const { bf16, f32 } = await writeFile(path);
    const source = await openModelSource(path);
    try {
      for (const [start, count] of [
        [0, ROWS],
        [1, 2],
        [3, 1],
        [2, 0],
      ]) {
        const rows = bf16.slice(start * COLS, (start + count) * COLS);
        expect(bitsOf(await source.readRows('half', start, count))).toEqual(rows.map((b) => (b << 16) >>> 0));
        expect(bitsOf(await source.readRows('full', start, count))).toEqual(f32.slice(start * COLS, (start + count) * COLS));
      }
    } finally {
      await source.close();
    }
  });

  it('reuses a block handed back, with the new rows in it and none of the old', async () => {
    const path = join(dir, 'reuse.safetensors');
    const { bf16 } = await writeFile(path);
    const source = await openModelSource(path);
    try {
      const first = await source.readRows('half', 0, 2);
      const firstBuffer = first.buffer;
      recycleFloat32(first);
      const second = await source.readRows('half', 2, 2);
      expect(second.buffer).toBe(firstBuffer);
      expect(bitsOf(second)).toEqual(bf16.slice(2 * COLS, 4 * COLS).map((b) => (b << 16) >>> 0));
    } finally {
      await source.close();
    }
  });

  it('takes back only the blocks it made, and each once', () => {
    const foreign = new Float32Array(10);
    recycleFloat32(foreign);
    expect(blockBuffer(40)).not.toBe(foreign.buffer);
    const made = new Float32Array(blockBuffer(44));
    recycleFloat32(made);
    recycleFloat32(made);
    expect(blockBuffer(44)).toBe(made.buffer);
    expect(blockBuffer(44)).not.toBe(made.buffer);
  });
});
