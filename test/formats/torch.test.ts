import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { unzipSync, zipSync } from 'fflate';
import { readTorchCheckpoint, readTorchFile } from '../../src/formats/torch.js';
import { FormatError } from '../../src/formats/errors.js';
import { shapeSize, tensorBytes, type Tensor } from '../../src/tensor.js';

// Reference values come from scripts/make_format_fixtures.py (PyTorch 1.13).
const dir = 'fixtures/formats';
const fixture = (name: string): Uint8Array => readFileSync(join(dir, name));

interface ExpectedTensor {
  name: string;
  shape: number[];
  dtype: string;
  sum: number;
  sum_squares: number;
}
const resnetExpected = JSON.parse(readFileSync(join(dir, 'resnet18.expected.json'), 'utf8')) as {
  tensors: ExpectedTensor[];
  parameter_count: number;
};
type JsonValues = (number | string)[];
interface SmallTensor {
  dtype: string;
  shape: number[];
  values: JsonValues;
}
const small = JSON.parse(readFileSync(join(dir, 'torch_small.expected.json'), 'utf8')) as {
  mixed_dtypes: { tensors: Record<string, SmallTensor> };
  nested_checkpoint: { tensors: Record<string, SmallTensor>; metadata: Record<string, string> };
  missing_record: { record: string; tensor: string };
  evil_os_system: { global: string };
  evil_eval: { global: string };
  whole_model: { global: string };
};

const resnetBytes = gunzipSync(fixture('resnet18.pt.gz'));
const resnet = readTorchCheckpoint(resnetBytes, 'resnet18.pt');

/** The tensors of the python-written safetensors copy, parsed here by hand as an independent reference. */
function safetensorsRecords(bytes: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, { data_offsets?: [number, number] }>;
  const data = bytes.subarray(8 + headerLength);
  const out = new Map<string, Uint8Array>();
  for (const [name, info] of Object.entries(header)) {
    if (info.data_offsets) out.set(name, data.subarray(info.data_offsets[0], info.data_offsets[1]));
  }
  return out;
}

function float64Sums(t: Tensor): { sum: number; squares: number } {
  let sum = 0;
  let squares = 0;
  for (const v of t.data as Iterable<number | bigint>) {
    const x = Number(v);
    sum += x;
    squares += x * x;
  }
  return { sum, squares };
}

function expectThrowsFormatError(fn: () => unknown, ...parts: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(FormatError);
  for (const part of parts) expect((caught as Error).message).toContain(part);
}

/** Exact JSON form of a tensor's values, as the fixture script writes them. */
function jsonValues(t: Tensor): JsonValues {
  const values = Array.from(t.data as ArrayLike<number | bigint>);
  if (t.dtype === 'int64') return values.map((v) => v.toString());
  if (t.dtype === 'float32' || t.dtype === 'float64')
    return values.map((v) => (Number.isFinite(v) ? Number(v) : String(v).replace('Infinity', 'inf').replace('NaN', 'nan')));
  return values.map(Number);
}

function expectTensorsMatch(weights: Map<string, Tensor>, expected: Record<string, SmallTensor>): void {
  expect([...weights.keys()]).toEqual(Object.keys(expected));
  for (const [name, want] of Object.entries(expected)) {
    const t = weights.get(name) as Tensor;
    expect({ name, dtype: t.dtype, shape: t.shape }).toEqual({ name, dtype: want.dtype, shape: want.shape });
    const wantValues = t.dtype === 'float32' ? want.values.map((v) => (typeof v === 'number' ? Math.fround(v) : v)) : want.values;
    expect(jsonValues(t), name).toEqual(wantValues);
  }
}

