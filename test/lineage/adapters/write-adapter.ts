/** Writes PEFT adapter folders and small base checkpoints by hand, the way PeftModel.save_pretrained lays them out. */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../../src/formats/safetensors.js';
import { float32Tensor, type Tensor } from '../../../src/tensor.js';

/** A row-major matrix given as rows. */
export type Rows = readonly (readonly number[])[];

export function matrix(rows: Rows): Tensor {
  return float32Tensor([rows.length, rows[0]?.length ?? 0], rows.flat());
}

export const LORA_CONFIG = {
  peft_type: 'LORA',
  r: 2,
  lora_alpha: 4,
  target_modules: ['q_proj', 'v_proj'],
  fan_in_fan_out: false,
  base_model_name_or_path: 'tiny-base',
};

/** Creates `folder` with adapter_config.json (`config`) and adapter_model.safetensors (`tensors`). */
export async function writeAdapter(folder: string, config: Record<string, unknown>, tensors: ReadonlyMap<string, Tensor>): Promise<string> {
  await fs.mkdir(folder, { recursive: true });
  await fs.writeFile(join(folder, 'adapter_config.json'), JSON.stringify(config));
  await writeSafetensors(join(folder, 'adapter_model.safetensors'), new Map(tensors));
  return folder;
}

/** Writes `tensors` as `file` (safetensors) and returns its path. */
export async function writeBase(file: string, tensors: ReadonlyMap<string, Tensor>): Promise<string> {
  await writeSafetensors(file, new Map(tensors));
  return file;
}
