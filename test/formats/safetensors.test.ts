import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DTYPES, fromFloat32, makeTensor, shapeSize, tensorsIdentical, toFloat32, type DType, type Tensor, type Weights } from '../../src/tensor.js';
import { FormatError } from '../../src/formats/errors.js';
import {
  SafetensorsFile,
  listShardedSafetensors,
  parseSafetensors,
  readShardedSafetensors,
  readShardedSafetensorsHeader,
  readSafetensorsFile,
  serializeSafetensors,
  writeSafetensors,
} from '../../src/formats/safetensors.js';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures/formats');

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'safetensors-test-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

// --- helpers (independent of the code under test) ---------------------------------------------

/** Deterministic, varied values of the dtype (negative values wrap for uint8, as torch would). */
function sample(dtype: DType, shape: number[], seed = 1): Tensor {
  const n = shapeSize(shape);
  const values = Float32Array.from({ length: n }, (_, i) => ((i * 7 + seed * 3) % 11) - 5 + 0.375 * i);
  return fromFloat32(dtype, shape, values);
}

/** A safetensors file built from a literal header string and data bytes, with no writer involved. */
function rawFile(header: string | Uint8Array, data: Uint8Array | number = 0, declaredLength?: bigint): Uint8Array {
  const json = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.byteLength + body.byteLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(body, 8 + json.byteLength);
  return out;
}

function headerOf(bytes: Uint8Array): { length: number; text: string } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { length, text: new TextDecoder().decode(bytes.subarray(8, 8 + length)) };
}

function formatErrorFrom(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FormatError);
    return err as FormatError;
  }
  throw new Error('expected a FormatError');
}

async function asyncFormatErrorFrom(fn: () => Promise<unknown>): Promise<FormatError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FormatError);
    return err as FormatError;
  }
  throw new Error('expected a FormatError');
}

function expectSameWeights(actual: Weights, expected: Weights): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, t] of expected) {
    const got = actual.get(name)!;
    expect({ name, dtype: got.dtype, shape: got.shape }).toEqual({ name, dtype: t.dtype, shape: t.shape });
    expect(tensorsIdentical(got, t), name).toBe(true);
  }
}

/** Tensors of every dtype with a matrix, a 0-d scalar and a zero-size tensor each. */
function everyDtype(): Weights {
  const weights: Weights = new Map();
  DTYPES.forEach((dtype, k) => {
    weights.set(`${dtype}.matrix`, sample(dtype, [2, 3], k));
    weights.set(`${dtype}.scalar`, sample(dtype, [], k + 5));
    weights.set(`${dtype}.empty`, sample(dtype, [0, 3]));
  });
  // Bit patterns a lossy path would change: NaN payloads, -0, extreme integers.
  weights.set('nan.float32', makeTensor('float32', [3], new Float32Array(new Uint32Array([0x7fc00001, 0xff800000, 0x80000000]).buffer)));
  weights.set('nan.float16', makeTensor('float16', [3], Uint16Array.from([0x7e01, 0xfc00, 0x8000])));
  weights.set('nan.bfloat16', makeTensor('bfloat16', [2], Uint16Array.from([0x7fc1, 0x0001])));
  weights.set('big.int64', makeTensor('int64', [3], BigInt64Array.from([2n ** 62n + 1n, -(2n ** 63n), 2n ** 63n - 1n])));
  weights.set('edge.int32', makeTensor('int32', [2], Int32Array.from([-(2 ** 31), 2 ** 31 - 1])));
  weights.set('odd.bool', makeTensor('bool', [4], Uint8Array.from([1, 0, 0, 1])));
  return weights;
}

// --- round trips --------------------------------------------------------------------------------

