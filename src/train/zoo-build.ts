/**
 * The zoo builder: runs the jobs of a spec (zoo-spec.ts) on a few workers, parents before
 * children, and keeps DIR/manifest.json up to date after every model.
 *
 *   DIR/models/<id>.safetensors        state dict (PyTorch names); metadata id, parent, task, arch, ...
 *   DIR/models/<id>.lora.safetensors   LoRA children: the adapters alone (<layer>.lora_A/B)
 *   DIR/probes/<task>.npy              first training inputs of each task, NCHW float32, normalised
 *   DIR/manifest.json                  {"zoo": {...}, "models": [...], "probes": {task: file}}
 *
 * Every file is written atomically (temp file + rename), so manifest.json is valid JSON at every
 * moment. A rerun skips models whose manifest entry exists and whose file is a complete safetensors
 * file (and checks that they were built from the same job definition), and whose parent is skipped
 * too; anything else is (re)built. DIR/.lock (zoo-lock.ts) keeps a second build out of DIR. Nothing
 * is written before the plan's size and the roots' layer sizes are checked. The manifest's types
 * and its reader live in src/zoo/manifest.ts.
 */
import { promises as fs, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseTaskSpec } from '../data/task-spec.js';
import { writeFileAtomic } from '../base/fsutil.js';
import { ForkRunner, InProcessRunner, type JobRunner } from './runners.js';
import { DataCache, type JobRequest, type JobResult, rootArchSpec } from './zoo-job.js';
import { acquireZooLock, isLockTempInUse } from './zoo-lock.js';
import { incompleteModelFile } from './zoo-resume.js';
import { type ZooJob, type ZooSpec, jobHyper, planZoo } from './zoo-spec.js';
import { ZooSpecError } from './zoo-spec-check.js';
import { type ManifestEntry, type Zoo, type ManifestModel, type ZooManifest, MANIFEST, readZooManifest } from '../zoo/manifest.js';
import { InputError } from '../base/errors.js';

export type { ManifestModel, ZooManifest } from '../zoo/manifest.js';

export interface ZooProgress {
  done: number;
  total: number;
  skipped: number;
  /** Models in training, with their step counts. */
  running: { id: string; step: number; steps: number }[];
}

export interface BuildZooOptions {
  out: string;
  /** Worker processes (default 2); 0 trains in this process. */
  workers?: number;
  scale?: number;
  /** Fashion-MNIST folder override. */
  dataDir?: string;
  onProgress?: (progress: ZooProgress) => void;
  /** Called once per model built (not for skipped ones). */
  onModel?: (model: ManifestModel, seconds: number) => void;
  /** Told what the build does unasked: a stale lock taken over, an incomplete model file rebuilt. */
  onNotice?: (message: string) => void;
  /** The spec's file, named in errors about the spec (default 'zoo spec'). */
  specFile?: string;
  /** Makes a runner (tests); default: forked workers or the in-process runner. */
  makeRunner?: () => JobRunner;
}

export interface BuildZooResult {
  manifest: ZooManifest;
  built: string[];
  skipped: string[];
  seconds: number;
}

export function modelFile(id: string): string {
  return `models/${id}.safetensors`;
}

export function adapterFile(id: string): string {
  return `models/${id}.lora.safetensors`;
}

/** probes/<task>.npy with characters outside [A-Za-z0-9._-] replaced by '_'. */
export function probeFile(task: string): string {
  return `probes/${task.replace(/[^A-Za-z0-9._-]+/g, '_')}.npy`;
}

/** The manifest an earlier run left in `out`, if any; it may list no models yet. */
async function previousBuild(out: string): Promise<Zoo | undefined> {
  if (!existsSync(join(out, MANIFEST))) return undefined;
  try {
    return await readZooManifest(out, { allowEmpty: true });
  } catch (err) {
    if (err instanceof InputError) throw new InputError(err.file, `${err.problem}; remove it to rebuild the zoo`);
    throw err;
  }
}

