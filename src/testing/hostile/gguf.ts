/**
 * Hostile GGUF files, each built field by field from the spec: headers whose counts, lengths,
 * shapes or offsets promise more than the file holds, or make many tensors share one range of
 * bytes. A careless reader would allocate what the header declares, read past the file, or decode
 * the same bytes again and again; every one must be refused quickly, naming the file.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostileCase } from './types.js';
import { GGML_TYPE_ID, GGUF_VALUE_TYPE, GgufBytes } from './gguf-bytes.js';

const ALIGNMENT = 32;

async function write(dir: string, name: string, bytes: GgufBytes): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes.bytes());
  return path;
}

/** A v3 file with one metadata pair and the given tensor infos, padded, then `dataBytes` of data. */
function fileWith(tensors: (g: GgufBytes) => void, tensorCount: number, dataBytes: number): GgufBytes {
  const g = new GgufBytes().header(tensorCount, 1).kvString('general.architecture', 'hostile');
  tensors(g);
  return g.padTo(ALIGNMENT).raw(new Uint8Array(dataBytes));
}

/** How many F32 tensors share one range in the overlap case, and how big each is. */
const SHARED_TENSORS = 1000;
const SHARED_FLOATS = 1 << 18;

export const GGUF_HOSTILE_CASES: HostileCase[] = [
  {
    name: 'gguf-offset-past-end',
    reader: 'gguf',
    threat: 'a tensor whose data offset is 1 TiB into a 200-byte file: a reader that trusts it seeks and reads past the end',
    build: (dir) =>
      write(
        dir,
        'offset-past-end.gguf',
        fileWith((g) => g.tensorInfo('w', [4, 4], GGML_TYPE_ID.F32, 2n ** 40n), 1, 64),
      ),
    expect: /runs past the end of the \d+-byte file/,
  },
  {
    name: 'gguf-too-many-dims',
    reader: 'gguf',
    threat: 'a tensor declaring 2^32 - 1 dimensions: a reader that allocates the dims array first asks for 32 GiB',
    build: (dir) => {
      const g = new GgufBytes().header(1, 0).string('w').u32(0xffffffff).u64(4).u64(4);
      return write(dir, 'too-many-dims.gguf', g);
    },
    expect: /declares 4294967295 dimensions; GGUF allows at most 4/,
  },
  {
    name: 'gguf-dims-product-overflow',
    reader: 'gguf',
    threat: 'a tensor of shape 2^32 x 2^32 x 2^32 x 2^32: the element count overflows 64 bits, so a careless size check wraps to a small number',
    build: (dir) =>
      write(
        dir,
        'dims-overflow.gguf',
        fileWith((g) => g.tensorInfo('w', [2n ** 32n, 2n ** 32n, 2n ** 32n, 2n ** 32n], GGML_TYPE_ID.F32, 0), 1, 64),
      ),
    expect: /has too many elements/,
  },
  {
    name: 'gguf-string-longer-than-file',
    reader: 'gguf',
    threat: 'a metadata string declaring 2^62 bytes in a tiny file: a reader that allocates the declared length first runs out of memory',
    build: (dir) => {
      const g = new GgufBytes()
        .header(0, 1)
        .string('general.name')
        .u32(GGUF_VALUE_TYPE.string)
        .u64(2n ** 62n)
        .raw(new Uint8Array(16));
      return write(dir, 'long-string.gguf', g);
    },
    expect: /declares 4611686018427387904 bytes .* only \d+ bytes of header can follow/,
  },
  {
    name: 'gguf-array-count-2^60',
    reader: 'gguf',
    threat: 'a metadata array of 2^60 uint8 items: a reader that preallocates the array asks for an exabyte',
    build: (dir) => {
      const g = new GgufBytes()
        .header(0, 1)
        .string('tokenizer.ggml.token_type')
        .u32(GGUF_VALUE_TYPE.array)
        .u32(GGUF_VALUE_TYPE.uint8)
        .u64(2n ** 60n)
        .raw(new Uint8Array(64));
      return write(dir, 'array-count.gguf', g);
    },
    expect: /declares 1152921504606846976 uint8 items .* only \d+ bytes of header remain/,
  },
  {
    name: 'gguf-string-array-count-2^60',
    reader: 'gguf',
    threat: 'a metadata array of 2^60 strings: a reader that reserves one JS string per item before reading exhausts memory',
    build: (dir) => {
      const g = new GgufBytes()
        .header(0, 1)
        .string('tokenizer.ggml.tokens')
        .u32(GGUF_VALUE_TYPE.array)
        .u32(GGUF_VALUE_TYPE.string)
        .u64(2n ** 60n)
        .string('a');
      return write(dir, 'string-array-count.gguf', g);
    },
    expect: /declares 1152921504606846976 string items/,
  },
  {
    name: 'gguf-kv-count-2^40',
    reader: 'gguf',
    threat: 'a header declaring 2^40 metadata pairs: a reader that reserves a map or array of that size first exhausts memory',
    build: (dir) => write(dir, 'kv-count.gguf', new GgufBytes().header(0, 2n ** 40n).kvString('general.architecture', 'hostile')),
    expect: /declares 1099511627776 metadata entries/,
  },
  {
    name: 'gguf-tensor-count-2^62',
    reader: 'gguf',
    threat: 'a header declaring 2^62 tensors: a reader that reserves the tensor-info table first exhausts memory',
    build: (dir) => write(dir, 'tensor-count.gguf', new GgufBytes().header(2n ** 62n, 0)),
    expect: /declares 4611686018427387904 tensors/,
  },
  {
    name: 'gguf-misaligned-offset',
    reader: 'gguf',
    threat: 'a tensor whose data offset is not a multiple of general.alignment: a reader that maps it as aligned float data reads misaligned values',
    build: (dir) =>
      write(
        dir,
        'misaligned.gguf',
        fileWith(
          (g) => {
            g.tensorInfo('a', [8], GGML_TYPE_ID.F32, 0);
            g.tensorInfo('b', [8], GGML_TYPE_ID.F32, 36);
          },
          2,
          128,
        ),
      ),
    expect: /tensor "b" data offset 36 is not a multiple of the alignment 32/,
  },
  {
    name: 'gguf-overlapping-tensors',
    reader: 'gguf',
    threat: `${SHARED_TENSORS} tensors all pointing at the same ${(SHARED_FLOATS * 4) >> 20} MiB of data: a reader that decodes each one turns a 1 MiB file into ${SHARED_TENSORS} MiB of float32`,
    build: (dir) =>
      write(
        dir,
        'overlapping.gguf',
        fileWith(
          (g) => {
            for (let i = 0; i < SHARED_TENSORS; i++) g.tensorInfo(`t${i}`, [SHARED_FLOATS], GGML_TYPE_ID.F32, 0);
          },
          SHARED_TENSORS,
          SHARED_FLOATS * 4,
        ),
      ),
    expect: /tensor "t\d+" data \[0, 1048576\) overlaps tensor "t\d+"/,
  },
  {
    name: 'gguf-iq-type',
    reader: 'gguf',
    threat: 'a tensor of type IQ2_XXS, whose codebook dequantisation we do not implement: it must be refused by name, not misread as another type',
    build: (dir) =>
      write(
        dir,
        'iq-type.gguf',
        fileWith((g) => g.tensorInfo('blk.0.ffn_up.weight', [256], GGML_TYPE_ID.IQ2_XXS, 0), 1, 66),
      ),
    expect: /tensor "blk\.0\.ffn_up\.weight": ggml type IQ2_XXS is an IQ \(codebook\) quantisation/,
  },
  {
    name: 'gguf-unknown-type',
    reader: 'gguf',
    threat: 'a tensor type id no ggml version defines: a reader that indexes its type table with it reads out of bounds',
    build: (dir) =>
      write(
        dir,
        'unknown-type.gguf',
        fileWith((g) => g.tensorInfo('w', [32], 1000, 0), 1, 64),
      ),
    expect: /unknown ggml type id 1000/,
  },
  {
    name: 'gguf-partial-block-row',
    reader: 'gguf',
    threat: 'a Q4_K tensor whose rows are 100 elements, not whole 256-element blocks: a reader that rounds the byte size down or up misplaces every later row',
    build: (dir) =>
      write(
        dir,
        'partial-block.gguf',
        fileWith((g) => g.tensorInfo('w', [100, 2], GGML_TYPE_ID.Q4_K, 0), 1, 288),
      ),
    expect: /100 elements per row, not a multiple of the Q4_K block size 256/,
  },
  {
    name: 'gguf-nested-array',
    reader: 'gguf',
    threat: 'arrays nested inside arrays: a recursive reader can be driven as deep as the file allows',
    build: (dir) => {
      const g = new GgufBytes().header(0, 1).string('nested').u32(GGUF_VALUE_TYPE.array);
      for (let i = 0; i < 1000; i++) g.u32(GGUF_VALUE_TYPE.array).u64(1);
      return write(dir, 'nested-array.gguf', g.u32(GGUF_VALUE_TYPE.uint8).u64(1).u8(0));
    },
    expect: /is an array of arrays, which is not supported/,
  },
  {
    name: 'gguf-big-endian',
    reader: 'gguf',
    threat: 'a big-endian GGUF file: read as little-endian every count and size is byte-swapped into garbage',
    build: (dir) => write(dir, 'big-endian.gguf', new GgufBytes().header(0, 0, 0x03000000)),
    expect: /looks big-endian/,
  },
];
