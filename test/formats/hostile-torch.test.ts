/**
 * The PyTorch reader against hostile files: each case of src/testing/hostile/torch.ts through the
 * built CLI as a user would run it, under caps on wall time and memory, and direct checks that
 * the defences leave legal files alone (strided and expanded views, tied weights, zip64 sizes).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTorchCheckpoint } from '../../src/formats/torch.js';
import { FormatError } from '../../src/formats/errors.js';
import { TORCH_HOSTILE_CASES } from '../../src/testing/hostile/torch.js';
import { expectRefusal, runCapped } from './hostile-cli.js';
import {
  PROTOCOL_2,
  centralHeader,
  concat,
  crc32Of,
  deflateRaw,
  endOfCentralDirectory,
  intTuple,
  latin1,
  localHeader,
  rebuildTensor,
  storagePid,
  u16,
  u64,
  unicode,
  zipArchive,
  type ZipFields,
  type ZipRecord,
} from '../../src/testing/hostile/torch-bytes.js';

const dir = mkdtempSync(join(tmpdir(), 'hostile-torch-'));

describe('hostile PyTorch checkpoints through `lineage inspect` (or `compare`, for damage found reading values)', () => {
  for (const hostile of TORCH_HOSTILE_CASES) {
    it(`${hostile.name}: refused quickly, naming the file`, async () => {
      const path = await hostile.build(dir);
      const run = hostile.command === 'compare' ? runCapped('compare', path, path) : runCapped('inspect', path);
      expectRefusal(await run, `${path}: `, hostile.expect);
    });
  }
});

function failure(bytes: Uint8Array, file: string): string {
  try {
    readTorchCheckpoint(bytes, file);
  } catch (err) {
    expect(err).toBeInstanceOf(FormatError);
    return (err as Error).message;
  }
  throw new Error('expected a FormatError');
}

function floats(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** A state dict {name: view} over one float storage '0' holding `storage`. */
function viewCheckpoint(storage: readonly number[], views: Record<string, { offset: number; shape: number[]; stride: number[] }>): Uint8Array {
  const pid = storagePid('FloatStorage', '0', storage.length);
  let items = '';
  for (const [name, { offset, shape, stride }] of Object.entries(views)) items += unicode(name) + rebuildTensor(pid, offset, intTuple(shape), intTuple(stride));
  return zipArchive([
    { name: 'archive/data.pkl', data: latin1(`${PROTOCOL_2}}(${items}u.`) },
    { name: 'archive/data/0', data: floats(storage) },
  ]);
}

const valuesOf = (bytes: Uint8Array, name: string): number[] => Array.from(readTorchCheckpoint(bytes, 'views.pt').weights.get(name)?.data as Float32Array);

describe('strided views that a careful reader still reads', () => {
  const twelve = Array.from({ length: 12 }, (_, i) => i);

  it('reads a non-contiguous view element by element', () => {
    // Element (i, j) is storage[1 + i + 4 j].
    const bytes = viewCheckpoint(twelve, { w: { offset: 1, shape: [3, 2], stride: [1, 4] } });
    expect(valuesOf(bytes, 'w')).toEqual([1, 5, 2, 6, 3, 7]);
  });

  it('ignores the strides of size-1 dimensions, however large', () => {
    const bytes = viewCheckpoint(twelve, { w: { offset: 1, shape: [3, 1, 2], stride: [1, 1_000_000, 4] } });
    expect(valuesOf(bytes, 'w')).toEqual([1, 5, 2, 6, 3, 7]);
  });

  it('reads a small expand() view, which repeats storage elements', () => {
    const bytes = viewCheckpoint([7, 8, 9], { w: { offset: 0, shape: [4, 3], stride: [0, 1] } });
    expect(valuesOf(bytes, 'w')).toEqual([7, 8, 9, 7, 8, 9, 7, 8, 9, 7, 8, 9]);
  });

  it('loads four tied copies of one storage without aliasing them', () => {
    const view = { offset: 0, shape: [12], stride: [1] };
    const { weights } = readTorchCheckpoint(viewCheckpoint(twelve, { a: view, b: view, c: view, d: view }), 'tied.pt');
    const buffers = new Set([...weights.values()].map((t) => t.data.buffer));
    expect(buffers.size).toBe(4);
    for (const t of weights.values()) expect(Array.from(t.data as Float32Array)).toEqual(twelve);
  });

  it('refuses a shape with more dimensions than any tensor has', () => {
    const bytes = viewCheckpoint([1], { w: { offset: 0, shape: new Array(65).fill(1), stride: new Array(65).fill(1) } });
    expect(failure(bytes, 'rank.pt')).toBe('rank.pt: a tensor in the pickle has 65 dimensions, more than the 64 supported');
  });
});

