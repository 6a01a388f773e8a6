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
import { FormatError } from '../formats/errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { ForkRunner, InProcessRunner, type JobRunner } from './runners.js';
import { DataCache, type JobRequest, type JobResult, rootArchSpec } from './zoo-job.js';
import { acquireZooLock, isLockTempInUse } from './zoo-lock.js';
import { incompleteModelFile } from './zoo-resume.js';
import { type ZooJob, type ZooSpec, ZooSpecError, jobHyper, planZoo } from './zoo-spec.js';
import { type CheckedZoo, type ManifestEntry, type ManifestModel, type ZooManifest, MANIFEST, readZooManifest } from '../zoo/manifest.js';

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
async function previousBuild(out: string): Promise<CheckedZoo | undefined> {
  if (!existsSync(join(out, MANIFEST))) return undefined;
  try {
    return await readZooManifest(out, { allowEmpty: true });
  } catch (err) {
    if (err instanceof FormatError) throw new FormatError(err.file, `${err.problem}; remove it to rebuild the zoo`);
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

async function buildLocked(spec: ZooSpec, jobs: ZooJob[], options: BuildZooOptions): Promise<BuildZooResult> {
  const started = performance.now();
  const scale = options.scale ?? 1;
  const out = options.out;
  const manifestPath = join(out, MANIFEST);
  await removeStaleTemps(out);
  await removeStaleTemps(join(out, 'models'));
  await removeStaleTemps(join(out, 'probes'));

  const order = new Map(jobs.map((j, i) => [j.id, i]));
  const jobById = new Map(jobs.map((j) => [j.id, j]));
  const previous = await previousBuild(out);
  const finished = new Map<string, ManifestModel>();
  for (const { entry } of previous?.models ?? []) {
    const job = jobById.get(entry.id);
    if (!job) throw new FormatError(manifestPath, `model ${entry.id} is not part of this spec (at scale ${scale}): build into a new folder`);
    const diff = sameDefinition(entry, job);
    if (diff) throw new FormatError(manifestPath, `model ${entry.id} was built differently (${diff}): build into a new folder`);
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
  const manifest: ZooManifest = { zoo: { name: spec.name ?? 'zoo', scale }, models: [], probes };
  const skipped = jobs.filter((j) => finished.has(j.id)).map((j) => j.id);

  let writing = Promise.resolve();
  const saveManifest = (): Promise<void> => {
    manifest.models = [...finished.values()].sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    manifest.probes = Object.fromEntries(Object.entries(manifest.probes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    writing = writing.then(() => writeFileAtomic(manifestPath, text));
    return writing;
  };
  await saveManifest();

  const probeRows = spec.probes ?? 1024;
  const probeClaimed = new Set(Object.keys(probes));
  const pending = jobs.filter((j) => !finished.has(j.id));
  const running = new Map<string, { step: number; steps: number }>();
  const built: string[] = [];
  const report = () =>
    options.onProgress?.({
      done: finished.size,
      total: jobs.length,
      skipped: skipped.length,
      running: [...running].map(([id, r]) => ({ id, ...r })),
    });
  report();

  const workers = options.workers ?? 2;
  const makeRunner = options.makeRunner ?? (() => (workers === 0 ? new InProcessRunner() : new ForkRunner()));
  const runners = Array.from({ length: Math.min(Math.max(1, workers), pending.length) }, () => makeRunner());
  let failure: Error | undefined;

  const nextJob = (): ZooJob | undefined => {
    const i = pending.findIndex((j) => j.parent === null || finished.has(j.parent));
    return i < 0 ? undefined : pending.splice(i, 1)[0];
  };

  const request = (job: ZooJob): JobRequest => {
    const wantsProbe = !probeClaimed.has(job.task);
    if (wantsProbe) probeClaimed.add(job.task);
    const parent = job.parent ? finished.get(job.parent) : undefined;
    return {
      job,
      outDir: out,
      file: modelFile(job.id),
      adapterFile: adapterFile(job.id),
      parentFile: parent ? parent.file : null,
      parentTask: job.parent ? (jobById.get(job.parent)?.task ?? null) : null,
      evalLimit: spec.evalLimit ?? 2000,
      ...(wantsProbe ? { probe: { file: probeFile(job.task), rows: probeRows } } : {}),
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    };
  };

  // Each loop owns one runner; a waiting loop wakes when any job finishes (its children may be ready).
  let wake: (() => void) | undefined;
  let wakeUp = new Promise<void>((resolve) => (wake = resolve));
  const signal = () => {
    wake?.();
    wakeUp = new Promise<void>((resolve) => (wake = resolve));
  };
  const loop = async (runner: JobRunner): Promise<void> => {
    while (!failure) {
      const job = nextJob();
      if (!job) {
        if (pending.length === 0) return;
        if (running.size === 0) throw new Error(`zoo: jobs ${pending.map((j) => j.id).join(', ')} wait for parents that were never built`);
        await wakeUp;
        continue;
      }
      running.set(job.id, { step: 0, steps: 0 });
      report();
      try {
        const req = request(job);
        const result = await runner.run(req, (step, steps) => {
          running.set(job.id, { step, steps });
          report();
        });
        const entry = entryFor(job, result);
        finished.set(job.id, entry);
        if (result.probe) manifest.probes[result.probe.task] = result.probe.file;
        built.push(job.id);
        await saveManifest();
        options.onModel?.(entry, result.seconds);
      } catch (err) {
        failure ??= new Error(`zoo: model ${job.id} (task ${job.task}, setting ${job.setting}) failed: ${(err as Error).message}`);
      } finally {
        running.delete(job.id);
        report();
        signal();
      }
    }
  };

  try {
    await Promise.all(runners.map((r) => loop(r)));
    if (failure) throw failure;
    // tasks whose models were all built by an earlier run but whose probe file is missing
    const tasks = [...new Set(jobs.map((j) => j.task))].filter((t) => !(t in manifest.probes));
    if (tasks.length > 0 && runners.length === 0) runners.push(makeRunner());
    for (const task of tasks) {
      const probe = await runners[0].probe(out, task, probeFile(task), probeRows, options.dataDir);
      manifest.probes[probe.task] = probe.file;
      await saveManifest();
    }
  } finally {
    for (const r of runners) r.close();
  }
  await writing;
  return { manifest, built, skipped, seconds: (performance.now() - started) / 1000 };
}