describe('safetensors round trip', () => {
  it('serialize -> parse keeps every dtype, scalars and zero-size tensors bit for bit', () => {
    const weights = everyDtype();
    const { metadata, weights: back } = parseSafetensors(serializeSafetensors(weights));
    expect(metadata).toEqual({});
    expectSameWeights(back, weights);
  });

  it('writeSafetensors -> readSafetensorsFile keeps every dtype and the metadata', async () => {
    const weights = everyDtype();
    const path = join(dir, 'every.safetensors');
    const metadata = { format: 'pt', 'note "quoted"': 'h\u00e9llo \u2713', '10': 'integer-like key' };
    await writeSafetensors(path, weights, metadata);
    const file = await readSafetensorsFile(path);
    expect(file.file).toBe(path);
    expect(file.format).toBe('safetensors');
    expect(file.metadata).toEqual(metadata);
    expectSameWeights(file.weights, weights);
    expect((await fs.readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps insertion order, even for integer-like names that a JS object would move first', () => {
    const weights: Weights = new Map([
      ['b', sample('float32', [2])],
      ['10', sample('uint8', [3])],
      ['2', sample('int64', [1])],
      ['a', sample('float16', [2])],
    ]);
    const bytes = serializeSafetensors(weights);
    expect([...parseSafetensors(bytes).weights.keys()]).toEqual(['b', '10', '2', 'a']);
    const { text } = headerOf(bytes);
    const order = ['"b"', '"10"', '"2"', '"a"'].map((key) => text.indexOf(`${key}:`));
    expect(order).toEqual([...order].sort((x, y) => x - y));
  });

  it('writes __metadata__ only when given and rejects non-string metadata values', () => {
    const weights: Weights = new Map([['w', sample('float32', [1])]]);
    expect(headerOf(serializeSafetensors(weights)).text).not.toContain('__metadata__');
    expect(JSON.parse(headerOf(serializeSafetensors(weights, {})).text).__metadata__).toEqual({});
    expect(() => serializeSafetensors(weights, { epochs: 3 } as unknown as Record<string, string>)).toThrow(/metadata value for "epochs" must be a string/);
    expect(() => serializeSafetensors(new Map([['__metadata__', sample('float32', [1])]]))).toThrow(/__metadata__/);
  });

  it('rejects a tensor whose data does not match its shape', () => {
    const bad = { dtype: 'float32', shape: [2, 2], data: new Float32Array(3) } as Tensor;
    expect(() => serializeSafetensors(new Map([['bad', bad]]))).toThrow(/"bad"/);
  });
});

// --- byte layout ----------------------------------------------------------------------------------

describe('safetensors byte layout', () => {
  it('matches a hand-built file byte for byte', () => {
    const weights: Weights = new Map([['a', makeTensor('float32', [2], Float32Array.from([1, -2]))]]);
    // {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} is 54 bytes; 2 spaces pad it to 56.
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  ';
    const expected = [
      ...[56, 0, 0, 0, 0, 0, 0, 0],
      ...header.split('').map((c) => c.charCodeAt(0)),
      ...[0x00, 0x00, 0x80, 0x3f], // 1.0f
      ...[0x00, 0x00, 0x00, 0xc0], // -2.0f
    ];
    expect(Array.from(serializeSafetensors(weights))).toEqual(expected);
  });

  it('matches a hand-built file with metadata and two dtypes', () => {
    const weights: Weights = new Map<string, Tensor>([
      ['m', makeTensor('uint8', [1], Uint8Array.from([7]))],
      ['s', makeTensor('int32', [], Int32Array.from([-1]))],
    ]);
    // Counted by hand: 130 bytes of JSON, padded with 6 spaces to 136 = 0x88.
    const json = '{"__metadata__":{"k":"v"},"m":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"s":{"dtype":"I32","shape":[],"data_offsets":[1,5]}}';
    expect(json.length).toBe(130);
    const header = json + ' '.repeat(6);
    const expected = [...[0x88, 0, 0, 0, 0, 0, 0, 0], ...header.split('').map((c) => c.charCodeAt(0)), 7, 0xff, 0xff, 0xff, 0xff];
    expect(Array.from(serializeSafetensors(weights, { k: 'v' }))).toEqual(expected);
  });

  it('pads the header with spaces so that 8 + N is a multiple of 8, counting UTF-8 bytes', () => {
    for (let extra = 0; extra < 10; extra++) {
      const name = `\u00e9${'x'.repeat(extra)}`; // 2 UTF-8 bytes for one UTF-16 unit
      const bytes = serializeSafetensors(new Map([[name, sample('int32', [extra])]]));
      const { length, text } = headerOf(bytes);
      expect((8 + length) % 8).toBe(0);
      const json = text.trimEnd();
      const padding = length - new TextEncoder().encode(json).byteLength;
      expect(padding).toBeGreaterThanOrEqual(0);
      expect(padding).toBeLessThan(8);
      expect(text.slice(json.length)).toBe(' '.repeat(padding));
      expect(Object.keys(JSON.parse(json) as object)).toEqual([name]);
      expect(bytes.byteLength).toBe(8 + length + 4 * extra);
    }
  });
});

// --- reading ---------------------------------------------------------------------------------------

describe('parseSafetensors', () => {
  it('returns tensors in data order even when the JSON keys come in another order', () => {
    const header = '{"late":{"dtype":"U8","shape":[1],"data_offsets":[4,5]},"early":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}';
    const { weights } = parseSafetensors(rawFile(header, Uint8Array.from([1, 0, 0, 0, 9])));
    expect([...weights.keys()]).toEqual(['early', 'late']);
    expect(Array.from(weights.get('early')!.data as Int32Array)).toEqual([1]);
    expect(Array.from(weights.get('late')!.data as Uint8Array)).toEqual([9]);
  });

  it('views aligned tensors in place and copies only misaligned ones', () => {
    const bytes = serializeSafetensors(
      new Map<string, Tensor>([
        ['aligned', sample('float32', [4])],
        ['odd', sample('uint8', [3])],
        ['misaligned', sample('float32', [2])],
      ]),
    );
    const { weights } = parseSafetensors(bytes);
    expect(weights.get('aligned')!.data.buffer).toBe(bytes.buffer);
    expect(weights.get('misaligned')!.data.buffer).not.toBe(bytes.buffer);
    expect(tensorsIdentical(weights.get('misaligned')!, sample('float32', [2]))).toBe(true);
  });

  it('accepts an empty header and zero-size tensors sharing an offset', () => {
    expect(parseSafetensors(rawFile('{}')).weights.size).toBe(0);
    const header =
      '{"z1":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"z2":{"dtype":"F64","shape":[3,0],"data_offsets":[2,2]}}';
    const { weights } = parseSafetensors(rawFile(header, 2));
    expect([...weights.keys()]).toEqual(['z1', 'a', 'z2']);
    expect(weights.get('z2')!.shape).toEqual([3, 0]);
  });
});

describe('safetensors fixture written by an independent Python script', () => {
  interface Expected {
    metadata: Record<string, string>;
    tensors: { name: string; dtype: DType; shape: number[]; values: (number | string)[] }[];
  }
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'tiny.expected.json'), 'utf8')) as Expected;
  const path = join(FIXTURES, 'tiny.safetensors');

  function checkAgainstExpected(metadata: Record<string, string>, weights: Weights): void {
    expect(metadata).toEqual(expected.metadata);
    expect([...weights.keys()]).toEqual(expected.tensors.map((t) => t.name));
    for (const e of expected.tensors) {
      const t = weights.get(e.name)!;
      expect({ name: e.name, dtype: t.dtype, shape: t.shape }).toEqual({ name: e.name, dtype: e.dtype, shape: e.shape });
      if (t.dtype === 'int64') expect(Array.from(t.data as BigInt64Array, String)).toEqual(e.values);
      else if (t.dtype === 'float16' || t.dtype === 'bfloat16') expect(Array.from(toFloat32(t))).toEqual(e.values);
      else expect(Array.from(t.data as Float64Array | Float32Array | Int32Array | Uint8Array)).toEqual(e.values);
    }
  }

  it('parses the whole buffer', () => {
    const { metadata, weights } = parseSafetensors(readFileSync(path), path);
    checkAgainstExpected(metadata, weights);
  });

  it('reads it through a file descriptor, whole and tensor by tensor', async () => {
    const file = await readSafetensorsFile(path);
    checkAgainstExpected(file.metadata, file.weights);
    const st = await SafetensorsFile.open(path);
    try {
      expect(st.tensors.map((t) => t.name)).toEqual(expected.tensors.map((t) => t.name));
      expect(st.tensors.find((t) => t.name === 'conv.weight')).toEqual({ name: 'conv.weight', dtype: 'float32', shape: [2, 3], bytes: 24 });
      const whole = parseSafetensors(readFileSync(path)).weights;
      for (const name of [...whole.keys()].reverse()) expect(tensorsIdentical(await st.read(name), whole.get(name)!), name).toBe(true);
    } finally {
      await st.close();
    }
  });
});

