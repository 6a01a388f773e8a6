/**
 * Hostile model files and folders for the non-PyTorch readers (file access, safetensors, sharded
 * safetensors, ONNX, .npy), each built byte by byte: paths that never end (devices, FIFOs), shard
 * names that leave their folder, headers whose lengths, offsets or shapes lie, protobuf that
 * decodes to far more memory than it takes on disk. Every one must be refused quickly, naming the
 * file. LARGE_LEGAL_FILES are the other side: big but valid files that must load.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostileCase } from './types.js';
import {
  ONNX,
  concatBytes,
  npyBytes,
  npyHeader,
  onnxInitializer,
  onnxModel,
  onnxNode,
  onnxValueInfo,
  pbBytes,
  pbLengthHeader,
  pbMessage,
  pbString,
  pbVarint,
  safetensorsBytes,
  safetensorsPrefix,
  u64le,
  varint,
} from './files-bytes.js';

async function write(dir: string, name: string, bytes: Uint8Array | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** A FIFO no one writes to: reading it blocks forever. */
function mkfifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

/** `folder/name` made by `make`, returning the folder (the path a user would pass). */
async function modelFolder(dir: string, make: (folder: string) => Promise<unknown>): Promise<string> {
  const folder = join(dir, 'model');
  await mkdir(folder);
  await make(folder);
  return folder;
}

const SHARD_INDEX = 'model.safetensors.index.json';

function shardIndex(weightMap: Record<string, string>): string {
  return JSON.stringify({ metadata: { total_size: 8 }, weight_map: weightMap });
}

