/**
 * Fine-tuning modes: which tensors train, which stay bit-identical.
 *   full       every parameter trains; BatchNorm in training mode (batch statistics, running
 *              statistics updated with momentum 0.1, as PyTorch's model.train()).
 *   partial:k  the first k blocks (see blocks.ts) are frozen: parameters AND BatchNorm running
 *              statistics stay as they were (their BN runs in eval mode, like a frozen backbone);
 *              the rest trains as in `full`.
 *   head-only  a linear probe: only the task head trains; the backbone, BN statistics included, is
 *              frozen.
 *   lora:r     rank-r adapters on every Gemm/Conv weight outside the head (lora.ts) plus the head
 *              train; base weights and BN statistics are frozen. Saved merged (W + alpha/r B A)
 *              as an ordinary state dict, and the adapters alone as a second file.
 * Head: a classification head is re-initialised (from the seed) when the class count differs or
 * when asked; a dense task gets a seg_head / det_head (heads.ts), kept from the parent when it has
 * one of the right shape. Dense-head tensors of the other kinds are dropped.
 */
import { buildGraph } from '../archs/registry.js';
import type { TaskKind } from '../data/types.js';
import { type Graph, truncateGraph } from '../graph/ir.js';
import type { Tensor, Weights } from '../tensor.js';
import { type BatchStatistics, trainModeBatchNorm } from './batchnorm.js';
import { modelBlocks } from './blocks.js';
import { DET_HEAD, SEG_HEAD, buildHeadedModel, denseHeadShapes, splitDenseHeads } from './heads.js';
import { initParams } from './init.js';
import { type LoraConfig, type LoraTarget, addLora, initLora, loraTargets } from './lora.js';
import { INPUT_NAME } from '../archs/types.js';
import { isBufferName } from '../base/naming.js';

export type FinetuneMode = { kind: 'full' } | { kind: 'partial'; frozenBlocks: number } | { kind: 'head-only' } | { kind: 'lora'; rank: number; alpha: number };

export function formatMode(mode: FinetuneMode): string {
  switch (mode.kind) {
    case 'partial':
      return `partial:${mode.frozenBlocks}`;
    case 'lora':
      return mode.alpha === mode.rank ? `lora:${mode.rank}` : `lora:${mode.rank}:${mode.alpha}`;
    default:
      return mode.kind;
  }
}

export interface FinetuneOptions {
  kind: TaskKind;
  /** Classes of the task (segmentation: including background). */
  numClasses: number;
  /** Input shape of the task's examples (C,H,W). */
  inputShape: readonly number[];
  /** Detection: object slots per image. */
  slots?: number;
  mode: FinetuneMode;
  /** Seeds new heads and adapters. */
  seed: number;
  /** Re-initialise the task head even when its shape fits. */
  replaceHead?: boolean;
  /** Force the architecture family instead of inferring it. */
  arch?: string;
  segLayer?: string;
  /** Names the weights in errors. */
  source?: string;
}

export interface TrainPlan {
  kind: TaskKind;
  /** Graph the optimizer steps through: BatchNorm of trainable blocks in training mode. */
  trainGraph: Graph;
  /** Graph for evaluation: every BatchNorm on running statistics. */
  evalGraph: Graph;
  input: string;
  output: string;
  /** Every tensor the graphs read by state-dict name: the model's state dict plus adapters. */
  initial: Weights;
  /** Keys of the state dict to save (adapters merged away), in order. */
  stateKeys: string[];
  trainable: string[];
  batchStats: BatchStatistics[];
  headParams: string[];
  /** Layers (tap names) frozen by partial fine-tuning. */
  frozenLayers: string[];
  lora?: { config: LoraConfig; targets: LoraTarget[] };
  headReplaced: boolean;
  architecture: string;
}

function replaceInOrder(weights: Weights, fresh: Weights): Weights {
  const out: Weights = new Map();
  for (const [k, t] of weights) out.set(k, fresh.get(k) ?? t);
  for (const [k, t] of fresh) if (!out.has(k)) out.set(k, t);
  return out;
}

function sameShape(t: Tensor | undefined, shape: readonly number[]): boolean {
  return t !== undefined && t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
}