describe('SafetensorsFile', () => {
  it('reads one tensor from its byte range equal to parsing the whole buffer', async () => {
    const weights = everyDtype();
    const path = join(dir, 'fd.safetensors');
    await writeSafetensors(path, weights, { a: 'b' });
    const whole = parseSafetensors(await fs.readFile(path));
    const st = await SafetensorsFile.open(path);
    try {
      expect(st.file).toBe(path);
      expect(st.metadata).toEqual({ a: 'b' });
      expect(st.tensors.map((t) => t.name)).toEqual([...weights.keys()]);
      expect(st.tensors[0]).toEqual({ name: 'float32.matrix', dtype: 'float32', shape: [2, 3], bytes: 24 });
      const one = await st.read('int64.matrix');
      expect(tensorsIdentical(one, whole.weights.get('int64.matrix')!)).toBe(true);
      expectSameWeights(await st.readAll(), whole.weights);
      const missing = await asyncFormatErrorFrom(() => st.read('nope'));
      expect(missing.message).toBe(`${path}: no tensor named "nope"`);
    } finally {
      await st.close();
    }
    await st.close(); // closing twice is harmless
    expect((await asyncFormatErrorFrom(() => st.read('uint8.matrix'))).problem).toMatch(/closed/);
  });

  it('lists and reads a small tensor of a 3 GB sparse file without loading the big one', async () => {
    const path = join(dir, 'huge.safetensors');
    const big = 3_000_000_000;
    const json = JSON.stringify({
      __metadata__: { format: 'pt' },
      small: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      huge: { dtype: 'U8', shape: [big / 1000, 1000], data_offsets: [16, 16 + big] },
    });
    const small = Float32Array.from([1.5, -2, 0.25, 8]);
    await fs.writeFile(path, rawFile(json, new Uint8Array(small.buffer)));
    const size = 8 + json.length + 16 + big;
    await fs.truncate(path, size); // a hole, not 3 GB of disk
    expect((await fs.stat(path)).size).toBe(size);

    const before = process.memoryUsage();
    const st = await SafetensorsFile.open(path);
    try {
      expect(st.tensors).toEqual([
        { name: 'small', dtype: 'float32', shape: [4], bytes: 16 },
        { name: 'huge', dtype: 'uint8', shape: [big / 1000, 1000], bytes: big },
      ]);
      const t = await st.read('small');
      expect(Array.from(t.data as Float32Array)).toEqual([1.5, -2, 0.25, 8]);
    } finally {
      await st.close();
    }
    // How long this takes is measured by bench/formats.mjs, not asserted here.
    const after = process.memoryUsage();
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(16 * 2 ** 20);
    expect(after.rss - before.rss).toBeLessThan(200 * 2 ** 20);
    await fs.rm(path);
  });

  it('reports a file that shrank after it was opened', async () => {
    const path = join(dir, 'shrinks.safetensors');
    await writeSafetensors(path, new Map([['w', sample('float64', [16])]]));
    const st = await SafetensorsFile.open(path);
    try {
      await fs.truncate(path, (await fs.stat(path)).size - 8);
      const err = await asyncFormatErrorFrom(() => st.read('w'));
      expect(err.file).toBe(path);
      expect(err.problem).toMatch(/file ended .* tensor "w"/);
    } finally {
      await st.close();
    }
  });

  it('names the file when it is missing, truncated or corrupt', async () => {
    const missing = join(dir, 'missing.safetensors');
    expect((await asyncFormatErrorFrom(() => SafetensorsFile.open(missing))).message).toBe(`${missing}: cannot read file (ENOENT)`);

    const short = join(dir, 'short.safetensors');
    await fs.writeFile(short, Uint8Array.from([1, 2, 3]));
    expect((await asyncFormatErrorFrom(() => SafetensorsFile.open(short))).problem).toMatch(/truncated/);

    const cut = join(dir, 'cut.safetensors');
    const full = serializeSafetensors(new Map([['w', sample('float32', [8])]]));
    await fs.writeFile(cut, full.subarray(0, full.byteLength - 4));
    const err = await asyncFormatErrorFrom(() => readSafetensorsFile(cut));
    expect(err.file).toBe(cut);
    expect(err.problem).toMatch(/tensor "w" data_offsets \[0,32\] run past the end of the 28-byte data area \(truncated file\?\)/);
  });
});