describe('PyTorch zip checkpoints written by torch.save', () => {
  it('reads the resnet18 state dict in order with the right names, shapes and dtypes', () => {
    expect(resnet.format).toBe('pytorch');
    expect(resnet.metadata.torch_archive).toBe('archive');
    expect(resnet.weights.size).toBe(122);
    expect([...resnet.weights.keys()]).toEqual(resnetExpected.tensors.map((t) => t.name));
    for (const want of resnetExpected.tensors) {
      const t = resnet.weights.get(want.name) as Tensor;
      expect({ name: want.name, shape: t.shape, dtype: t.dtype }).toEqual({ name: want.name, shape: want.shape, dtype: want.dtype });
    }
    let parameters = 0;
    for (const [name, t] of resnet.weights) if (!/(running_mean|running_var|num_batches_tracked)$/.test(name)) parameters += shapeSize(t.shape);
    expect(parameters).toBe(resnetExpected.parameter_count);
  });

  it('matches per-tensor float64 sums and sums of squares computed by PyTorch', () => {
    for (const want of resnetExpected.tensors) {
      const { sum, squares } = float64Sums(resnet.weights.get(want.name) as Tensor);
      // Only the summation order differs from torch's, so the tolerance is a few float64 ulps of the magnitude.
      const scale = Math.max(1, want.sum_squares);
      expect(Math.abs(sum - want.sum), want.name).toBeLessThan(1e-9 * Math.max(scale, Math.abs(want.sum)));
      expect(Math.abs(squares - want.sum_squares), want.name).toBeLessThan(1e-9 * scale);
    }
    const bn = resnet.weights.get('bn1.running_var') as Tensor;
    expect(float64Sums(bn).sum).not.toBe(64); // BatchNorm statistics are not the defaults
  });

  it('is byte-identical to the safetensors copy numpy wrote', () => {
    const reference = safetensorsRecords(gunzipSync(fixture('resnet18.safetensors.gz')));
    expect([...reference.keys()]).toEqual([...resnet.weights.keys()]);
    for (const [name, t] of resnet.weights) {
      expect(Buffer.compare(Buffer.from(tensorBytes(t)), Buffer.from(reference.get(name) as Uint8Array)), name).toBe(0);
    }
  });

  it('reads every supported dtype, transposed, expanded and storage-sharing views exactly', () => {
    const { weights, metadata } = readTorchCheckpoint(fixture('mixed_dtypes.pt'), 'mixed_dtypes.pt');
    expectTensorsMatch(weights, small.mixed_dtypes.tensors);
    expect(metadata).toEqual({ torch_archive: 'archive' });
    // Two views of one storage must not alias each other after loading.
    const a = weights.get('shared_a') as Tensor;
    const b = weights.get('shared_b') as Tensor;
    expect(a.data.buffer).not.toBe(b.data.buffer);
  });

  it('reads archives with another folder name, a byteorder record and deflated records', () => {
    const records = unzipSync(fixture('mixed_dtypes.pt'));
    const renamed: Record<string, Uint8Array> = { 'my_model/byteorder': new TextEncoder().encode('little') };
    for (const [name, data] of Object.entries(records)) renamed[name.replace(/^archive\//, 'my_model/')] = data;
    const { weights, metadata } = readTorchCheckpoint(zipSync(renamed, { level: 6 }), 'renamed.pt');
    expectTensorsMatch(weights, small.mixed_dtypes.tensors);
    expect(metadata.torch_archive).toBe('my_model');
    renamed['my_model/byteorder'] = new TextEncoder().encode('big');
    expectThrowsFormatError(() => readTorchCheckpoint(zipSync(renamed, { level: 0 }), 'big.pt'), 'big.pt: checkpoint was saved on a big-endian machine');
  });

  it('finds the state dict nested under "model" and keeps plain top-level values as metadata', async () => {
    const { weights, metadata } = await readTorchFile(join(dir, 'nested_checkpoint.pt'));
    expectTensorsMatch(weights, small.nested_checkpoint.tensors);
    expect(metadata).toEqual({ ...small.nested_checkpoint.metadata, torch_archive: 'archive', state_dict_key: 'model' });
  });
});

describe('hostile and broken PyTorch files', () => {
  it('refuses a pickle that calls os.system, naming the file and the function', () => {
    expectThrowsFormatError(
      () => readTorchCheckpoint(fixture('evil_os_system.pt'), 'evil_os_system.pt'),
      'evil_os_system.pt: refusing to load',
      `pickle references ${small.evil_os_system.global}, which is not part of a tensor state dict`,
    );
  });

  it('refuses a whole pickled model with a hint to save its state dict', () => {
    expectThrowsFormatError(
      () => readTorchCheckpoint(fixture('whole_model.pt'), 'whole_model.pt'),
      `whole_model.pt: refusing to load: pickle references ${small.whole_model.global}`,
      'save model.state_dict() instead',
    );
  });

  it('refuses a protocol 4 pickle that calls builtins.eval', () => {
    expectThrowsFormatError(() => readTorchCheckpoint(fixture('evil_eval.pt'), 'evil_eval.pt'), 'evil_eval.pt:', small.evil_eval.global);
  });

  it('names the missing storage record and its tensor', () => {
    const { record, tensor } = small.missing_record;
    expectThrowsFormatError(
      () => readTorchCheckpoint(fixture('missing_record.pt'), 'missing_record.pt'),
      'missing_record.pt:',
      `missing record ${record}`,
      `'${tensor}'`,
    );
  });

  it('rejects the legacy pre-1.6 format with a hint to re-save', () => {
    expectThrowsFormatError(
      () => readTorchCheckpoint(fixture('legacy.pt'), 'legacy.pt'),
      'legacy.pt: legacy (pre-1.6) PyTorch format is not supported; re-save with torch>=1.6',
    );
  });

  it('rejects truncated zips', () => {
    const bytes = fixture('mixed_dtypes.pt');
    for (const length of [bytes.length - 10, Math.floor(bytes.length / 2), 30]) {
      expectThrowsFormatError(() => readTorchCheckpoint(bytes.subarray(0, length), 'cut.pt'), 'cut.pt: corrupt or truncated zip archive');
    }
    expectThrowsFormatError(() => readTorchCheckpoint(resnetBytes.subarray(0, resnetBytes.length - 1000), 'cut.pt'), 'cut.pt: corrupt or truncated zip');
  });

  it('rejects random bytes, with and without a zip signature, and empty files', () => {
    let seed = 12345;
    const random = Uint8Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    random[0] = 0x13;
    expectThrowsFormatError(() => readTorchCheckpoint(random, 'noise.bin'), 'noise.bin: not a PyTorch checkpoint');
    random.set([0x50, 0x4b, 0x03, 0x04]);
    expectThrowsFormatError(() => readTorchCheckpoint(random, 'noise.bin'), 'noise.bin: corrupt or truncated zip archive');
    expectThrowsFormatError(() => readTorchCheckpoint(new Uint8Array(0), 'empty.pt'), 'empty.pt: file is empty');
  });

  it('rejects zips that are not checkpoints, TorchScript archives and corrupt records', () => {
    const text = (s: string) => new TextEncoder().encode(s);
    expectThrowsFormatError(
      () => readTorchCheckpoint(zipSync({ 'readme.txt': text('hi') }, { level: 0 }), 'other.zip'),
      'other.zip: zip archive has no <name>/data.pkl record',
      'readme.txt',
    );
    const script = zipSync({ 'm/data.pkl': text('x'), 'm/constants.pkl': text('x'), 'm/code/m.py': text('x') }, { level: 0 });
    expectThrowsFormatError(() => readTorchCheckpoint(script, 'scripted.pt'), 'scripted.pt: is a TorchScript archive');
    // A checkpoint whose storage record was shortened: the record no longer holds its storage.
    const mixed = fixture('mixed_dtypes.pt');
    const records = { 'archive/data.pkl': unzipSync(mixed)['archive/data.pkl'], 'archive/data/0': new Uint8Array(3) };
    expectThrowsFormatError(() => readTorchCheckpoint(zipSync(records, { level: 0 }), 'short.pt'), 'short.pt: record archive/data/0 has 3 bytes');
  });

  it('rejects views that reach past the end of their storage', () => {
    const zip = zipSync({ 'archive/data.pkl': singleTensorPickle('FloatStorage', 4, 2, [2, 2], [2, 1]), 'archive/data/0': new Uint8Array(16) }, { level: 0 });
    expectThrowsFormatError(
      () => readTorchCheckpoint(zip, 'oob.pt'),
      "oob.pt: tensor 'w' (offset 2, shape [2,2], stride [2,1]) reaches past the end of its 4-element storage",
    );
    const strided = zipSync({ 'archive/data.pkl': singleTensorPickle('FloatStorage', 4, 0, [3], [2]), 'archive/data/0': new Uint8Array(16) }, { level: 0 });
    expectThrowsFormatError(() => readTorchCheckpoint(strided, 'oob.pt'), "tensor 'w' (offset 0, shape [3], stride [2]) reaches past the end");
  });

  it('names dtypes it cannot represent', () => {
    const zip = zipSync({ 'archive/data.pkl': singleTensorPickle('CharStorage', 4, 0, [2, 2], [2, 1]), 'archive/data/0': new Uint8Array(4) }, { level: 0 });
    expectThrowsFormatError(() => readTorchCheckpoint(zip, 'int8.pt'), "int8.pt: tensor 'w' is stored as torch.CharStorage (int8), which is not supported");
  });

  it('refuses persistent ids that are not torch storages and files without tensors', () => {
    const notStorage = protocol2(unicode('x'), 'Q.');
    expectThrowsFormatError(
      () => readTorchCheckpoint(zipSync({ 'a/data.pkl': notStorage }, { level: 0 }), 'pid.pt'),
      'pid.pt: refusing to load: pickle has a persistent id that is not a torch storage',
    );
    const noTensors = protocol2('}', unicode('epoch'), 'K\x03s.');
    expectThrowsFormatError(() => readTorchCheckpoint(zipSync({ 'a/data.pkl': noTensors }, { level: 0 }), 'empty.pt'), 'empty.pt: holds no tensors');
  });

  it('reports a file it cannot open', async () => {
    await expect(readTorchFile(join(dir, 'does-not-exist.pt'))).rejects.toThrow(/does-not-exist\.pt: cannot read file \(ENOENT\)/);
  });
});

/** BINUNICODE of an ASCII string, as a latin-1 string of bytes. */
function unicode(s: string): string {
  return 'X' + String.fromCharCode(s.length & 0xff, (s.length >> 8) & 0xff, 0, 0) + s;
}

/** {'w': _rebuild_tensor_v2(<storageClass> '0' of numel elements, offset, size, stride, False, OrderedDict())} */
function singleTensorPickle(storageClass: string, numel: number, offset: number, size: [number, number] | [number], stride: number[]): Uint8Array {
  const ints = (xs: number[]) => '(' + xs.map((x) => 'K' + String.fromCharCode(x)).join('') + 't';
  return protocol2(
    'ccollections\nOrderedDict\n)R(',
    unicode('w'),
    'ctorch._utils\n_rebuild_tensor_v2\n((',
    unicode('storage'),
    `ctorch\n${storageClass}\n`,
    unicode('0'),
    unicode('cpu'),
    'K' + String.fromCharCode(numel) + 'tQ',
    'K' + String.fromCharCode(offset),
    ints(size),
    ints(stride),
    '\x89ccollections\nOrderedDict\n)RtRu.',
  );
}

function protocol2(...parts: string[]): Uint8Array {
  return Uint8Array.from(('\x80\x02' + parts.join('')).split(''), (c) => c.charCodeAt(0));
}
