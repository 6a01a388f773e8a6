import { describe, it, expect, afterAll } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '../../src/formats/errors.js';
import { detectFormat } from '../../src/formats/index.js';
import { listWholeFile, readWholeFile } from './whole-file.js';
import { parseNpy } from '../../src/formats/npy.js';
import { DEFAULT_GGUF_LIMITS, dequantize, GgufFile, ggmlTypeByName, parseGgufHeader, type GgufValue } from '../../src/formats/gguf/index.js';
import { GGML_TYPE_ID, GGUF_VALUE_TYPE, GgufBytes } from '../../src/testing/hostile/gguf-bytes.js';

const dir = 'fixtures/gguf';
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<
  string,
  { version: number; alignment: number; tensors: { name: string; dtype: string; shape: number[] }[] }
>;

/** The float32 values the fixture script computed with its own numpy dequantiser. */
function expectedValues(stem: string, tensor: string): { shape: readonly number[]; bits: Uint32Array } {
  const t = parseNpy(readFileSync(join(dir, `${stem}.${tensor}.npy`)));
  const data = t.data as Float32Array;
  return { shape: t.shape, bits: new Uint32Array(data.buffer, data.byteOffset, data.length) };
}

/** First index where two float32 arrays differ bitwise, with both values, or null when identical. */
function firstDifference(actual: Float32Array, expectedBits: Uint32Array): string | null {
  const bits = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  if (bits.length !== expectedBits.length) return `length ${bits.length} instead of ${expectedBits.length}`;
  const view = new Float32Array(expectedBits.buffer, expectedBits.byteOffset, expectedBits.length);
  for (let i = 0; i < bits.length; i++) {
    if (bits[i] !== expectedBits[i]) return `element ${i}: ${actual[i]} (0x${bits[i].toString(16)}) instead of ${view[i]} (0x${expectedBits[i].toString(16)})`;
  }
  return null;
}

const open: GgufFile[] = [];
async function openFixture(stem: string): Promise<GgufFile> {
  const file = await GgufFile.open(join(dir, `${stem}.gguf`));
  open.push(file);
  return file;
}
afterAll(async () => {
  for (const f of open) await f.close();
});

describe('GGUF fixtures: every type dequantised bit for bit as the reference does', () => {
  for (const [stem, want] of Object.entries(manifest)) {
    describe(`${stem}.gguf`, () => {
      it(`header: version ${want.version}, alignment ${want.alignment}, tensors with ggml types and numpy-order shapes`, async () => {
        const gguf = await openFixture(stem);
        expect(gguf.version).toBe(want.version);
        expect(gguf.alignment).toBe(want.alignment);
        expect(gguf.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }))).toEqual(want.tensors);
        for (const t of gguf.tensors) expect(t.offset % want.alignment).toBe(0);
      });

      for (const tensor of want.tensors) {
        it(`${tensor.name} (${tensor.dtype} ${JSON.stringify(tensor.shape)}) equals the numpy reference exactly`, async () => {
          const gguf = await openFixture(stem);
          const expected = expectedValues(stem, tensor.name);
          expect(expected.shape).toEqual(tensor.shape);
          expect(firstDifference(await gguf.readTensor(tensor.name), expected.bits)).toBeNull();
        });

        it(`${tensor.name}: every row range equals the same slice of the whole read`, async () => {
          const gguf = await openFixture(stem);
          const info = gguf.info(tensor.name);
          const whole = await gguf.readTensor(tensor.name);
          const wholeBits = new Uint32Array(whole.buffer);
          for (let start = 0; start <= info.rows; start++) {
            for (let count = 0; start + count <= info.rows; count++) {
              const part = await gguf.readRows(tensor.name, start, count);
              const slice = wholeBits.slice(start * info.rowLength, (start + count) * info.rowLength);
              expect(firstDifference(part, slice), `rows [${start}, ${start + count})`).toBeNull();
            }
          }
        });
      }
    });
  }

  it('the fixtures cover every type the reader supports', () => {
    const covered = new Set(Object.values(manifest).flatMap((f) => f.tensors.map((t) => t.dtype)));
    expect([...covered].sort()).toEqual(['BF16', 'F16', 'F32', 'Q2_K', 'Q3_K', 'Q4_0', 'Q4_1', 'Q4_K', 'Q5_0', 'Q5_1', 'Q5_K', 'Q6_K', 'Q8_0', 'Q8_K']);
  });

  it('readRows refuses a range outside the tensor', async () => {
    const gguf = await openFixture('q4_k');
    await expect(gguf.readRows('weight', 2, 2)).rejects.toThrow(/rows \[2, 2\+2\) are outside tensor "weight", which has 3 rows/);
    await expect(gguf.readRows('weight', -1, 1)).rejects.toThrow(RangeError);
    await expect(gguf.readRows('nope', 0, 1)).rejects.toThrow(/no tensor named "nope"/);
  });
});