// --- hostile input ----------------------------------------------------------------------------------

describe('hostile safetensors input', () => {
  const FILE = 'bad.safetensors';
  const entry = (fields: Record<string, unknown>): string => JSON.stringify({ t: fields });
  const f32x2 = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

  const cases: [string, Uint8Array, RegExp][] = [
    ['an empty file', new Uint8Array(0), /truncated: 0 bytes is too short/],
    ['a 7-byte file', new Uint8Array(7), /truncated: 7 bytes is too short/],
    ['a header length past the end of the file', rawFile('{}', 0, 1000n), /header length 1000 runs past the end of the 10-byte file/],
    ['a header length over the 100 MB cap', rawFile('{}', 0, 100_000_001n), /header length 100000001 is larger than the 100000000-byte limit/],
    ['an absurd u64 header length', rawFile('{}', 0, 2n ** 64n - 1n), /header length 18446744073709551615 is larger than/],
    ['a header that is not UTF-8', rawFile(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])), /not valid UTF-8/],
    ['malformed JSON', rawFile('{"t":'), /not valid JSON/],
    ['a JSON array header', rawFile('[1,2]'), /header must be a JSON object/],
    ['a JSON null header', rawFile('null'), /header must be a JSON object/],
    ['an entry that is not an object', rawFile('{"t":5}'), /tensor "t": entry must be an object/],
    ['a missing dtype', rawFile(entry({ shape: [2], data_offsets: [0, 8] }), 8), /tensor "t": missing dtype/],
    ['a missing shape', rawFile(entry({ dtype: 'F32', data_offsets: [0, 8] }), 8), /tensor "t": missing shape/],
    ['missing data_offsets', rawFile(entry({ dtype: 'F32', shape: [2] }), 8), /tensor "t": missing data_offsets/],
    ['a dtype that is not a string', rawFile(entry({ ...f32x2, dtype: 4 }), 8), /tensor "t": dtype must be a string/],
    ['an unknown dtype', rawFile(entry({ ...f32x2, dtype: 'F4' }), 8), /unknown dtype F4 for tensor "t"/],
    ['a valid safetensors dtype we lack', rawFile(entry({ ...f32x2, dtype: 'U64' }), 8), /unknown dtype U64 for tensor "t"/],
    ['a shape that is not an array', rawFile(entry({ ...f32x2, shape: '2' }), 8), /shape must be an array/],
    ['a negative dimension', rawFile(entry({ ...f32x2, shape: [-2] }), 8), /shape \[-2\] has a dimension that is not a non-negative integer/],
    ['a fractional dimension', rawFile(entry({ ...f32x2, shape: [1.5] }), 8), /not a non-negative integer/],
    ['a string dimension', rawFile(entry({ ...f32x2, shape: ['2'] }), 8), /not a non-negative integer/],
    ['an overflowing shape', rawFile(entry({ ...f32x2, shape: [2 ** 30, 2 ** 30, 2 ** 30] }), 8), /too many elements/],
    ['one data offset', rawFile(entry({ ...f32x2, data_offsets: [0] }), 8), /data_offsets must be two non-negative integers/],
    ['three data offsets', rawFile(entry({ ...f32x2, data_offsets: [0, 8, 8] }), 8), /data_offsets must be two/],
    ['a negative offset', rawFile(entry({ ...f32x2, data_offsets: [-8, 0] }), 8), /data_offsets must be two/],
    ['a fractional offset', rawFile(entry({ ...f32x2, data_offsets: [0.5, 8.5] }), 9), /data_offsets must be two/],
    ['a string of offsets', rawFile(entry({ ...f32x2, data_offsets: '0,8' }), 8), /data_offsets must be two/],
    ['an offset past 2^53', rawFile('{"t":{"dtype":"U8","shape":[0],"data_offsets":[18446744073709551616,18446744073709551616]}}'), /data_offsets must be two/],
    ['begin after end', rawFile(entry({ ...f32x2, data_offsets: [8, 0] }), 8), /data_offsets \[8,0\] end before they begin/],
    [
      'a byte count that does not match dtype and shape',
      rawFile(entry({ ...f32x2, data_offsets: [0, 4] }), 4),
      /F32 shape \[2\] needs 8 bytes but data_offsets \[0,4\] span 4/,
    ],
    ['offsets outside the data area', rawFile(entry({ ...f32x2, data_offsets: [8, 16] }), 8), /data_offsets \[8,16\] run past the end of the 8-byte data area/],
    ['data cut short after a valid header', rawFile(entry(f32x2), 5), /run past the end of the 5-byte data area \(truncated file\?\)/],
    [
      'overlapping tensors',
      rawFile(JSON.stringify({ a: f32x2, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }), 12),
      /tensor "b" data_offsets \[4,12\] overlap tensor "a" \[0,8\]/,
    ],
    [
      'a hole between tensors',
      rawFile(JSON.stringify({ a: f32x2, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } }), 16),
      /data bytes \[8,12\) belong to no tensor \(hole before tensor "b"\)/,
    ],
    ['a hole before the first tensor', rawFile(entry({ ...f32x2, data_offsets: [4, 12] }), 12), /data bytes \[0,4\) belong to no tensor/],
    ['trailing bytes after the last tensor', rawFile(entry(f32x2), 12), /data area has 12 bytes but tensors cover only 8 \(trailing bytes\)/],
    ['metadata that is not an object', rawFile('{"__metadata__":["x"]}'), /__metadata__ must be an object of strings/],
    ['a metadata value that is not a string', rawFile('{"__metadata__":{"epochs":3}}'), /__metadata__ value for "epochs" must be a string, got 3/],
  ];

  it.each(cases)('rejects %s with a FormatError naming the file', (_label, bytes, problem) => {
    const err = formatErrorFrom(() => parseSafetensors(bytes, FILE));
    expect(err.file).toBe(FILE);
    expect(err.message.startsWith(`${FILE}: `)).toBe(true);
    expect(err.problem).toMatch(problem);
  });

  it('rejects the same inputs when opened from disk', async () => {
    for (const [label, bytes, problem] of cases) {
      const path = join(dir, 'hostile.safetensors');
      await fs.writeFile(path, bytes);
      const err = await asyncFormatErrorFrom(() => SafetensorsFile.open(path));
      expect({ label, file: err.file }).toEqual({ label, file: path });
      expect(err.problem, label).toMatch(problem);
    }
  });

  it('keeps a "__proto__" metadata key as plain data', () => {
    const { metadata } = parseSafetensors(rawFile('{"__metadata__":{"__proto__":"x","k":"v"}}'));
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(Object.entries(metadata)).toEqual([
      ['__proto__', 'x'],
      ['k', 'v'],
    ]);
  });
});