/** A one-tensor safetensors file: F32 `name` of shape [2]. */
function smallSafetensors(name: string): Uint8Array {
  return safetensorsBytes(`{"${name}":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, new Uint8Array(8));
}

/** A safetensors file of `count` F32 scalars-of-one named t.0, t.1, ..., packed in order. */
function manyTensorsSafetensors(count: number): Uint8Array {
  const entries: string[] = [];
  for (let i = 0; i < count; i++) entries.push(`"t.${i}":{"dtype":"F32","shape":[1],"data_offsets":[${4 * i},${4 * i + 4}]}`);
  return safetensorsBytes(`{${entries.join(',')}}`, new Uint8Array(4 * count));
}

/** `${open}...` nested `depth` times: the shape of JSON that amplifies when parsed. */
function nestedArrays(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

// --- file access: what the path is, not what the file says ---------------------------------------

/** Devices, FIFOs and symlinks need a POSIX system. */
const ACCESS_CASES: HostileCase[] = [
  {
    name: 'symlink-to-dev-zero',
    reader: 'folder',
    threat: 'a .safetensors path that is a symlink to /dev/zero: read whole, it never ends',
    build: async (dir) => {
      const path = join(dir, 'zero.safetensors');
      await symlink('/dev/zero', path);
      return path;
    },
    expect: /is a character device, not a regular file/,
  },
  {
    name: 'folder-pytorch-bin-is-dev-zero',
    reader: 'folder',
    threat: 'a model folder whose pytorch_model.bin is a symlink to /dev/zero: read whole, it never ends',
    build: (dir) => modelFolder(dir, (f) => symlink('/dev/zero', join(f, 'pytorch_model.bin'))),
    expect: /pytorch_model\.bin: is a character device, not a regular file/,
  },
  {
    name: 'folder-safetensors-is-dev-zero',
    reader: 'folder',
    threat: 'a model folder whose model.safetensors is a symlink to /dev/zero',
    build: (dir) => modelFolder(dir, (f) => symlink('/dev/zero', join(f, 'model.safetensors'))),
    expect: /model\.safetensors: is a character device, not a regular file/,
  },
  {
    name: 'fifo-onnx',
    reader: 'folder',
    threat: 'an .onnx path that is a FIFO with no writer: opening it blocks forever',
    build: async (dir) => mkfifo(join(dir, 'pipe.onnx')),
    expect: /is a FIFO \(named pipe\), not a regular file/,
  },
  {
    name: 'folder-safetensors-is-fifo',
    reader: 'folder',
    threat: 'a model folder whose model.safetensors is a FIFO with no writer',
    build: (dir) => modelFolder(dir, async (f) => mkfifo(join(f, 'model.safetensors'))),
    expect: /model\.safetensors: is a FIFO \(named pipe\), not a regular file/,
  },
  {
    name: 'folder-candidate-is-its-folder',
    reader: 'folder',
    threat: 'a model folder whose model.safetensors is a symlink to the folder itself: a resolver that recurses into folders loops',
    build: (dir) => modelFolder(dir, (f) => symlink('.', join(f, 'model.safetensors'))),
    expect: /model\.safetensors: is a folder, not a file/,
  },
  {
    name: 'shard-is-fifo',
    reader: 'safetensors-sharded',
    threat: 'a sharded checkpoint whose shard is a FIFO with no writer',
    build: (dir) =>
      modelFolder(dir, async (f) => {
        await write(f, SHARD_INDEX, shardIndex({ w: 'model-00001-of-00001.safetensors' }));
        mkfifo(join(f, 'model-00001-of-00001.safetensors'));
      }),
    expect: /model-00001-of-00001\.safetensors: is a FIFO \(named pipe\), not a regular file/,
  },
  {
    name: 'shard-is-dev-zero',
    reader: 'safetensors-sharded',
    threat: 'a sharded checkpoint whose shard is a symlink to /dev/zero',
    build: (dir) =>
      modelFolder(dir, async (f) => {
        await write(f, SHARD_INDEX, shardIndex({ w: 'model-00001-of-00001.safetensors' }));
        await symlink('/dev/zero', join(f, 'model-00001-of-00001.safetensors'));
      }),
    expect: /model-00001-of-00001\.safetensors: is a character device, not a regular file/,
  },
  {
    name: 'shards-are-one-file',
    reader: 'safetensors-sharded',
    threat: 'two shard names reaching one file (a symlink): with a big header, N names cost N full header parses',
    build: (dir) =>
      modelFolder(dir, async (f) => {
        await write(
          f,
          'a.safetensors',
          safetensorsBytes('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Uint8Array(8)),
        );
        await symlink('a.safetensors', join(f, 'b.safetensors'));
        await write(f, SHARD_INDEX, shardIndex({ x: 'a.safetensors', y: 'b.safetensors' }));
      }),
    expect: /shards "a\.safetensors" and "b\.safetensors" are the same file/,
  },
];

const SHARD_NAME_CASES: HostileCase[] = [
  {
    name: 'shard-escapes-folder',
    reader: 'safetensors-sharded',
    threat: 'a shard named ../outside.safetensors: the index reads files outside its own folder',
    build: async (dir) => {
      await write(dir, 'outside.safetensors', smallSafetensors('w'));
      return modelFolder(dir, (f) => write(f, SHARD_INDEX, shardIndex({ w: '../outside.safetensors' })));
    },
    expect: /shard "\.\.\/outside\.safetensors" for tensor "w" is not a file inside the index's folder/,
  },
  {
    name: 'shard-absolute-path',
    reader: 'safetensors-sharded',
    threat: 'a shard named /dev/zero: an absolute path reads anything on the system',
    build: (dir) => modelFolder(dir, (f) => write(f, SHARD_INDEX, shardIndex({ w: '/dev/zero' }))),
    expect: /shard "\/dev\/zero" for tensor "w" is not a file inside the index's folder/,
  },
  {
    name: 'shard-index-too-large',
    reader: 'safetensors-sharded',
    threat: 'a 100 MB + 1 byte index (sparse on disk): read and parsed whole before anything is checked',
    build: (dir) =>
      modelFolder(dir, async (f) => {
        const path = await write(f, SHARD_INDEX, '');
        await truncate(path, 100_000_001);
      }),
    expect: /index is 100000001 bytes, more than the 100000000-byte limit/,
  },
  {
    name: 'shard-index-nested-json',
    reader: 'safetensors-sharded',
    threat: 'an index whose metadata nests 100,000 empty arrays: JSON.parse turns 2 bytes into a ~40-byte array each',
    build: (dir) => modelFolder(dir, (f) => write(f, SHARD_INDEX, `{"weight_map":{"w":"a.safetensors"},"metadata":{"x":${nestedArrays(100_000)}}}`)),
    expect: /index nests JSON 4 levels deep at byte \d+; at most 3 are allowed/,
  },
];

// --- safetensors ---------------------------------------------------------------------------------

const SAFETENSORS_CASES: HostileCase[] = [
  {
    name: 'safetensors-header-length-huge',
    reader: 'safetensors',
    threat: 'a header length of 2^63: a reader that allocates it first asks for 8 EiB',
    build: (dir) => write(dir, 'huge-header.safetensors', safetensorsPrefix(2n ** 63n, '{}')),
    expect: /header length 9223372036854775808 is larger than the 100000000-byte limit/,
  },
  {
    name: 'safetensors-header-past-end',
    reader: 'safetensors',
    threat: 'a 1000-byte header length in a 15-byte file',
    build: (dir) => write(dir, 'short-header.safetensors', safetensorsPrefix(1000n, '{"a":1}')),
    expect: /header length 1000 runs past the end of the 15-byte file/,
  },
  {
    name: 'safetensors-nested-json',
    reader: 'safetensors',
    threat: 'a header nesting 100,000 arrays: JSON.parse amplifies it ~14x in memory',
    build: (dir) =>
      write(
        dir,
        'nested.safetensors',
        safetensorsBytes(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":${nestedArrays(100_000)}}}`, new Uint8Array(4)),
      ),
    expect: /header nests JSON 4 levels deep at byte \d+; at most 3 are allowed/,
  },
  {
    name: 'safetensors-offsets-past-end',
    reader: 'safetensors',
    threat: 'a 1 TB tensor (shape and offsets agree) in an 8-byte data area: a reader that trusts the offsets reads past the end',
    build: (dir) =>
      write(dir, 'offsets.safetensors', safetensorsBytes('{"w":{"dtype":"F32","shape":[250000000000],"data_offsets":[0,1000000000000]}}', new Uint8Array(8))),
    expect: /data_offsets \[0,1000000000000\] run past the end of the 8-byte data area/,
  },
  {
    name: 'safetensors-overlap',
    reader: 'safetensors',
    threat: 'two tensors sharing bytes: a reader that allows it reads the same bytes many times',
    build: (dir) =>
      write(
        dir,
        'overlap.safetensors',
        safetensorsBytes('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', new Uint8Array(12)),
      ),
    expect: /tensor "b" data_offsets \[4,12\] overlap tensor "a" \[0,8\]/,
  },
  {
    name: 'safetensors-shape-vs-bytes',
    reader: 'safetensors',
    threat: 'a shape of a million floats over 4 bytes of data: a reader that sizes by shape allocates 4 MB per 4 bytes',
    build: (dir) => write(dir, 'shape-bytes.safetensors', safetensorsBytes('{"a":{"dtype":"F32","shape":[1000000],"data_offsets":[0,4]}}', new Uint8Array(4))),
    expect: /F32 shape \[1000000\] needs 4000000 bytes but data_offsets \[0,4\] span 4/,
  },
  {
    name: 'safetensors-negative-dim',
    reader: 'safetensors',
    threat: 'a dimension of -1, which makes a signed element count negative',
    build: (dir) => write(dir, 'negative.safetensors', safetensorsBytes('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}')),
    expect: /shape \[-1\] has a dimension that is not a non-negative integer/,
  },
  {
    name: 'safetensors-overflow-hidden-by-zero',
    reader: 'safetensors',
    threat: 'a shape [2^40, 2^40, 0]: the product overflows, then the 0 makes it look like 0 elements',
    build: (dir) => write(dir, 'overflow.safetensors', safetensorsBytes('{"a":{"dtype":"F32","shape":[1099511627776,1099511627776,0],"data_offsets":[0,0]}}')),
    expect: /has too many elements/,
  },
];