/** A GgufValue as the fixture script's JSON writes it: 64-bit integers as strings, arrays as lists. */
function asJson(value: GgufValue): unknown {
  const item = (v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
  if (value.type === 'array') return { type: 'array', itemType: value.itemType, values: Array.from(value.values as ArrayLike<unknown>, item) };
  return { type: value.type, value: item(value.value) };
}

describe('GGUF metadata', () => {
  it('reads every value type, arrays included, as the fixture script wrote them', async () => {
    const expected = JSON.parse(readFileSync(join(dir, 'metadata.expected.json'), 'utf8')) as Record<string, unknown>;
    const gguf = await openFixture('metadata');
    expect([...gguf.metadata.keys()]).toEqual(Object.keys(expected));
    for (const [key, value] of gguf.metadata) expect(asJson(value), key).toEqual(expected[key]);
  });

  it('keeps numeric arrays as typed arrays of their declared type', async () => {
    const gguf = await openFixture('metadata');
    const tokenType = gguf.metadata.get('tokenizer.ggml.token_type');
    expect(tokenType?.type === 'array' && tokenType.values).toBeInstanceOf(Int32Array);
    const big = gguf.metadata.get('test.u64_array');
    expect(big?.type === 'array' && big.values).toBeInstanceOf(BigUint64Array);
  });

  it('renders metadata one line per key for listings, long arrays abbreviated', async () => {
    const gguf = await openFixture('metadata');
    const text = gguf.metadataText();
    expect(text['general.name']).toBe('métadonnées ✓ 模型');
    expect(text['test.uint64']).toBe('18446744073709551615');
    expect(text['test.bool_true']).toBe('true');
    expect(text['test.u8_array']).toBe('[0, 1, 255]');
    expect(text['test.float32']).toBe('0.1');
    expect(text['tokenizer.ggml.scores']).toBe('[-1, 0.5, 1e-8, -3.25]');
    expect(text['test.empty_array']).toBe('[]');
    expect(text['tokenizer.ggml.tokens']).toBe('["<s>", "</s>", "▁the", "ü", "", "\\n", "🙂", "a b", ... (9 string items)]');
  });
});

describe('GGUF header limits and refusals (files built byte by byte)', () => {
  const work = mkdtempSync(join(tmpdir(), 'lineage-gguf-'));

  function parse(g: GgufBytes, limits = DEFAULT_GGUF_LIMITS) {
    const bytes = g.bytes();
    return parseGgufHeader(bytes, bytes.length, 'test.gguf', limits);
  }

  it('reads a header larger than its first read (a 3 MB vocabulary) by growing the prefix', async () => {
    const tokens = 200_000;
    const g = new GgufBytes().header(1, 1).string('tokenizer.ggml.tokens').u32(GGUF_VALUE_TYPE.array).u32(GGUF_VALUE_TYPE.string).u64(tokens);
    for (let i = 0; i < tokens; i++) g.string(`tok${i}`);
    g.tensorInfo('w', [4], GGML_TYPE_ID.F32, 0).padTo(32).f32(1).f32(-2).f32(0.5).f32(8);
    const path = join(work, 'big-vocab.gguf');
    writeFileSync(path, g.bytes());
    const gguf = await GgufFile.open(path);
    try {
      const vocab = gguf.metadata.get('tokenizer.ggml.tokens');
      expect(vocab?.type === 'array' && vocab.values.length).toBe(tokens);
      expect(vocab?.type === 'array' && vocab.values[tokens - 1]).toBe(`tok${tokens - 1}`);
      expect(Array.from(await gguf.readTensor('w'))).toEqual([1, -2, 0.5, 8]);
    } finally {
      await gguf.close();
    }
  });

  it('refuses an array longer than the array limit, and more strings than the string limit', () => {
    const array = new GgufBytes().header(0, 1).string('a').u32(GGUF_VALUE_TYPE.array).u32(GGUF_VALUE_TYPE.uint8).u64(5).raw(new Uint8Array(5));
    expect(() => parse(array, { ...DEFAULT_GGUF_LIMITS, maxArrayLength: 4 })).toThrow(/declares 5 items, more than the limit of 4/);
    expect(parse(array, { ...DEFAULT_GGUF_LIMITS, maxArrayLength: 5 }).metadata.get('a')).toEqual({
      type: 'array',
      itemType: 'uint8',
      values: new Uint8Array(5),
    });
    const strings = new GgufBytes().header(0, 1).string('s').u32(GGUF_VALUE_TYPE.array).u32(GGUF_VALUE_TYPE.string).u64(3).string('x').string('y').string('z');
    // The key is a string too: 1 + 3 = 4.
    expect(() => parse(strings, { ...DEFAULT_GGUF_LIMITS, maxStrings: 3 })).toThrow(/past the limit of 3 strings/);
    expect(() => parse(strings, { ...DEFAULT_GGUF_LIMITS, maxStrings: 4 })).not.toThrow();
  });

  it('refuses a header past the header byte limit', () => {
    const g = new GgufBytes().header(0, 1).kvString('general.name', 'x'.repeat(100));
    expect(() => parse(g, { ...DEFAULT_GGUF_LIMITS, maxHeaderBytes: 64 })).toThrow(/only \d+ bytes of header can follow/);
    expect(() => parse(g, { ...DEFAULT_GGUF_LIMITS, maxHeaderBytes: 200 })).not.toThrow();
  });

  it('refuses bad versions, magic, alignment, duplicate names and non-boolean bools', () => {
    expect(() => parse(new GgufBytes().header(0, 0, 1))).toThrow(/version 1 is not supported/);
    expect(() => parse(new GgufBytes().header(0, 0, 4))).toThrow(/unsupported GGUF version 4/);
    expect(() => parse(new GgufBytes().raw(new TextEncoder().encode('GGML')).u32(3).u64(0).u64(0))).toThrow(/not a GGUF file/);
    expect(() => parse(new GgufBytes().header(0, 1).kvU32('general.alignment', 48))).toThrow(/general.alignment 48 is not a power of two/);
    expect(() => parse(new GgufBytes().header(0, 1).string('general.alignment').u32(GGUF_VALUE_TYPE.uint64).u64(32))).toThrow(/must be a uint32, not uint64/);
    expect(() => parse(new GgufBytes().header(0, 2).kvU32('k', 1).kvU32('k', 2))).toThrow(/metadata key "k" appears twice/);
    expect(() => parse(new GgufBytes().header(0, 1).string('b').u32(GGUF_VALUE_TYPE.bool).u8(2))).toThrow(/bool stored as 2/);
    const twice = new GgufBytes()
      .header(2, 0)
      .tensorInfo('w', [8], GGML_TYPE_ID.F32, 0)
      .tensorInfo('w', [8], GGML_TYPE_ID.F32, 32)
      .padTo(32)
      .raw(new Uint8Array(64));
    expect(() => parse(twice)).toThrow(/tensor name "w" appears twice/);
    expect(() => parse(new GgufBytes().header(1, 0).tensorInfo('x'.repeat(65), [8], GGML_TYPE_ID.F32, 0))).toThrow(/more than the 64-byte limit/);
    // A zero dimension makes the product 0, so each dimension is checked on its own too.
    expect(() => parse(new GgufBytes().header(1, 0).tensorInfo('w', [0, 2n ** 63n], GGML_TYPE_ID.F32, 0))).toThrow(/has a dimension that is too large/);
  });

  it('places tensor data after the tensor infos, padded to the alignment; tensors may be listed out of data order', () => {
    const g = new GgufBytes()
      .header(2, 1)
      .kvU32('general.alignment', 64)
      .tensorInfo('late', [4], GGML_TYPE_ID.F32, 64)
      .tensorInfo('early', [4], GGML_TYPE_ID.F32, 0);
    const infoEnd = g.length;
    g.padTo(64).raw(new Uint8Array(128));
    const header = parse(g);
    expect(header.alignment).toBe(64);
    expect(header.dataOffset).toBe(Math.ceil(infoEnd / 64) * 64);
    expect(header.tensors.map((t) => [t.name, t.fileOffset])).toEqual([
      ['late', header.dataOffset + 64],
      ['early', header.dataOffset],
    ]);
  });

  it('dequantize refuses IQ and other unsupported types, naming the tensor and type', () => {
    const where = { file: 'model.gguf', tensor: 'blk.3.attn_q.weight' };
    for (const name of ['IQ2_XXS', 'IQ4_NL', 'IQ4_XS'] as const) {
      const type = ggmlTypeByName(name);
      expect(() => dequantize(type, new Uint8Array(type.typeSize), new Float32Array(type.blockSize), where)).toThrow(
        new RegExp(`^model\\.gguf: tensor "blk\\.3\\.attn_q\\.weight": ggml type ${name} is an IQ \\(codebook\\) quantisation`),
      );
    }
    const q81 = ggmlTypeByName('Q8_1');
    expect(() => dequantize(q81, new Uint8Array(36), new Float32Array(32), where)).toThrow(FormatError);
    expect(() => dequantize(q81, new Uint8Array(36), new Float32Array(32), where)).toThrow(/ggml type Q8_1 cannot be dequantised/);
  });
});

describe('GGUF through the format-independent readers', () => {
  const work = mkdtempSync(join(tmpdir(), 'lineage-gguf-formats-'));

  it('detects GGUF by its magic, whatever the file is called', async () => {
    const renamed = join(work, 'model.bin');
    copyFileSync(join(dir, 'q4_k.gguf'), renamed);
    expect((await detectFormat(renamed)).format).toBe('gguf');
  });

  it('lists a GGUF file from its header: ggml type names, numpy-order shapes, stored bytes, metadata', async () => {
    const listing = await listWholeFile(join(dir, 'q4_k.gguf'));
    expect(listing.format).toBe('gguf');
    expect(listing.metadata['general.name']).toBe('Q4_K fixture');
    expect(listing.tensors).toEqual([
      { name: 'weight', dtype: 'Q4_K', shape: [3, 256], bytes: 3 * 144 },
      { name: 'random_blocks', dtype: 'Q4_K', shape: [2, 256], bytes: 2 * 144 },
    ]);
  });

  it('reads a GGUF file whole as float32 tensors in numpy order', async () => {
    const file = await readWholeFile(join(dir, 'metadata.gguf'));
    expect(file.format).toBe('gguf');
    const fourD = file.weights.get('blk.0.four_d');
    expect(fourD?.dtype).toBe('float32');
    expect(fourD?.shape).toEqual([2, 1, 3, 2]);
    expect(firstDifference(fourD?.data as Float32Array, expectedValues('metadata', 'blk.0.four_d').bits)).toBeNull();
  });
});