// --- sharded checkpoints -------------------------------------------------------------------------------

describe('sharded safetensors', () => {
  const shard1: Weights = new Map<string, Tensor>([
    ['embed.weight', sample('float32', [4, 2])],
    ['layer.0.bias', sample('bfloat16', [2])],
  ]);
  const shard2: Weights = new Map<string, Tensor>([
    ['layer.0.weight', sample('float16', [2, 2])],
    ['head.weight', sample('int64', [3])],
  ]);
  const S1 = 'model-00001-of-00002.safetensors';
  const S2 = 'model-00002-of-00002.safetensors';
  let folder: string;

  async function writeIndex(name: string, index: unknown): Promise<string> {
    const path = join(folder, name);
    await fs.writeFile(path, typeof index === 'string' ? index : JSON.stringify(index));
    return path;
  }

  beforeAll(async () => {
    folder = join(dir, 'sharded');
    await writeSafetensors(join(folder, S1), shard1, { format: 'pt' });
    await writeSafetensors(join(folder, S2), shard2, { format: 'pt', shard: '2' });
  });

  // Interleaved so that weight_map order differs from shard order.
  const weightMap = { 'layer.0.weight': S2, 'embed.weight': S1, 'head.weight': S2, 'layer.0.bias': S1 };

  it('reads tensors in weight_map order, opening each shard once', async () => {
    const path = await writeIndex('model.safetensors.index.json', { metadata: { total_size: 1234 }, weight_map: weightMap });
    const open = vi.spyOn(SafetensorsFile, 'open');
    try {
      const file = await readShardedSafetensors(path);
      expect(open).toHaveBeenCalledTimes(2);
      expect(file.file).toBe(path);
      expect(file.format).toBe('safetensors-sharded');
      expect(file.metadata).toEqual({ format: 'pt', shard: '2', total_size: '1234' });
      const all = new Map([...shard1, ...shard2]);
      expectSameWeights(file.weights, new Map(Object.keys(weightMap).map((name) => [name, all.get(name)!])));
    } finally {
      open.mockRestore();
    }
  });

  it('lists tensors in weight_map order without reading data', async () => {
    const path = await writeIndex('model.safetensors.index.json', { metadata: { total_size: 1234 }, weight_map: weightMap });
    const read = vi.spyOn(SafetensorsFile.prototype, 'read');
    try {
      expect(await listShardedSafetensors(path)).toEqual([
        { name: 'layer.0.weight', dtype: 'float16', shape: [2, 2], bytes: 8 },
        { name: 'embed.weight', dtype: 'float32', shape: [4, 2], bytes: 32 },
        { name: 'head.weight', dtype: 'int64', shape: [3], bytes: 24 },
        { name: 'layer.0.bias', dtype: 'bfloat16', shape: [2], bytes: 4 },
      ]);
      expect((await readShardedSafetensorsHeader(path)).metadata).toEqual({ format: 'pt', shard: '2', total_size: '1234' });
      expect(read).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
    }
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'a missing shard file',
      { weight_map: { 'embed.weight': S1, extra: 'model-00003-of-00003.safetensors' } },
      /shard "model-00003-of-00003.safetensors" \(holding tensor "extra"\) does not exist/,
    ],
    [
      'a tensor absent from its shard',
      { weight_map: { 'embed.weight': S2 } },
      /tensor "embed.weight" is listed in shard "model-00002-of-00002.safetensors", which does not contain it/,
    ],
    [
      'a parent-folder shard path',
      { weight_map: { 'embed.weight': `../sharded/${S1}` } },
      /shard "..\/sharded\/model-00001-of-00002.safetensors" for tensor "embed.weight" is not a file inside the index's folder/,
    ],
    ['a nested parent-folder path', { weight_map: { 'embed.weight': `x/../../${S1}` } }, /is not a file inside the index's folder/],
    ['a backslash parent-folder path', { weight_map: { 'embed.weight': `..\\${S1}` } }, /is not a file inside the index's folder/],
    ['an absolute shard path', { weight_map: { 'embed.weight': `/tmp/${S1}` } }, /is not a file inside the index's folder/],
    ['a Windows absolute shard path', { weight_map: { 'embed.weight': `C:\\models\\${S1}` } }, /is not a file inside the index's folder/],
    ['a shard name that is not a string', { weight_map: { 'embed.weight': 1 } }, /weight_map entry for tensor "embed.weight" must be a non-empty file name/],
    ['an empty shard name', { weight_map: { 'embed.weight': '' } }, /must be a non-empty file name/],
    ['no weight_map', { metadata: {} }, /index has no "weight_map" object/],
    ['a weight_map array', { weight_map: [S1] }, /index has no "weight_map" object/],
    ['metadata that is not an object', { metadata: 'x', weight_map: {} }, /"metadata" must be an object/],
    ['an index that is not an object', [1], /index must be a JSON object/],
    ['malformed JSON', '{"weight_map": {', /index is not valid JSON/],
  ];

  it.each(bad)('rejects %s, naming the index', async (_label, index, problem) => {
    const path = await writeIndex('bad.index.json', index);
    for (const fn of [readShardedSafetensors, listShardedSafetensors]) {
      const err = await asyncFormatErrorFrom(() => fn(path));
      expect(err.file).toBe(path);
      expect(err.problem).toMatch(problem);
    }
  });

  it('rejects an absolute path to the very folder of the index', async () => {
    const path = await writeIndex('abs.index.json', { weight_map: { 'embed.weight': join(folder, S1) } });
    expect((await asyncFormatErrorFrom(() => readShardedSafetensors(path))).problem).toMatch(/not a file inside the index's folder/);
  });

  it('reports a missing index file and a corrupt shard by name', async () => {
    const missing = join(folder, 'nope.index.json');
    expect((await asyncFormatErrorFrom(() => readShardedSafetensors(missing))).message).toBe(`${missing}: cannot read file (ENOENT)`);
    await fs.writeFile(join(folder, 'corrupt.safetensors'), Uint8Array.from([1, 2]));
    const path = await writeIndex('corrupt.index.json', { weight_map: { w: 'corrupt.safetensors' } });
    const err = await asyncFormatErrorFrom(() => readShardedSafetensors(path));
    expect(err.file).toBe(join(folder, 'corrupt.safetensors'));
    expect(err.problem).toMatch(/truncated/);
  });
});