function sameDefinition(entry: ManifestEntry, job: ZooJob): string | undefined {
  const fields: [string, unknown, unknown][] = [
    ['parent', entry.parent, job.parent],
    ['task', entry.task, job.task],
    ['setting', entry.setting, job.setting],
    ['seed', entry.seed, job.seed],
    ['hyper', JSON.stringify(entry.hyper), JSON.stringify(jobHyper(job))],
  ];
  const diff = fields.find(([, a, b]) => a !== b);
  return diff ? `${diff[0]} ${JSON.stringify(diff[1])} in the manifest, ${JSON.stringify(diff[2])} in the spec` : undefined;
}

function entryFor(job: ZooJob, result: JobResult): ManifestModel {
  return {
    id: job.id,
    file: result.file,
    arch: job.arch,
    parent: job.parent,
    generation: job.generation,
    task: job.task,
    setting: job.setting,
    seed: job.seed,
    hyper: jobHyper(job),
    accuracy: result.metrics.accuracy,
    metrics: result.metrics,
    ...(result.adapter ? { adapter: result.adapter } : {}),
    steps: result.steps,
    finalLoss: result.finalLoss,
    headReplaced: result.headReplaced,
    ...(result.frozenLayers.length ? { frozenLayers: result.frozenLayers } : {}),
  };
}

/**
 * Removes temp files a killed build left behind (writeFileAtomic names them .<name>.<pid>.<hex>.tmp),
 * except the lock temp files of builds still running: they are trying to take the lock.
 */
async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.startsWith('.') && n.endsWith('.tmp') && !isLockTempInUse(n)).map((n) => fs.rm(join(dir, n), { force: true })));
}

/**
 * MLP roots given all their layer sizes must start with the task's input size and end with its
 * class count; a mismatch is found on the loaded task here rather than after other roots trained.
 */