describe('zip records are checked before they are trusted', () => {
  const pickle = latin1(`${PROTOCOL_2}}${unicode('w')}${rebuildTensor(storagePid('FloatStorage', '0', 4), 0, intTuple([4]), intTuple([1]))}s.`);
  const storage = floats([1, 2, 3, 4]);
  const damaged = floats([1, 2, 3, 5]);
  const withStorage = (record: Omit<ZipRecord, 'name'>): Uint8Array =>
    zipArchive([
      { name: 'archive/data.pkl', data: pickle },
      { name: 'archive/data/0', ...record },
    ]);

  it('reads stored and deflated records whose CRC-32 matches', () => {
    for (const deflate of [false, true]) {
      const { weights } = readTorchCheckpoint(withStorage({ data: storage, deflate }), 'good.pt');
      expect(Array.from(weights.get('w')?.data as Float32Array)).toEqual([1, 2, 3, 4]);
    }
  });

  it('refuses a stored or deflated record whose CRC-32 does not match', () => {
    const crc = crc32Of(damaged);
    for (const deflate of [false, true]) {
      expect(failure(withStorage({ data: storage, deflate, lie: { crc } }), 'crc.pt')).toMatch(/^crc\.pt: zip record archive\/data\/0 fails its CRC-32 check/);
    }
  });

  it('refuses a deflated record that inflates to fewer bytes than it declares', () => {
    const record = { data: deflateRaw(storage), lie: { method: 8, size: 20, crc: crc32Of(storage) } };
    expect(failure(withStorage(record), 'short.pt')).toBe(
      'short.pt: zip record archive/data/0 inflates to 16 bytes, not the 20 it declares; the archive is corrupt',
    );
  });

  it('refuses a deflated record that declares more than deflate can expand to', () => {
    const record = { data: deflateRaw(storage), lie: { method: 8, size: 1 << 30, crc: crc32Of(storage) } };
    expect(failure(withStorage(record), 'bomb.pt')).toContain(
      'bomb.pt: corrupt or truncated zip archive: record archive/data/0 declares 1073741824 bytes inflated from',
    );
  });

  it('reads sizes and offsets from zip64 extra fields', () => {
    const records = [
      { name: 'archive/data.pkl', data: pickle },
      { name: 'archive/data/0', data: storage },
    ];
    const body: Uint8Array[] = [];
    const central: Uint8Array[] = [];
    let offset = 0;
    for (const { name, data } of records) {
      const fields: ZipFields = { name, method: 0, crc: crc32Of(data), compressedSize: data.length, size: data.length };
      const header = localHeader(fields);
      // All three 32-bit fields say "see the zip64 extra field", which holds them in this order.
      const zip64 = `\x01\x00${u16(24)}${u64(data.length)}${u64(data.length)}${u64(offset)}`;
      central.push(centralHeader({ ...fields, compressedSize: 0xffffffff, size: 0xffffffff }, 0xffffffff, zip64));
      body.push(header, data);
      offset += header.length + data.length;
    }
    const directory = concat(central);
    const bytes = concat([...body, directory, endOfCentralDirectory(central.length, directory.length, offset)]);
    expect(Array.from(readTorchCheckpoint(bytes, 'zip64.pt').weights.get('w')?.data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it('refuses a stored record whose two sizes disagree', () => {
    expect(failure(withStorage({ data: storage, lie: { size: 4096 } }), 'sizes.pt')).toBe(
      'sizes.pt: corrupt or truncated zip archive: stored record archive/data/0 declares 4096 bytes but holds 16',
    );
  });
});
