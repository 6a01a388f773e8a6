/**
 * One zoo job: load (or initialise) the starting weights, fine-tune for the job's task and
 * setting, evaluate, and write the model file (plus the LoRA adapter file and the task's probe
 * file when asked). Runs the same in a worker process and in the builder's own process.
 */
import { join } from 'node:path';
import { resnetSpec } from '../archs/resnet.js';
import { mlpSpec } from '../archs/mlp.js';
import type { ArchSpec } from '../archs/types.js';
import { KNOWN_BASE_DATASETS, type KnownBaseDataset } from '../data/base-datasets.js';
import { type LoadedTask, loadBaseDataset, loadTask } from '../data/load-task.js';
import { probeInputs } from '../data/probe.js';
import { parseTaskSpec } from '../data/task-spec.js';
import { type Dataset, type DatasetSplits, datasetSize } from '../data/types.js';
import { writeNpy } from '../formats/npy.js';
import { readSafetensorsFile, writeSafetensors } from '../formats/safetensors.js';
import { initTfjs } from '../runtime/tfjs/backend.js';
import type { Weights } from '../tensor.js';
import { evaluatePlan } from './evaluate.js';
import type { Metrics } from '../zoo/manifest.js';
import { prepareFinetune } from './finetune.js';
import { initWeights } from './init.js';
import { adapterOnly } from './lora.js';
import { TrainSession, runTraining } from './trainer.js';
import type { ArchHyper, ZooJob } from './zoo-spec.js';

export interface JobRequest {
  job: ZooJob;
  /** The zoo folder; files below are relative to it. */
  outDir: string;
  file: string;
  /** Where LoRA children put their adapter-only file. */
  adapterFile: string;
  /** The parent's model file (relative), null for roots. */
  parentFile: string | null;
  /** The parent's task id (for the head policy). */
  parentTask: string | null;
  evalLimit: number;
  /** Write the task's probe file too. */
  probe?: { file: string; rows: number };
  /** Fashion-MNIST folder override. */
  dataDir?: string;
}

export interface JobResult {
  id: string;
  file: string;
  adapter?: string;
  metrics: Metrics;
  steps: number;
  firstLoss: number;
  finalLoss: number;
  headReplaced: boolean;
  frozenLayers: string[];
  probe?: { task: string; file: string; rows: number };
  seconds: number;
}

/** Datasets loaded once per process; tasks kept for reuse by the next jobs (a few at a time). */
export class DataCache {
  private readonly bases = new Map<string, Promise<DatasetSplits<Dataset>>>();
  private readonly tasks = new Map<string, Promise<LoadedTask>>();
  constructor(
    private readonly dataDir?: string,
    private readonly keepTasks = 3,
  ) {}

  private base(name: KnownBaseDataset): Promise<DatasetSplits<Dataset>> {
    let p = this.bases.get(name);
    if (!p) {
      p = loadBaseDataset(name, { dataDir: this.dataDir });
      this.bases.set(name, p);
      p.catch(() => this.bases.delete(name));
    }
    return p;
  }

  task(id: string): Promise<LoadedTask> {
    let p = this.tasks.get(id);
    if (p) {
      this.tasks.delete(id); // re-insert: most recently used last
    } else {
      p = loadTask(id, { dataDir: this.dataDir, datasets: Object.fromEntries(KNOWN_BASE_DATASETS.map((name) => [name, () => this.base(name)])) });
      p.catch(() => this.tasks.delete(id));
    }
    this.tasks.set(id, p);
    while (this.tasks.size > this.keepTasks) this.tasks.delete(this.tasks.keys().next().value as string);
    return p;
  }
}

/** The architecture of a root model for a task. */
export function rootArchSpec(arch: ZooJob['arch'], hyper: ArchHyper, task: LoadedTask): ArchSpec {
  const [channels, height, width] = task.train.shape;
  const classes = task.train.numClasses;
  switch (arch) {
    case 'mlp': {
      const features = channels * height * width;
      const sizes = hyper.sizes ?? [features, ...(hyper.hidden ?? [256, 128]), classes];
      if (sizes[0] !== features)
        throw new Error(`mlp sizes start with ${sizes[0]}, but task ${task.id} has ${features} input values (${channels}x${height}x${width})`);
      if (sizes[sizes.length - 1] !== classes) throw new Error(`mlp sizes end with ${sizes[sizes.length - 1]}, but task ${task.id} has ${classes} classes`);
      return mlpSpec(sizes);
    }
    case 'convnet':
      return { name: 'convnet', inChannels: channels, widths: [...(hyper.widths ?? [16, 32, 64])], numClasses: classes };
    default:
      return resnetSpec(arch, { inChannels: channels, numClasses: classes, stem: hyper.stem ?? 'cifar', baseWidth: hyper.baseWidth });
  }
}

