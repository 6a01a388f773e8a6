/**
 * Hostile inputs for model sources (src/source/), each built byte by byte: ONNX external data
 * that leaves the model's folder (a climbing path, an absolute path, a symlink, a FIFO), byte
 * ranges past the end of their file, config.json files built to cost memory or time, a PyTorch
 * shard index that leaves its folder, and a zip whose directory makes a paging reader thrash.
 * Every one must be refused quickly, naming the model, index or config file. `lineage compare`
 * opens model sources, so the tests run each case through it.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, open, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { concatBytes, ONNX, onnxModel, pbMessage, pbString, pbVarint } from './files-bytes.js';
import { centralHeader, concat, endOfCentralDirectory, localHeader } from './torch-bytes.js';
import type { HostileCase } from './types.js';

async function write(dir: string, name: string, bytes: Uint8Array | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** A float32 initializer of `elements` elements whose data lives where `entries` say. */
function externalInitializer(elements: number, entries: Record<string, string>): Uint8Array {
  return pbMessage(ONNX.graph.initializer, [
    pbVarint(ONNX.tensor.dims, elements),
    pbVarint(ONNX.tensor.dataType, ONNX.dataType.float),
    pbString(ONNX.tensor.name, 'w.weight'),
    ...Object.entries(entries).map(([key, value]) => pbMessage(ONNX.tensor.externalData, [pbString(ONNX.entry.key, key), pbString(ONNX.entry.value, value)])),
    pbVarint(ONNX.tensor.dataLocation, 1),
  ]);
}

/** A model folder `dir/model` whose model.onnx keeps w.weight (4 floats) where `entries` say. */
async function externalModel(dir: string, entries: Record<string, string>): Promise<string> {
  const folder = join(dir, 'model');
  await mkdir(folder, { recursive: true });
  return write(folder, 'model.onnx', onnxModel([externalInitializer(4, entries)]));
}

/** A folder with a one-tensor model.safetensors, and `config` as its config.json. */
async function configFolder(dir: string, config: (path: string) => Promise<void>): Promise<string> {
  const folder = join(dir, 'model');
  await mkdir(folder, { recursive: true });
  const header = JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } });
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);
  await write(folder, 'model.safetensors', concatBytes([prefix, new TextEncoder().encode(header), new Uint8Array(4)]));
  await config(join(folder, 'config.json'));
  return folder;
}

const ZIP_RECORDS = 200_000;

/** Little-endian bytes of `value`, `bytes` long. */
function le(value: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let rest = BigInt(value);
  for (let i = 0; i < bytes; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/** The zip64 end records (record, locator, then a classic record saying "see zip64"). */
function zip64End(entries: number, directorySize: number, directoryOffset: number): Uint8Array {
  const record = concat([
    le(0x06064b50, 4),
    le(44, 8),
    le(45, 2),
    le(45, 2),
    le(0, 4),
    le(0, 4),
    le(entries, 8),
    le(entries, 8),
    le(directorySize, 8),
    le(directoryOffset, 8),
  ]);
  const locator = concat([le(0x07064b50, 4), le(0, 4), le(directoryOffset + directorySize, 8), le(1, 4)]);
  return concat([record, locator, endOfCentralDirectory(0xffff, 0xffffffff, 0xffffffff)]);
}

/**
 * A zip of many empty records, local headers first and the central directory after them: the
 * directory reader goes from each central entry to its local header, ~10 MB away, and back, so a
 * reader caching one page of the file would reload a page for every record.
 */
function manyRecordZip(): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; i < ZIP_RECORDS; i++) {
    const fields = { name: `archive/extra/${i}`, method: 0, crc: 0, compressedSize: 0, size: 0 };
    const local = localHeader(fields);
    centrals.push(centralHeader(fields, offset));
    locals.push(local);
    offset += local.length;
  }
  const directory = concat(centrals);
  return concat([...locals, directory, zip64End(ZIP_RECORDS, directory.length, offset)]);
}

