/**
 * A PEFT LoRA adapter folder opens as a model source: the adapter's tensors under PEFT's names, its
 * adapter_config.json as the config. The folders are written by hand as PeftModel.save_pretrained
 * lays them out; expected listings are the tensors written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '../../src/formats/errors.js';
import { MAX_CONFIG_BYTES, openModelSource } from '../../src/source/index.js';
import { PROTOCOL_2, intTuple, latin1, rebuildTensor, storagePid, unicode, zipArchive } from '../../src/testing/hostile/torch-bytes.js';
import { float32Tensor } from '../../src/tensor.js';
import { lineage } from '../cli/run-cli.js';
import { LORA_CONFIG, writeAdapter } from '../lineage/adapters/write-adapter.js';

const A = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
const B = 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight';
const FACTORS = new Map([
  [A, float32Tensor([2, 3], [1, 0, 2, 0, 1, -1])],
  [B, float32Tensor([4, 2], [3, 1, -1, 2, 0, 0, 5, 5])],
]);

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'source-peft-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function configOnly(name: string, config: string): Promise<{ folder: string; file: string }> {
  const folder = join(dir, name);
  await writeAdapter(folder, LORA_CONFIG, FACTORS);
  const file = join(folder, 'adapter_config.json');
  await fs.writeFile(file, config);
  return { folder, file };
}

describe('PEFT adapter folders', () => {
  it('open as a peft-lora source listing the adapter factors, with adapter_config.json as the config', async () => {
    const folder = await writeAdapter(join(dir, 'lora'), LORA_CONFIG, FACTORS);
    const source = await openModelSource(folder);
    try {
      expect([source.path, source.file, source.format]).toEqual([folder, join(folder, 'adapter_model.safetensors'), 'peft-lora']);
      expect(source.config).toEqual(LORA_CONFIG);
      expect(source.tensors).toEqual([
        { name: A, dtype: 'float32', shape: [2, 3], bytes: 24 },
        { name: B, dtype: 'float32', shape: [4, 2], bytes: 32 },
      ]);
      expect([...(await source.readRows(B, 1, 2))]).toEqual([-1, 2, 0, 0]);
    } finally {
      await source.close();
    }
  });

  it('opens adapter_model.bin (a torch.save zip) when there is no safetensors file', async () => {
    const folder = join(dir, 'lora-bin');
    await fs.mkdir(folder);
    await fs.writeFile(join(folder, 'adapter_config.json'), JSON.stringify(LORA_CONFIG));
    const pickle = `${PROTOCOL_2}}(${unicode(A)}${rebuildTensor(storagePid('FloatStorage', '0', 6), 0, intTuple([2, 3]), intTuple([3, 1]))}u.`;
    const data = new Uint8Array(Float32Array.from([1, 2, 3, 4, 5, 6]).buffer);
    await fs.writeFile(
      join(folder, 'adapter_model.bin'),
      zipArchive([
        { name: 'archive/data.pkl', data: latin1(pickle) },
        { name: 'archive/data/0', data },
      ]),
    );
    const source = await openModelSource(folder);
    try {
      expect([source.file, source.format]).toEqual([join(folder, 'adapter_model.bin'), 'peft-lora']);
      expect(source.tensors.map((t) => [t.name, t.shape])).toEqual([[A, [2, 3]]]);
      expect([...(await source.readRows(A, 1, 1))]).toEqual([4, 5, 6]);
    } finally {
      await source.close();
    }
  });

  it('refuses adapters of another PEFT type, naming the type', async () => {
    const { folder, file } = await configOnly('ia3', JSON.stringify({ ...LORA_CONFIG, peft_type: 'IA3' }));
    await expect(openModelSource(folder)).rejects.toThrow(new FormatError(file, 'field "peft_type" is "IA3"; only LORA adapters are supported'));
  });

  it('refuses a config without r, or with a fractional r, naming adapter_config.json', async () => {
    const { r: _, ...noRank } = LORA_CONFIG;
    const missing = await configOnly('no-r', JSON.stringify(noRank));
    await expect(openModelSource(missing.folder)).rejects.toThrow(new FormatError(missing.file, 'field "r" must be a positive integer, got nothing'));
    const fractional = await configOnly('half-r', JSON.stringify({ ...LORA_CONFIG, r: 1.5 }));
    await expect(openModelSource(fractional.folder)).rejects.toThrow(new FormatError(fractional.file, 'field "r" must be a positive integer, got 1.5'));
  });

  it('refuses bad lora_alpha, target_modules and fan_in_fan_out fields', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['alpha', { lora_alpha: '16' }, 'field "lora_alpha" must be a finite number, got "16"'],
      ['targets', { target_modules: [1, 2] }, 'field "target_modules" must be a list of module names or a string, got [1,2]'],
      ['fan', { fan_in_fan_out: 'yes' }, 'field "fan_in_fan_out" must be true or false, got "yes"'],
      ['no-type', { peft_type: undefined }, 'field "peft_type" is missing; a PEFT adapter config names its type (LORA)'],
    ];
    for (const [name, change, problem] of cases) {
      const { folder, file } = await configOnly(`bad-${name}`, JSON.stringify({ ...LORA_CONFIG, ...change }));
      await expect(openModelSource(folder)).rejects.toThrow(new FormatError(file, problem));
    }
  });

  it('refuses a config that is not JSON or is too big to be one, before parsing it', async () => {
    const broken = await configOnly('broken', '{"peft_type": ');
    await expect(openModelSource(broken.folder)).rejects.toThrow(FormatError);
    await expect(openModelSource(broken.folder)).rejects.toThrow(/adapter_config\.json: is not valid JSON/);
    const huge = await configOnly('huge', ' '.repeat(MAX_CONFIG_BYTES + 1));
    await expect(openModelSource(huge.folder)).rejects.toThrow(
      new FormatError(huge.file, `is ${MAX_CONFIG_BYTES + 1} bytes, more than the ${MAX_CONFIG_BYTES}-byte limit for a model config`),
    );
  });

  it('refuses an adapter config without adapter weights', async () => {
    const folder = join(dir, 'no-weights');
    await fs.mkdir(folder);
    await fs.writeFile(join(folder, 'adapter_config.json'), JSON.stringify(LORA_CONFIG));
    await expect(openModelSource(folder)).rejects.toThrow(
      new FormatError(folder, 'holds adapter_config.json but no adapter weights (looked for adapter_model.safetensors, adapter_model.bin)'),
    );
  });

  it('is listed by lineage inspect --json', async () => {
    const folder = await writeAdapter(join(dir, 'cli'), LORA_CONFIG, FACTORS);
    const r = await lineage('inspect', folder, '--json');
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect([report.file, report.format]).toEqual([join(folder, 'adapter_model.safetensors'), 'peft-lora']);
    expect(report.tensors).toEqual([
      { name: A, dtype: 'float32', shape: [2, 3], bytes: 24 },
      { name: B, dtype: 'float32', shape: [4, 2], bytes: 32 },
    ]);
    expect([report.elements, report.parameters]).toEqual([14, 14]);
  });
});