function replaceHead(request: JobRequest): boolean {
  const { job, parentTask } = request;
  if (job.head === 'replace') return true;
  if (job.head === 'keep' || parentTask === null) return false;
  return parseTaskSpec(parentTask).base !== parseTaskSpec(job.task).base;
}

export async function runJob(request: JobRequest, data: DataCache, onStep?: (step: number, steps: number) => void): Promise<JobResult> {
  const started = performance.now();
  await initTfjs('wasm');
  const { job } = request;
  const task = await data.task(job.task);
  const inputShape = [...task.train.shape];
  let weights: Weights;
  if (request.parentFile === null) {
    weights = initWeights(rootArchSpec(job.arch, job.archHyper, task), job.seed);
  } else {
    weights = (await readSafetensorsFile(join(request.outDir, request.parentFile))).weights;
  }
  const slots = task.train.kind === 'detection' ? task.train.maxObjects : undefined;
  const plan = prepareFinetune(weights, {
    kind: task.kind,
    numClasses: task.train.numClasses,
    inputShape,
    ...(slots !== undefined ? { slots } : {}),
    mode: job.mode,
    seed: job.seed,
    replaceHead: replaceHead(request),
    arch: job.arch,
    source: request.parentFile ?? job.id,
  });
  const session = new TrainSession(plan, job.train, inputShape);
  try {
    const summary = await runTraining(session, task.train, job.train, { onStep: onStep && ((p) => onStep(p.step, p.steps)) });
    const metrics = evaluatePlan(plan, session.params(), task.test, { limit: request.evalLimit });
    const metadata: Record<string, string> = {
      format: 'pt',
      id: job.id,
      parent: job.parent ?? '',
      task: job.task,
      arch: plan.architecture,
      setting: job.setting,
      generation: String(job.generation),
      seed: String(job.seed),
      head: task.kind,
      input_shape: inputShape.join(','),
      normalization: JSON.stringify(task.normalization),
      ...(slots !== undefined ? { slots: String(slots) } : {}),
    };
    await writeSafetensors(join(request.outDir, request.file), session.stateDict(), metadata);
    let adapter: string | undefined;
    const adapters = session.adapters();
    if (adapters && plan.lora) {
      const { rank, alpha } = plan.lora.config;
      await writeSafetensors(join(request.outDir, request.adapterFile), adapterOnly(adapters, plan.lora.targets), {
        format: 'pt',
        id: job.id,
        base_model: job.parent ?? '',
        rank: String(rank),
        alpha: String(alpha),
        target_modules: plan.lora.targets.map((t) => t.layer).join(','),
      });
      adapter = request.adapterFile;
    }
    let probe: JobResult['probe'];
    if (request.probe) {
      const rows = Math.min(request.probe.rows, datasetSize(task.train));
      await writeNpy(join(request.outDir, request.probe.file), probeInputs(task.train, rows));
      probe = { task: job.task, file: request.probe.file, rows };
    }
    return {
      id: job.id,
      file: request.file,
      ...(adapter ? { adapter } : {}),
      metrics,
      steps: summary.steps,
      firstLoss: summary.firstLoss,
      finalLoss: summary.finalLoss,
      headReplaced: plan.headReplaced,
      frozenLayers: plan.frozenLayers,
      ...(probe ? { probe } : {}),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    session.dispose();
  }
}

/** Writes only the probe file of a task (for tasks whose models were all built before). */
export async function writeProbe(
  outDir: string,
  taskId: string,
  file: string,
  rows: number,
  data: DataCache,
): Promise<{ task: string; file: string; rows: number }> {
  const task = await data.task(taskId);
  const n = Math.min(rows, datasetSize(task.train));
  await writeNpy(join(outDir, file), probeInputs(task.train, n));
  return { task: taskId, file, rows: n };
}
