/**
 * A base model with a LoRA adapter merged in, as a lazy model source: W' = W + scale * B A for each
 * target, computed on demand for the rows asked for; every other base tensor is read as it is, and
 * a full tensor the adapter saved (PEFT's modules_to_save, saved embeddings) replaces the base's.
 */
import { check, FormatError } from '../../formats/errors.js';
import { recycleFloat32 } from '../../source/block-buffers.js';
import { checkRowRange, rowCount } from '../../source/rows.js';
import type { ModelSource, SourceTensor } from '../../source/types.js';
import { BaseResolver, expectedShape } from './base-match.js';
import { baseName, type LoraTarget } from './targets.js';

/** Where a merged tensor's values come from. */
type Plan = { kind: 'base' } | { kind: 'lora'; target: LoraTarget; inputs: number; outputs: number } | { kind: 'adapter'; name: string };

/** Each target's base tensor, which must be named the adapter's way and shaped as its factors say. */
function lora(base: ModelSource, adapter: ModelSource, targets: readonly LoraTarget[]): Map<string, Plan> {
  const resolver = new BaseResolver(base, targets);
  const plans = new Map<string, Plan>();
  for (const target of targets) {
    const found = resolver.resolve(target.module);
    check(found !== undefined, base.file, `has no tensor "${target.module}" for the adapter's ${target.a}`);
    check(
      found.sameNaming,
      base.file,
      `names "${target.module}" as "${found.tensor.name}"; merging an adapter needs a base named as the adapter's (Hugging Face) checkpoint`,
    );
    const [rows, cols] = expectedShape(target, adapter);
    const shape = found.tensor.shape;
    check(
      shape.length === 2 && shape[0] === rows && shape[1] === cols,
      base.file,
      `tensor "${found.tensor.name}" is [${shape.join(', ')}]; the adapter's ${target.a} needs [${rows}, ${cols}]`,
    );
    check(!plans.has(found.tensor.name), adapter.file, `changes base tensor "${found.tensor.name}" twice`);
    const [outputs, inputs] = target.fanInFanOut ? [cols, rows] : [rows, cols];
    plans.set(found.tensor.name, { kind: 'lora', target, inputs, outputs });
  }
  return plans;
}

/** Adapter tensors that are not LoRA factors are whole base tensors saved with the adapter. */
function replacements(base: ModelSource, adapter: ModelSource, targets: readonly LoraTarget[], plans: Map<string, Plan>): void {
  const factors = new Set(targets.flatMap((t) => [t.a, t.b]));
  const baseTensors = new Map(base.tensors.map((t) => [t.name, t]));
  for (const tensor of adapter.tensors) {
    if (factors.has(tensor.name)) continue;
    const name = baseName(tensor.name);
    const own = baseTensors.get(name);
    check(own !== undefined, adapter.file, `tensor "${tensor.name}" is not a LoRA factor, and the base has no tensor "${name}" for it to replace`);
    check(
      own.shape.length === tensor.shape.length && own.shape.every((d, i) => d === tensor.shape[i]),
      adapter.file,
      `tensor "${tensor.name}" is [${tensor.shape.join(', ')}], but the base tensor "${name}" it replaces is [${own.shape.join(', ')}]`,
    );
    check(!plans.has(name), adapter.file, `both changes and replaces base tensor "${name}"`);
    plans.set(name, { kind: 'adapter', name: tensor.name });
  }
}

function listing(base: ModelSource, adapter: ModelSource, plans: Map<string, Plan>): SourceTensor[] {
  const adapterTensors = new Map(adapter.tensors.map((t) => [t.name, t]));
  return base.tensors.map((t) => {
    const plan = plans.get(t.name);
    if (plan?.kind === 'lora') return { name: t.name, dtype: 'float32', shape: [...t.shape], bytes: 4 * t.shape[0] * t.shape[1] };
    const saved = plan?.kind === 'adapter' ? adapterTensors.get(plan.name) : undefined;
    return saved === undefined ? t : { name: t.name, dtype: saved.dtype, shape: [...t.shape], bytes: saved.bytes };
  });
}

/**
 * Rows [start, start + count) of W + scale * B A, W being [out, in]: they need the same rows of B and all of A.
 * With fan_in_fan_out W is [in, out] and gets scale * (B A)^T: its rows need the same columns of A and all of B.
 */
async function mergedRows(
  base: ModelSource,
  adapter: ModelSource,
  name: string,
  plan: Extract<Plan, { kind: 'lora' }>,
  start: number,
  count: number,
): Promise<Float32Array> {
  const { target, inputs, outputs } = plan;
  const r = target.rank;
  const w = await base.readRows(name, start, count);
  const a = await adapter.readFloat32(target.a);
  const b = target.fanInFanOut ? await adapter.readFloat32(target.b) : await adapter.readRows(target.b, start, count);
  const width = target.fanInFanOut ? outputs : inputs;
  const out = new Float32Array(count * width);
  const delta = new Float64Array(width);
  for (let i = 0; i < count; i++) {
    delta.fill(0);
    for (let k = 0; k < r; k++) {
      if (target.fanInFanOut) {
        // (B A)^T [i, j] = sum_k A[k, start + i] B[j, k]
        const coefficient = a[k * inputs + start + i];
        for (let j = 0; j < width; j++) delta[j] += coefficient * b[j * r + k];
      } else {
        // (B A) [start + i, j] = sum_k B[start + i, k] A[k, j]
        const coefficient = b[i * r + k];
        for (let j = 0; j < width; j++) delta[j] += coefficient * a[k * inputs + j];
      }
    }
    for (let j = 0; j < width; j++) out[i * width + j] = w[i * width + j] + target.scale * delta[j];
  }
  for (const used of [w, a, b]) recycleFloat32(used);
  return out;
}

/**
 * `base` with the adapter's targets merged in, lazily. Same tensor names, order and shapes as the
 * base; merged tensors are labelled float32. Only bases named the adapter's way (Hugging Face
 * names, same naming family) can be merged: a GGUF base permutes and quantises what it stores.
 * Closing it closes neither the base nor the adapter: their owner does.
 */
export function mergedSource(base: ModelSource, adapter: ModelSource, targets: readonly LoraTarget[]): ModelSource {
  const plans = lora(base, adapter, targets);
  replacements(base, adapter, targets, plans);
  const tensors = listing(base, adapter, plans);
  const shapes = new Map(tensors.map((t) => [t.name, t.shape]));
  const path = `${base.path}+${adapter.path}`;
  const readRows = async (name: string, start: number, count: number): Promise<Float32Array> => {
    const shape = shapes.get(name);
    if (shape === undefined) throw new FormatError(path, `no tensor named "${name}"`);
    checkRowRange(path, name, shape, start, count);
    const plan = plans.get(name) ?? { kind: 'base' };
    if (plan.kind === 'lora') return mergedRows(base, adapter, name, plan, start, count);
    return plan.kind === 'adapter' ? adapter.readRows(plan.name, start, count) : base.readRows(name, start, count);
  };
  return {
    path,
    file: base.file,
    format: base.format,
    metadata: base.metadata,
    ...(base.config === undefined ? {} : { config: base.config }),
    tensors,
    readRows,
    readFloat32: (name) => readRows(name, 0, rowCount(shapes.get(name) ?? [])),
    close: async () => {},
  };
}
