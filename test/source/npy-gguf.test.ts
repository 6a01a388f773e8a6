import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openModelSource } from '../../src/source/index.js';
import { FormatError } from '../../src/formats/errors.js';
import { writeNpy } from '../../src/formats/npy.js';
import { fromFloat32, shapeSize, type DType } from '../../src/tensor.js';
import { expectSameAsWholeRead } from './expect-source.js';

const GGUF_FIXTURES = resolve(import.meta.dirname, '../../fixtures/gguf');

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'source-npy-gguf-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('.npy model source', () => {
  const cases: [DType, number[]][] = [
    ['float32', [7, 5]],
    ['float16', [4, 3, 2]],
    ['float64', [6]],
    ['int64', [3, 2]],
    ['int32', []],
    ['uint8', [0, 4]],
    ['bool', [5, 1]],
  ];
  for (const [dtype, shape] of cases) {
    it(`reads a ${dtype} array of shape [${shape}] as reading it whole does`, async () => {
      const path = join(dir, `${dtype}.npy`);
      const values = Float32Array.from({ length: shapeSize(shape) }, (_, i) => (i % 5) - 2 + 0.25 * i);
      await writeNpy(path, fromFloat32(dtype, shape, values));
      const source = await openModelSource(path);
      try {
        expect(source.tensors.map((t) => t.name)).toEqual([dtype]);
        await expectSameAsWholeRead(source, path);
      } finally {
        await source.close();
      }
    });
  }

  it('refuses a truncated array, naming the file', async () => {
    const path = join(dir, 'cut.npy');
    await writeNpy(path, fromFloat32('float32', [4, 4], new Float32Array(16)));
    const bytes = await fs.readFile(path);
    await fs.writeFile(path, bytes.subarray(0, bytes.length - 4));
    await expect(openModelSource(path)).rejects.toThrow(new FormatError(path, 'truncated .npy data: shape [4,4] needs 64 bytes, file has 60'));
  });
});

describe('GGUF model source', () => {
  const files = readdirSync(GGUF_FIXTURES).filter((name) => name.endsWith('.gguf'));

  it('has fixtures of every kind to read', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  for (const name of files) {
    it(`${name}: lists and reads (whole and by rows) as reading it whole does`, async () => {
      const path = join(GGUF_FIXTURES, name);
      const source = await openModelSource(path);
      try {
        expect(source.format).toBe('gguf');
        await expectSameAsWholeRead(source, path);
      } finally {
        await source.close();
      }
    });
  }

  it('reads rows of a 3-d quantised tensor as whole ggml rows', async () => {
    const source = await openModelSource(join(GGUF_FIXTURES, 'q4_0.gguf'));
    try {
      const tensor = source.tensors.find((t) => t.name === 'random_blocks');
      expect(tensor?.shape).toEqual([2, 2, 32]);
      const whole = await source.readFloat32('random_blocks');
      expect([...(await source.readRows('random_blocks', 1, 1))]).toEqual([...whole.subarray(64, 128)]);
    } finally {
      await source.close();
    }
  });
});
