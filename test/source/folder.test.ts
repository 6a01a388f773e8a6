import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MAX_CONFIG_BYTES, openModelSource } from '../../src/source/index.js';
import { FormatError } from '../../src/formats/errors.js';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { float32Tensor } from '../../src/tensor.js';

const GGUF = resolve(import.meta.dirname, '../../fixtures/gguf');
const TORCH = resolve(import.meta.dirname, '../../fixtures/formats');

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'source-folder-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function folder(name: string, files: Record<string, string | Uint8Array> = {}): Promise<string> {
  const path = join(dir, name);
  await fs.mkdir(path);
  for (const [file, data] of Object.entries(files)) await fs.writeFile(join(path, file), data);
  return path;
}

const CONFIG = { architectures: ['LlamaForCausalLM'], hidden_size: 8, tie_word_embeddings: true, rope_scaling: { type: 'linear', factor: 2 } };

describe('model folders', () => {
  it('opens config.json and model.safetensors, preferring safetensors to a PyTorch file beside it', async () => {
    const path = await folder('hf', { 'config.json': JSON.stringify(CONFIG) });
    await writeSafetensors(join(path, 'model.safetensors'), new Map([['embed.weight', float32Tensor([2, 2], [1, 2, 3, 4])]]));
    await fs.copyFile(join(TORCH, 'mixed_dtypes.pt'), join(path, 'pytorch_model.bin'));
    const source = await openModelSource(path);
    try {
      expect([source.path, source.file, source.format]).toEqual([path, join(path, 'model.safetensors'), 'safetensors']);
      expect(source.config).toEqual(CONFIG);
      expect([...(await source.readRows('embed.weight', 1, 1))]).toEqual([3, 4]);
    } finally {
      await source.close();
    }
  });

  it('opens a PyTorch checkpoint when that is all the folder has, config or not', async () => {
    const path = await folder('torch-only');
    await fs.copyFile(join(TORCH, 'nested_checkpoint.pt'), join(path, 'pytorch_model.bin'));
    const source = await openModelSource(path);
    try {
      expect([source.format, source.config]).toEqual(['pytorch', undefined]);
    } finally {
      await source.close();
    }
  });

  it('opens the one .gguf file of a folder', async () => {
    const path = await folder('one-gguf', { 'config.json': '{}' });
    await fs.copyFile(join(GGUF, 'q8_0.gguf'), join(path, 'model-Q8_0.gguf'));
    const source = await openModelSource(path);
    try {
      expect([source.file, source.format, source.config]).toEqual([join(path, 'model-Q8_0.gguf'), 'gguf', {}]);
    } finally {
      await source.close();
    }
  });

  it('refuses to guess between several .gguf files', async () => {
    const path = await folder('two-gguf');
    await fs.copyFile(join(GGUF, 'q8_0.gguf'), join(path, 'b.gguf'));
    await fs.copyFile(join(GGUF, 'q4_0.gguf'), join(path, 'a.gguf'));
    await expect(openModelSource(path)).rejects.toThrow(new FormatError(path, 'holds 2 .gguf files (a.gguf, b.gguf); give the path of the one to open'));
  });

  it('refuses a folder without weights, naming what it looked for', async () => {
    const path = await folder('empty', { 'config.json': '{}' });
    await expect(openModelSource(path)).rejects.toThrow(
      new FormatError(
        path,
        'is a folder without a model file (looked for model.safetensors.index.json, model.safetensors, pytorch_model.bin, model.onnx, pytorch_model.bin.index.json and a single *.gguf)',
      ),
    );
  });

  it('refuses a config.json that is not a JSON object, too big, or nested too deep, naming it', async () => {
    const weights = async (path: string): Promise<string> => {
      await writeSafetensors(join(path, 'model.safetensors'), new Map([['w', float32Tensor([1], [1])]]));
      return join(path, 'config.json');
    };
    const list = await weights(await folder('list-config', { 'config.json': '[1, 2]' }));
    await expect(openModelSource(join(dir, 'list-config'))).rejects.toThrow(new FormatError(list, 'must be a JSON object'));
    const broken = await weights(await folder('broken-config', { 'config.json': '{"a": ' }));
    await expect(openModelSource(join(dir, 'broken-config'))).rejects.toThrow(new RegExp(`^${broken}: is not valid JSON`));
    const huge = await weights(await folder('huge-config', { 'config.json': `{"a": "${'x'.repeat(MAX_CONFIG_BYTES)}"}` }));
    await expect(openModelSource(join(dir, 'huge-config'))).rejects.toThrow(
      new FormatError(huge, `is ${MAX_CONFIG_BYTES + 9} bytes, more than the ${MAX_CONFIG_BYTES}-byte limit for a model config`),
    );
    const deep = await weights(await folder('deep-config', { 'config.json': `{"a": ${'['.repeat(100_000)}${']'.repeat(100_000)}}` }));
    await expect(openModelSource(join(dir, 'deep-config'))).rejects.toThrow(
      new FormatError(deep, 'config nests JSON 33 levels deep at byte 37; at most 32 are allowed'),
    );
  });

  it('names a path that does not exist', async () => {
    const path = join(dir, 'missing');
    await expect(openModelSource(path)).rejects.toThrow(new FormatError(path, 'cannot read file (ENOENT)'));
  });
});