export const SOURCE_HOSTILE_CASES: HostileCase[] = [
  {
    name: 'onnx-external-climbs-out',
    reader: 'onnx-source',
    command: 'compare',
    threat: 'external data at "../secret.bin": a reader that joins the path reads a file beside the model folder',
    build: async (dir) => {
      await write(dir, 'secret.bin', new Uint8Array(16));
      return externalModel(dir, { location: '../secret.bin' });
    },
    expect: /initializer 'w\.weight' keeps its data in "\.\.\/secret\.bin", which is not a file inside the model's folder/,
  },
  {
    name: 'onnx-external-absolute',
    reader: 'onnx-source',
    command: 'compare',
    threat: 'external data at an absolute path (/etc/passwd): reads anything on the system',
    build: (dir) => externalModel(dir, { location: '/etc/passwd', length: '16' }),
    expect: /keeps its data in "\/etc\/passwd", which is not a file inside the model's folder/,
  },
  {
    name: 'onnx-external-symlink-out',
    reader: 'onnx-source',
    command: 'compare',
    threat: 'external data in "weights.bin", a symlink inside the folder to a file outside it',
    build: async (dir) => {
      const model = await externalModel(dir, { location: 'weights.bin' });
      await write(dir, 'outside.bin', new Uint8Array(16));
      await symlink(join(dir, 'outside.bin'), join(dir, 'model', 'weights.bin'));
      return model;
    },
    expect: /keeps its data in "weights\.bin", which resolves to .*outside\.bin, outside the model's folder/,
  },
  {
    name: 'onnx-external-fifo',
    reader: 'onnx-source',
    command: 'compare',
    threat: 'external data in a FIFO inside the folder: reading it blocks forever',
    build: async (dir) => {
      const model = await externalModel(dir, { location: 'weights.bin', length: '16' });
      execFileSync('mkfifo', [join(dir, 'model', 'weights.bin')]);
      return model;
    },
    expect: /weights\.bin: is a FIFO \(named pipe\), not a regular file/,
  },
  {
    name: 'onnx-external-past-end',
    reader: 'onnx-source',
    command: 'compare',
    threat: 'external data at offset 2^52 of a 16-byte file: a reader that seeks there reads nothing or garbage',
    build: async (dir) => {
      const model = await externalModel(dir, { location: 'weights.bin', offset: String(2 ** 52), length: '16' });
      await write(join(dir, 'model'), 'weights.bin', new Uint8Array(16));
      return model;
    },
    expect: /external data bytes 4503599627370496 to 4503599627370512 run past the end of "weights\.bin" \(16 bytes\)/,
  },
  {
    name: 'onnx-external-huge-length',
    reader: 'onnx-source',
    command: 'compare',
    threat: 'an external data length of 10^20 bytes: a reader that allocates it fails or swaps',
    build: (dir) => externalModel(dir, { location: 'weights.bin', length: '100000000000000000000' }),
    expect: /external_data length "100000000000000000000" is not a non-negative integer below 2\^53/,
  },
  {
    name: 'config-json-huge',
    reader: 'folder',
    command: 'compare',
    threat: 'a 2 GiB config.json (sparse on disk): a reader that parses it whole needs gigabytes',
    build: (dir) =>
      configFolder(dir, async (path) => {
        const handle = await open(path, 'w');
        await handle.truncate(2 ** 31);
        await handle.close();
      }),
    expect: /config\.json: is 2147483648 bytes, more than the 4194304-byte limit for a model config/,
  },
  {
    name: 'config-json-nested',
    reader: 'folder',
    command: 'compare',
    threat: '4 MB of "[" in config.json: JSON.parse builds millions of nested arrays',
    build: (dir) => configFolder(dir, (path) => writeFile(path, `{"a":${'['.repeat(4_000_000)}`)),
    expect: /config\.json: config nests JSON 33 levels deep at byte 36; at most 32 are allowed/,
  },
  {
    name: 'pytorch-shard-escapes-folder',
    reader: 'pytorch-sharded',
    command: 'compare',
    threat: 'a pytorch_model.bin.index.json naming "../../x.bin" as a shard: reads a file outside the folder',
    build: async (dir) => {
      const folder = join(dir, 'model');
      await mkdir(folder, { recursive: true });
      await write(folder, 'pytorch_model.bin.index.json', JSON.stringify({ weight_map: { 'w.weight': '../../x.bin' } }));
      return folder;
    },
    expect: /pytorch_model\.bin\.index\.json: shard "\.\.\/\.\.\/x\.bin" for tensor "w\.weight" is not a file inside the index's folder/,
  },
  {
    name: 'zip-directory-page-thrash',
    reader: 'pytorch-source',
    command: 'compare',
    threat: `${ZIP_RECORDS.toLocaleString('en')} records whose central entries and local headers lie ~10 MB apart: a reader caching one page of the file reloads it for every record`,
    build: (dir) => write(dir, 'many.pt', manyRecordZip()),
    expect: /many\.pt: zip archive has no <name>\/data\.pkl record/,
  },
];