/** The state dict with the task head in place: kept, resized or new. */
function withTaskHead(weights: Weights, options: FinetuneOptions): { weights: Weights; replaced: boolean } {
  const { core, dense } = splitDenseHeads(weights);
  const built = buildGraph(core, { arch: options.arch, inputShape: [...options.inputShape], source: options.source });
  if (options.kind === 'classification') {
    const [headWeight] = built.headParams;
    const current = core.get(headWeight) as Tensor;
    const shape = [options.numClasses, ...current.shape.slice(1)];
    if (!options.replaceHead && current.shape[0] === options.numClasses) return { weights: core, replaced: false };
    const fresh = initParams(
      built.headParams.map((name) => ({ name, shape: name === headWeight ? shape : [options.numClasses] })),
      options.seed,
    );
    return { weights: replaceInOrder(core, fresh), replaced: true };
  }
  const shapes = denseHeadShapes(built, options.kind, options.numClasses, options.inputShape, { slots: options.slots, segLayer: options.segLayer });
  const prefix = options.kind === 'segmentation' ? SEG_HEAD : DET_HEAD;
  const kept = new Map([...dense].filter(([k]) => k.startsWith(`${prefix}.`)));
  const fits = !options.replaceHead && shapes.every((s) => sameShape(kept.get(s.name), s.shape));
  if (fits) return { weights: replaceInOrder(core, kept), replaced: false };
  return { weights: replaceInOrder(core, initParams(shapes, options.seed)), replaced: true };
}

function isTrainableTensor(name: string, t: Tensor): boolean {
  return (
    !isBufferName(name) && !name.startsWith('const:') && (t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'bfloat16' || t.dtype === 'float64')
  );
}

/**
 * Everything the trainer needs to fine-tune `weights` for a task in a given mode. Dense tasks run
 * one forward pass to size their head, so call initTfjs() first.
 */
export function prepareFinetune(weights: Weights, options: FinetuneOptions): TrainPlan {
  const { weights: state, replaced } = withTaskHead(weights, options);
  const headed = buildHeadedModel(state, {
    kind: options.kind,
    inputShape: options.inputShape,
    arch: options.arch,
    source: options.source,
    segLayer: options.segLayer,
  });
  const params = [...state].filter(([k, t]) => isTrainableTensor(k, t)).map(([k]) => k);
  let trainable: string[];
  let graph = headed.graph;
  let frozenLayers: string[] = [];
  let lora: TrainPlan['lora'];
  const initial: Weights = new Map(state);
  const mode = options.mode;
  switch (mode.kind) {
    case 'full':
      trainable = params;
      break;
    case 'head-only':
      trainable = headed.headParams;
      break;
    case 'partial': {
      const blocks = modelBlocks(headed.built);
      if (!Number.isSafeInteger(mode.frozenBlocks) || mode.frozenBlocks < 0 || mode.frozenBlocks > blocks.length) {
        throw new Error(`partial:${mode.frozenBlocks}: ${headed.built.arch.name} has ${blocks.length} blocks (${blocks.map((b) => b.layer).join(', ')})`);
      }
      const frozen = new Set(blocks.slice(0, mode.frozenBlocks).flatMap((b) => b.params));
      frozenLayers = blocks.slice(0, mode.frozenBlocks).map((b) => b.layer);
      trainable = params.filter((k) => !frozen.has(k));
      break;
    }
    case 'lora': {
      const config: LoraConfig = { rank: mode.rank, alpha: mode.alpha };
      const targets = loraTargets(headed.graph, new Set(headed.headParams));
      const adapters = initLora(targets, config, options.seed);
      graph = addLora(headed.graph, targets, config, adapters);
      for (const [k, t] of adapters) initial.set(k, t);
      trainable = [...adapters.keys(), ...headed.headParams];
      lora = { config, targets };
      break;
    }
  }
  // a tensor that does not reach the output gets no gradient and stays as it is (PyTorch skips
  // parameters whose grad is None): e.g. the classification head of a segmentation model
  const reachable = new Set(truncateGraph(graph, [headed.output]).initializers.keys());
  trainable = trainable.filter((k) => reachable.has(k));
  if (trainable.length === 0) throw new Error(`${options.source ?? 'weights'}: ${formatMode(mode)} leaves nothing to train`);
  const trainableSet = new Set(trainable);
  const { graph: trainGraph, stats } = trainModeBatchNorm(graph, (prefix) => trainableSet.has(`${prefix}.weight`));
  return {
    kind: options.kind,
    trainGraph,
    evalGraph: graph,
    input: INPUT_NAME,
    output: headed.output,
    initial,
    stateKeys: [...state.keys()],
    trainable,
    batchStats: stats,
    headParams: headed.headParams,
    frozenLayers,
    ...(lora ? { lora } : {}),
    headReplaced: replaced,
    architecture: headed.built.arch.name,
  };
}