async function checkRootSizes(spec: ZooSpec, file: string, dataDir: string | undefined): Promise<void> {
  const data = new DataCache(dataDir, 1);
  const problems: string[] = [];
  for (const [i, root] of spec.roots.entries()) {
    if (root.arch !== 'mlp' || root.hyper?.sizes === undefined) continue;
    const task = await data.task(parseTaskSpec(root.task).id);
    try {
      rootArchSpec(root.arch, root.hyper, task);
    } catch (err) {
      problems.push(`roots[${i}].hyper.sizes: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ZooSpecError(file, problems);
}

export async function buildZoo(spec: ZooSpec, options: BuildZooOptions): Promise<BuildZooResult> {
  const specFile = options.specFile ?? 'zoo spec';
  const jobs = planZoo(spec, options.scale ?? 1, specFile);
  await checkRootSizes(spec, specFile, options.dataDir);
  await fs.mkdir(options.out, { recursive: true });
  const unlock = await acquireZooLock(options.out, options.onNotice);
  try {
    await fs.mkdir(join(options.out, 'models'), { recursive: true });
    await fs.mkdir(join(options.out, 'probes'), { recursive: true });
    return await buildLocked(spec, jobs, options);
  } finally {
    await unlock();
  }
}

/** What a rerun keeps of an earlier build: its complete models (by id) and its probe files (by task). */
interface Resumed {
  finished: Map<string, ManifestModel>;
  probes: Record<string, string>;
}

/**
 * The models of an earlier build that this one keeps: each must belong to the spec and have the
 * same definition (else the folder is refused), and its files must be complete (else it is rebuilt).
 */
async function resumeFrom(previous: Zoo | undefined, jobs: readonly ZooJob[], options: BuildZooOptions): Promise<Resumed> {
  const scale = options.scale ?? 1;
  const out = options.out;
  const manifestPath = join(out, MANIFEST);
  const jobById = new Map(jobs.map((j) => [j.id, j]));
  const finished = new Map<string, ManifestModel>();
  for (const { entry } of previous?.models ?? []) {
    const job = jobById.get(entry.id);
    if (!job) throw new InputError(manifestPath, `model ${entry.id} is not part of this spec (at scale ${scale}): build into a new folder`);
    const diff = sameDefinition(entry, job);
    if (diff) throw new InputError(manifestPath, `model ${entry.id} was built differently (${diff}): build into a new folder`);
  }
  for (const { entry, path } of previous?.models ?? []) {
    const files = [path, ...(entry.adapter ? [join(out, entry.adapter)] : [])];
    if (!files.every((f) => existsSync(f))) continue;
    const problems = (await Promise.all(files.map((f) => incompleteModelFile(f)))).filter((p) => p !== undefined);
    if (problems.length > 0) {
      options.onNotice?.(`rebuilding model ${entry.id}: ${problems.join('; ')}`);
      continue;
    }
    // This build wrote the entry: the fields no reader checks (accuracy, metrics, ...) are carried over as they are.
    finished.set(entry.id, entry as ManifestModel);
  }
  // Jobs list parents first: a child whose parent is rebuilt is rebuilt too, so that no manifest
  // written below names a parent it lacks.
  for (const job of jobs) if (job.parent !== null && finished.has(job.id) && !finished.has(job.parent)) finished.delete(job.id);
  const probes: Record<string, string> = {};
  for (const [task, file] of Object.entries(previous?.probeFiles ?? {})) if (existsSync(join(out, file))) probes[task] = file;
  return { finished, probes };
}

/** Rewrites manifest.json (atomically, one write at a time) with the finished models in job order. */
class ManifestWriter {
  private writing = Promise.resolve();
  private readonly order: Map<string, number>;

  constructor(
    private readonly path: string,
    readonly manifest: ZooManifest,
    private readonly finished: ReadonlyMap<string, ManifestModel>,
    jobs: readonly ZooJob[],
  ) {
    this.order = new Map(jobs.map((j, i) => [j.id, i]));
  }

  save(): Promise<void> {
    const { manifest, order } = this;
    manifest.models = [...this.finished.values()].sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    manifest.probes = Object.fromEntries(Object.entries(manifest.probes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    this.writing = this.writing.then(() => writeFileAtomic(this.path, text));
    return this.writing;
  }

  /** Resolves once every write asked for so far is done. */
  flushed(): Promise<void> {
    return this.writing;
  }
}

/**
 * The training phase: one loop per runner takes the next job whose parent is finished; a waiting
 * loop wakes when any job finishes (its children may be ready). The first failure stops the loops.
 */
class JobScheduler {
  readonly built: string[] = [];
  private readonly pending: ZooJob[];
  private readonly running = new Map<string, { step: number; steps: number }>();
  private readonly jobById: Map<string, ZooJob>;
  private readonly probeClaimed: Set<string>;
  private readonly probeRows: number;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private wakeUp: Promise<void>;

  constructor(
    private readonly spec: ZooSpec,
    private readonly jobs: readonly ZooJob[],
    private readonly options: BuildZooOptions,
    private readonly finished: Map<string, ManifestModel>,
    private readonly writer: ManifestWriter,
    private readonly skipped: number,
  ) {
    this.jobById = new Map(jobs.map((j) => [j.id, j]));
    this.probeRows = spec.probes ?? 1024;
    this.probeClaimed = new Set(Object.keys(writer.manifest.probes));
    this.pending = jobs.filter((j) => !finished.has(j.id));
    this.wakeUp = new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** Trains every pending job, then writes the probes an earlier run left missing; returns the ids built. */
  async run(): Promise<string[]> {
    this.report();
    const workers = this.options.workers ?? 2;
    const makeRunner = this.options.makeRunner ?? (() => (workers === 0 ? new InProcessRunner() : new ForkRunner()));
    const runners = Array.from({ length: Math.min(Math.max(1, workers), this.pending.length) }, () => makeRunner());
    try {
      await Promise.all(runners.map((r) => this.loop(r)));
      if (this.failure) throw this.failure;
      await this.missingProbes(runners, makeRunner);
    } finally {
      for (const r of runners) r.close();
    }
    return this.built;
  }

  /** Tasks whose models were all built by an earlier run but whose probe file is missing. */
  private async missingProbes(runners: JobRunner[], makeRunner: () => JobRunner): Promise<void> {
    const { manifest } = this.writer;
    const tasks = [...new Set(this.jobs.map((j) => j.task))].filter((t) => !(t in manifest.probes));
    if (tasks.length > 0 && runners.length === 0) runners.push(makeRunner());
    for (const task of tasks) {
      const probe = await runners[0].probe(this.options.out, task, probeFile(task), this.probeRows, this.options.dataDir);
      manifest.probes[probe.task] = probe.file;
      await this.writer.save();
    }
  }

  private report(): void {
    this.options.onProgress?.({
      done: this.finished.size,
      total: this.jobs.length,
      skipped: this.skipped,
      running: [...this.running].map(([id, r]) => ({ id, ...r })),
    });
  }

  private signal(): void {
    this.wake?.();
    this.wakeUp = new Promise<void>((resolve) => (this.wake = resolve));
  }

  private nextJob(): ZooJob | undefined {
    const i = this.pending.findIndex((j) => j.parent === null || this.finished.has(j.parent));
    return i < 0 ? undefined : this.pending.splice(i, 1)[0];
  }

  private request(job: ZooJob): JobRequest {
    const wantsProbe = !this.probeClaimed.has(job.task);
    if (wantsProbe) this.probeClaimed.add(job.task);
    const parent = job.parent ? this.finished.get(job.parent) : undefined;
    return {
      job,
      outDir: this.options.out,
      file: modelFile(job.id),
      adapterFile: adapterFile(job.id),
      parentFile: parent ? parent.file : null,
      parentTask: job.parent ? (this.jobById.get(job.parent)?.task ?? null) : null,
      evalLimit: this.spec.evalLimit ?? 2000,
      ...(wantsProbe ? { probe: { file: probeFile(job.task), rows: this.probeRows } } : {}),
      ...(this.options.dataDir ? { dataDir: this.options.dataDir } : {}),
    };
  }

  private async loop(runner: JobRunner): Promise<void> {
    while (!this.failure) {
      const job = this.nextJob();
      if (!job) {
        if (this.pending.length === 0) return;
        if (this.running.size === 0) throw new Error(`zoo: jobs ${this.pending.map((j) => j.id).join(', ')} wait for parents that were never built`);
        await this.wakeUp;
        continue;
      }
      await this.train(runner, job);
    }
  }

  /** Trains one job and records it; a failure is kept for run() to throw once every loop stopped. */
  private async train(runner: JobRunner, job: ZooJob): Promise<void> {
    this.running.set(job.id, { step: 0, steps: 0 });
    this.report();
    try {
      const req = this.request(job);
      const result = await runner.run(req, (step, steps) => {
        this.running.set(job.id, { step, steps });
        this.report();
      });
      const entry = entryFor(job, result);
      this.finished.set(job.id, entry);
      if (result.probe) this.writer.manifest.probes[result.probe.task] = result.probe.file;
      this.built.push(job.id);
      await this.writer.save();
      this.options.onModel?.(entry, result.seconds);
    } catch (err) {
      this.failure ??= new Error(`zoo: model ${job.id} (task ${job.task}, setting ${job.setting}) failed: ${(err as Error).message}`);
    } finally {
      this.running.delete(job.id);
      this.report();
      this.signal();
    }
  }
}

async function buildLocked(spec: ZooSpec, jobs: ZooJob[], options: BuildZooOptions): Promise<BuildZooResult> {
  const started = performance.now();
  const out = options.out;
  await removeStaleTemps(out);
  await removeStaleTemps(join(out, 'models'));
  await removeStaleTemps(join(out, 'probes'));

  const { finished, probes } = await resumeFrom(await previousBuild(out), jobs, options);
  const manifest: ZooManifest = { zoo: { name: spec.name ?? 'zoo', scale: options.scale ?? 1 }, models: [], probes };
  const skipped = jobs.filter((j) => finished.has(j.id)).map((j) => j.id);
  const writer = new ManifestWriter(join(out, MANIFEST), manifest, finished, jobs);
  await writer.save();

  const built = await new JobScheduler(spec, jobs, options, finished, writer, skipped.length).run();
  await writer.flushed();
  return { manifest, built, skipped, seconds: (performance.now() - started) / 1000 };
}