// --- ONNX ----------------------------------------------------------------------------------------

/** How many 2-byte empty nodes take protobufjs past the structure budget (~180 bytes each decoded). */
const EMPTY_NODES = 2_000_000;
/** One-byte int64 values: protobufjs makes a ~56-byte Long object of each. */
const INT64_VALUES = 6_000_000;
/** Graphs nested in If-style attributes: each adds graph, node and attribute to the depth. */
const NESTED_GRAPHS = 40;

const ONNX_CASES: HostileCase[] = [
  {
    name: 'onnx-empty-node-flood',
    reader: 'onnx',
    threat: 'two million 2-byte empty nodes: protobufjs makes a ~180-byte object of each (4 MB file, ~400 MB decoded)',
    build: (dir) => {
      const nodes = new Uint8Array(2 * EMPTY_NODES);
      for (let i = 0; i < EMPTY_NODES; i++) nodes[2 * i] = ONNX.graph.node * 8 + 2; // tag, then length 0
      return write(dir, 'empty-nodes.onnx', onnxModel([nodes]));
    },
    expect: /graph's structure .* would take more than 256 MiB of memory to decode/,
  },
  {
    name: 'onnx-int64-flood',
    reader: 'onnx',
    threat: 'an ints attribute of six million one-byte values: protobufjs makes a Long object of each (6 MB file, ~340 MB decoded)',
    build: (dir) => {
      const ints = pbBytes(ONNX.attribute.ints, new Uint8Array(INT64_VALUES).fill(1));
      const attribute = pbMessage(ONNX.node.attribute, [
        pbString(ONNX.attribute.name, 'value_ints'),
        pbVarint(ONNX.attribute.type, ONNX.attributeType.ints),
        ints,
      ]);
      return write(dir, 'int64-flood.onnx', onnxModel([onnxNode('Constant', [], ['c'], [attribute])]));
    },
    expect: /graph's structure .* would take more than 256 MiB of memory to decode/,
  },
  {
    name: 'onnx-length-past-end',
    reader: 'onnx',
    threat: 'a graph field claiming a million bytes in a file of a few dozen',
    build: (dir) => write(dir, 'length.onnx', concatBytes([pbVarint(ONNX.model.irVersion, 8), pbLengthHeader(ONNX.model.graph, 1_000_000), new Uint8Array(4)])),
    expect: /not a valid ONNX protobuf \(field of 1000000 bytes runs past the end of its message/,
  },
  {
    name: 'onnx-deep-nesting',
    reader: 'onnx',
    threat: 'graphs nested 40 deep in attributes (120 message levels): recursive decoders exhaust the stack',
    build: (dir) => {
      let graphFields: Uint8Array = new Uint8Array(0);
      for (let i = 0; i < NESTED_GRAPHS; i++) {
        const attribute = pbMessage(ONNX.node.attribute, [
          pbString(ONNX.attribute.name, 'body'),
          pbVarint(ONNX.attribute.type, ONNX.attributeType.graph),
          pbBytes(ONNX.attribute.g, graphFields),
        ]);
        graphFields = onnxNode('If', ['c'], ['y'], [attribute]);
      }
      return write(dir, 'deep.onnx', onnxModel([graphFields]));
    },
    expect: /not a valid ONNX protobuf \(messages nested deeper than 100 levels/,
  },
  {
    name: 'onnx-raw-data-vs-dims',
    reader: 'onnx',
    threat: 'dims of 1000 floats over 4 bytes of raw_data',
    build: (dir) => write(dir, 'raw.onnx', onnxModel([onnxInitializer('w.weight', [1000], new Uint8Array(4))])),
    expect: /initializer 'w\.weight': float32 tensor of shape \[1000\] needs 4000 bytes of raw_data, found 4/,
  },
  {
    name: 'onnx-float-data-past-dims',
    reader: 'onnx',
    threat: 'dims [1] with a million float_data values: decoded before the count is checked, 8 MB of JS numbers for a 4-byte tensor',
    build: (dir) => {
      const tensor = pbMessage(ONNX.graph.initializer, [
        pbVarint(ONNX.tensor.dims, 1),
        pbVarint(ONNX.tensor.dataType, ONNX.dataType.float),
        pbString(ONNX.tensor.name, 'w.weight'),
        pbBytes(ONNX.tensor.floatData, new Uint8Array(4_000_000)),
      ]);
      return write(dir, 'float-data.onnx', onnxModel([tensor]));
    },
    expect: /tensor 'w\.weight' holds 1000000 values but its dims declare only 1/,
  },
  {
    name: 'onnx-negative-dim',
    reader: 'onnx',
    threat: 'a dimension of -1 (a 10-byte varint)',
    build: (dir) => write(dir, 'negative.onnx', onnxModel([onnxInitializer('w.weight', [-1n], new Uint8Array(0))])),
    expect: /initializer 'w\.weight' has negative dimension -1/,
  },
  {
    name: 'onnx-overflow-hidden-by-zero',
    reader: 'onnx',
    threat: 'dims [2^40, 2^40, 0]: the product overflows, then the 0 makes it look empty',
    build: (dir) => write(dir, 'overflow.onnx', onnxModel([onnxInitializer('w.weight', [2n ** 40n, 2n ** 40n, 0n], new Uint8Array(0))])),
    expect: /initializer 'w\.weight' has too many elements/,
  },
  {
    name: 'onnx-external-data',
    reader: 'onnx',
    threat: 'an initializer whose data lives in ../../../etc/passwd: a reader that follows it reads outside the model folder',
    build: (dir) => {
      const tensor = pbMessage(ONNX.graph.initializer, [
        pbVarint(ONNX.tensor.dims, 4),
        pbVarint(ONNX.tensor.dataType, ONNX.dataType.float),
        pbString(ONNX.tensor.name, 'w.weight'),
        pbMessage(ONNX.tensor.externalData, [pbString(ONNX.entry.key, 'location'), pbString(ONNX.entry.value, '../../../etc/passwd')]),
        pbVarint(ONNX.tensor.dataLocation, 1),
      ]);
      return write(dir, 'external.onnx', onnxModel([tensor]));
    },
    expect: /initializer 'w\.weight' keeps its data in "\.\.\/\.\.\/\.\.\/etc\/passwd", which is not a file inside the model's folder/,
  },
  {
    name: 'onnx-wrong-wire-type',
    reader: 'onnx',
    threat: 'the graph field as a varint: protobufjs would read the varint as a length and decode whatever follows',
    build: (dir) => write(dir, 'wire.onnx', concatBytes([pbVarint(ONNX.model.irVersion, 8), varint(ONNX.model.graph * 8), varint(5), u64le(0n)])),
    expect: /field 'graph' of ModelProto has wire type 0, expected 2/,
  },
];

// --- .npy ----------------------------------------------------------------------------------------

const NPY_CASES: HostileCase[] = [
  {
    name: 'npy-header-length-past-end',
    reader: 'npy',
    threat: 'a version 2.0 header length of 4 GiB - 1 in a small file',
    build: (dir) => write(dir, 'header-length.npy', npyBytes(npyHeader('<f4', false, '(1,)'), new Uint8Array(4), { major: 2, declaredLength: 0xffffffff })),
    expect: /\.npy header length 4294967295 runs past the end of the file/,
  },
  {
    name: 'npy-header-too-long',
    reader: 'npy',
    threat: 'a 20,000-byte header: numpy itself refuses headers over 10,000 bytes',
    build: (dir) => {
      const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }${' '.repeat(20_000)}\n`;
      return write(dir, 'long-header.npy', npyBytes(header, new Uint8Array(4), { major: 2 }));
    },
    expect: /header length \d+ is larger than the 10000-byte limit/,
  },
  {
    name: 'npy-shape-vs-data',
    reader: 'npy',
    threat: 'a shape of a million floats over 4 bytes of data',
    build: (dir) => write(dir, 'shape.npy', npyBytes(npyHeader('<f4', false, '(1000000,)'), new Uint8Array(4))),
    expect: /truncated \.npy data: shape \[1000000\] needs 4000000 bytes, file has 4/,
  },
  {
    name: 'npy-overflow-hidden-by-zero',
    reader: 'npy',
    threat: 'a shape (2^32, 2^32, 0): the product overflows, then the 0 makes it look empty',
    build: (dir) => write(dir, 'overflow.npy', npyBytes(npyHeader('<f4', false, '(4294967296, 4294967296, 0)'), new Uint8Array(0))),
    expect: /shape \(4294967296, 4294967296, 0\) in \.npy header has too many elements/,
  },
  {
    name: 'npy-fortran-order',
    reader: 'npy',
    threat: 'a Fortran-order 2 x 3 array: read as C order its values land in the wrong places',
    build: (dir) => write(dir, 'fortran.npy', npyBytes(npyHeader('<f4', true, '(2, 3)'), new Uint8Array(24))),
    expect: /Fortran-order arrays are not supported/,
  },
  {
    name: 'npy-object-dtype',
    reader: 'npy',
    threat: "an object array ('|O'): numpy would unpickle its data",
    build: (dir) => write(dir, 'object.npy', npyBytes(npyHeader('|O', false, '(1,)'), new Uint8Array(8))),
    expect: /unsupported \.npy dtype '\|O'/,
  },
  {
    name: 'npy-proto-dtype',
    reader: 'npy',
    threat: "a dtype named '__proto__': a lookup table that is a plain object answers with Object.prototype",
    build: (dir) => write(dir, 'proto.npy', npyBytes(npyHeader('__proto__', false, '(1,)'), new Uint8Array(4))),
    expect: /unsupported \.npy dtype '__proto__'/,
  },
];

export const FILES_HOSTILE_CASES: HostileCase[] = [
  ...(process.platform === 'win32' ? [] : ACCESS_CASES),
  ...SHARD_NAME_CASES,
  ...SAFETENSORS_CASES,
  ...ONNX_CASES,
  ...NPY_CASES,
];

// --- large but legal -----------------------------------------------------------------------------

/** A big but valid file that careless code (spreads into calls, quadratic loops) fails on. */
export interface LargeLegalCase {
  name: string;
  reader: string;
  /** What careless code does with it. */
  threat: string;
  /** Writes the file (or folder) under `dir` and returns the path to give `lineage inspect`. */
  build(dir: string): Promise<string>;
  /** Tensors `lineage inspect` must list. */
  tensors: number;
}

const MANY = 200_000;
/** Identity chain length: walking each alias to its root anew takes minutes. */
const CHAIN = 50_000;

export const LARGE_LEGAL_FILES: LargeLegalCase[] = [
  {
    name: 'safetensors-200k-tensors',
    reader: 'safetensors',
    threat: 'Math.max(...widths) or push(...entries) over 200,000 tensors overflows the call stack',
    build: (dir) => write(dir, 'many.safetensors', manyTensorsSafetensors(MANY)),
    tensors: MANY,
  },
  {
    name: 'safetensors-sharded-200k-tensors',
    reader: 'safetensors-sharded',
    threat: 'an index mapping 200,000 tensors to one shard',
    build: (dir) =>
      modelFolder(dir, async (f) => {
        await write(f, 'model-00001-of-00001.safetensors', manyTensorsSafetensors(MANY));
        const weightMap: Record<string, string> = {};
        for (let i = 0; i < MANY; i++) weightMap[`t.${i}`] = 'model-00001-of-00001.safetensors';
        await write(f, SHARD_INDEX, JSON.stringify({ metadata: { total_size: 4 * MANY }, weight_map: weightMap }));
      }),
    tensors: MANY,
  },
  {
    name: 'onnx-200k-initializers',
    reader: 'onnx',
    threat: '200,000 initializers',
    build: (dir) => {
      const initializers: Uint8Array[] = [];
      for (let i = 0; i < MANY; i++) initializers.push(onnxInitializer(`t.${i}`, [1], new Uint8Array(4)));
      return write(dir, 'many-initializers.onnx', onnxModel(initializers));
    },
    tensors: MANY,
  },
  {
    name: 'onnx-200k-node-inputs',
    reader: 'onnx',
    threat: 'one Concat node with 200,000 inputs: fn(...node.inputs) overflows the call stack',
    build: (dir) => {
      const inputs = Array.from({ length: MANY }, (_, i) => `x${i}`);
      const axis = pbMessage(ONNX.node.attribute, [
        pbString(ONNX.attribute.name, 'axis'),
        pbVarint(ONNX.attribute.i, 0),
        pbVarint(ONNX.attribute.type, ONNX.attributeType.int),
      ]);
      const node = onnxNode('Concat', inputs, ['y'], [axis]);
      return write(dir, 'wide-node.onnx', onnxModel([onnxInitializer('fc.weight', [2], new Uint8Array(8)), node]));
    },
    tensors: 1,
  },
  {
    name: 'onnx-identity-chain',
    reader: 'onnx',
    threat: 'a chain of 50,000 Identity nodes aliasing one initializer: resolving each alias by walking the chain is quadratic',
    build: (dir) => {
      const nodes: Uint8Array[] = [onnxInitializer('chain.root.weight', [2], new Uint8Array(8))];
      for (let i = 0; i < CHAIN; i++) nodes.push(onnxNode('Identity', [i === 0 ? 'chain.root.weight' : `chain.${i - 1}.weight`], [`chain.${i}.weight`]));
      return write(dir, 'identity-chain.onnx', onnxModel(nodes));
    },
    // Every alias looks like a state-dict key, so the initializer and all its aliases are listed.
    tensors: CHAIN + 1,
  },
];

// --- files that load but fail later ----------------------------------------------------------------

/**
 * A valid ONNX file that ONNX Runtime refuses: Gemm of x [1, 3] by w [4, 2], whose inner
 * dimensions disagree. Its failure must name the file, not only repeat ONNX Runtime's words.
 */
export function buildOnnxRuntimeRefusal(dir: string): Promise<string> {
  const graph = [
    onnxValueInfo(ONNX.graph.input, 'x', [1, 3]),
    onnxInitializer('fc.weight', [4, 2], new Uint8Array(32)),
    onnxNode('Gemm', ['x', 'fc.weight'], ['y']),
    onnxValueInfo(ONNX.graph.output, 'y', [1, 2]),
  ];
  return write(dir, 'gemm-mismatch.onnx', onnxModel(graph));
}

/** A float32 .npy probe of `rows` x `columns` zeros. */
export function buildProbe(dir: string, name: string, rows: number, columns: number): Promise<string> {
  return write(dir, name, npyBytes(npyHeader('<f4', false, `(${rows}, ${columns})`), new Uint8Array(4 * rows * columns)));
}

/** A FIFO named like a probe: reading it blocks forever. */
export async function buildFifoProbe(dir: string): Promise<string> {
  return mkfifo(join(dir, 'probe.npy'));
}
