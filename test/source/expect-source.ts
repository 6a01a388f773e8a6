/**
 * Checks a model source against reading the same file whole (test/formats/whole-file.ts, built
 * from the per-format parsers): same names, dtypes and shapes in the same order, the same float32
 * values bit for bit, and row ranges equal to slices of the whole read.
 */
import { expect } from 'vitest';
import { listWholeFile, readWholeFile } from '../formats/whole-file.js';
import type { ModelSource } from '../../src/source/types.js';
import { toFloat32, type Tensor } from '../../src/tensor.js';

/** Index of the first element whose float32 bits differ (NaN payloads included), or -1. */
export function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

export function expectSameFloats(actual: Float32Array, expected: Float32Array, what: string): void {
  expect({ what, length: actual.length }).toEqual({ what, length: expected.length });
  expect({ what, firstDifference: firstDifference(actual, expected) }).toEqual({ what, firstDifference: -1 });
}

/** Row ranges worth reading from a tensor of `rows` rows: empty, first, last, middle, all. */
export function rowRanges(rows: number): [number, number][] {
  const ranges: [number, number][] = [
    [0, 0],
    [0, rows],
  ];
  if (rows >= 1) ranges.push([0, 1], [rows - 1, 1]);
  if (rows >= 3) ranges.push([1, rows - 2], [Math.floor(rows / 2), 1]);
  if (rows >= 5) ranges.push([2, 3]);
  return ranges;
}

/** Compares every tensor's values and row ranges with `whole`, the tensors read whole by the existing readers. */
export async function expectValuesMatch(source: ModelSource, whole: ReadonlyMap<string, Tensor>): Promise<void> {
  expect(source.tensors.map((t) => t.name)).toEqual([...whole.keys()]);
  for (const info of source.tensors) {
    const t = whole.get(info.name) as Tensor;
    if (t.dtype === 'bool') {
      // Flags, not numbers: the interface refuses them, naming the file.
      await expect(source.readFloat32(info.name)).rejects.toThrow(`${source.file}: tensor "${info.name}" is bool, not numeric data`);
      await expect(source.readRows(info.name, 0, 0)).rejects.toThrow(`${source.file}: tensor "${info.name}" is bool, not numeric data`);
      continue;
    }
    const expected = toFloat32(t);
    expectSameFloats(await source.readFloat32(info.name), expected, info.name);
    const rows = t.shape.length === 0 ? 1 : t.shape[0];
    const perRow = rows === 0 ? 0 : expected.length / rows;
    for (const [start, count] of rowRanges(rows)) {
      const slice = expected.subarray(start * perRow, (start + count) * perRow);
      expectSameFloats(await source.readRows(info.name, start, count), slice, `${info.name} rows ${start}+${count}`);
    }
  }
}

/** The source lists what listWholeFile lists and reads what readWholeFile reads. */
export async function expectSameAsWholeRead(source: ModelSource, file: string): Promise<void> {
  const listing = await listWholeFile(file);
  expect(source.format).toBe(listing.format);
  expect(source.metadata).toEqual(listing.metadata);
  expect(source.tensors.map(({ name, dtype, shape, bytes }) => ({ name, dtype, shape: [...shape], bytes }))).toEqual(listing.tensors);
  await expectValuesMatch(source, (await readWholeFile(file)).weights);
}
