/**
 * The zoo builder end to end on a tiny spec: training works, builds are byte-reproducible, and a
 * build killed midway resumes without retraining what was finished. The kill test runs the CLI
 * command from dist/ with forked workers (npm test builds dist/ first).
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildZoo, type ZooManifest } from '../../src/train/zoo-build.js';
import { InProcessRunner, type JobRunner } from '../../src/train/runners.js';
import type { JobResult } from '../../src/train/zoo-job.js';
import type { ZooSpec } from '../../src/train/zoo-spec.js';
import { checkZooSpec } from '../../src/train/zoo-spec-check.js';
import { readSafetensorsFile } from '../../src/formats/safetensors.js';
import { readNpy } from '../../src/formats/npy.js';
import { inferArchitecture } from '../../src/archs/registry.js';
import { loadTask, probeInputs } from '../../src/data/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const tiny: ZooSpec = {
  name: 'tiny',
  probes: 64,
  evalLimit: 500,
  roots: [{ name: 'mlp', count: 2, arch: 'mlp', hyper: { hidden: [32] }, task: 'mnist', train: { optimizer: 'sgd', lr: 0.05, steps: 200, batch: 64 } }],
  generations: [
    {
      children: 3,
      pairs: [
        { task: 'mnist:subset=0-4', setting: 'fewshot:5' },
        { task: 'mnist:rot=90', setting: 'imbalanced:10+regularised:0.001' },
        { task: 'mnist', setting: 'lora:2' },
      ],
      train: { optimizer: 'sgd', lr: 0.02, steps: 30, batch: 32 },
    },
  ],
};

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lineage-zoo-'));
}

function readManifest(dir: string): ZooManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ZooManifest;
}

describe('zoo build (in process)', () => {
  it('trains, records the lineage, writes probes, and is byte-reproducible', async () => {
    const a = tempDir();
    // the manifest keeps each model's final loss; the runner's results also have the first one
    const results = new Map<string, JobResult>();
    const recording = (): JobRunner => {
      const inner = new InProcessRunner();
      return {
        run: async (request, onStep) => {
          const r = await inner.run(request, onStep);
          results.set(r.id, r);
          return r;
        },
        probe: (...args) => inner.probe(...args),
        close: () => inner.close(),
      };
    };
    const result = await buildZoo(tiny, { out: a, workers: 0, makeRunner: recording });
    expect(result.built).toEqual(['mlp-0', 'mlp-1', 'mlp-0.0', 'mlp-0.1', 'mlp-0.2', 'mlp-1.0', 'mlp-1.1', 'mlp-1.2']);
    const manifest = readManifest(a);
    const byId = new Map(manifest.models.map((m) => [m.id, m]));

    // an MLP trained 200 steps on MNIST digits is far above chance (10%)
    for (const id of ['mlp-0', 'mlp-1']) expect(byId.get(id)!.accuracy, id).toBeGreaterThan(0.8);
    // lineage fields and the safetensors metadata agree
    const child = byId.get('mlp-0.0')!;
    expect(child).toMatchObject({ parent: 'mlp-0', generation: 1, setting: 'fewshot:5', file: 'models/mlp-0.0.safetensors', headReplaced: true });
    expect(child.task).toMatch(/^mnist:subset=0-4:fewshot=5:s\d+$/);
    const file = await readSafetensorsFile(join(a, child.file));
    expect(file.metadata).toMatchObject({ id: 'mlp-0.0', parent: 'mlp-0', task: child.task, arch: 'mlp', input_shape: '1,28,28' });
    expect(file.weights.get('fc2.weight')!.shape).toEqual([5, 32]); // 5-class head
    // few-shot and imbalanced children trained with the setting's data and weight decay: the loss
    // fell to a third of the first batch's, and well below chance, ln(classes): a model that
    // learned nothing stays near chance, and one that diverged above its first loss
    for (const m of manifest.models.filter((x) => x.generation === 1 && x.setting !== 'lora:2')) {
      const classes = m.task.startsWith('mnist:subset=0-4:') ? 5 : 10;
      expect(m.finalLoss, m.id).toBeLessThan(results.get(m.id)!.firstLoss / 3);
      expect(m.finalLoss, m.id).toBeLessThan(0.6 * Math.log(classes));
      expect(m.steps).toBe(30);
    }
    // LoRA child: merged file is a plain MLP state dict; the adapter file holds <layer>.lora_A/B
    const lora = byId.get('mlp-0.2')!;
    expect(lora).toMatchObject({ setting: 'lora:2', adapter: 'models/mlp-0.2.lora.safetensors', headReplaced: false });
    const merged = await readSafetensorsFile(join(a, lora.file));
    expect(inferArchitecture(merged.weights)).toEqual(inferArchitecture((await readSafetensorsFile(join(a, 'models/mlp-0.safetensors'))).weights));
    const adapter = await readSafetensorsFile(join(a, lora.adapter!));
    expect([...adapter.weights].map(([k, t]) => `${k} [${t.shape.join(',')}]`)).toEqual(['fc1.lora_A [2,784]', 'fc1.lora_B [32,2]']);
    expect(adapter.metadata).toMatchObject({ base_model: 'mlp-0', rank: '2', alpha: '2', target_modules: 'fc1' });

    const imbalanced = manifest.models.find((m) => m.setting.startsWith('imbalanced'))!;
    expect(imbalanced.task).toMatch(/^mnist:rot=90:imbalanced=10:s\d+$/);
    expect(imbalanced.hyper.weightDecay).toBe(0.001);
    expect(imbalanced.accuracy).toBeGreaterThan(0.2);

    // probes: first training inputs of each task, normalised, NCHW float32
    expect(Object.keys(manifest.probes).sort()).toEqual([...new Set(manifest.models.map((m) => m.task))].sort());
    const probe = await readNpy(join(a, manifest.probes.mnist));
    expect(probe.shape).toEqual([64, 1, 28, 28]);
    const task = await loadTask('mnist');
    expect(Array.from(probe.data as Float32Array)).toEqual(Array.from(probeInputs(task.train, 64).data));
    const fewshot = await readNpy(join(a, manifest.probes[child.task]));
    expect(fewshot.shape).toEqual([25, 1, 28, 28]); // 5 classes x 5 examples < 64 rows

    // same spec, same seeds: identical bytes
    const b = tempDir();
    await buildZoo(tiny, { out: b, workers: 0 });
    for (const sub of ['models', 'probes']) {
      const names = readdirSync(join(a, sub)).sort();
      expect(readdirSync(join(b, sub)).sort()).toEqual(names);
      for (const n of names) expect(readFileSync(join(b, sub, n)).equals(readFileSync(join(a, sub, n))), n).toBe(true);
    }
    expect(readFileSync(join(b, 'manifest.json'), 'utf8')).toBe(readFileSync(join(a, 'manifest.json'), 'utf8'));

    // a rerun finds every model done and only rewrites a missing probe file
    const probeBytes = readFileSync(join(a, manifest.probes.mnist));
    rmSync(join(a, manifest.probes.mnist));
    const again = await buildZoo(tiny, { out: a, workers: 0 });
    expect(again.built).toEqual([]);
    expect(again.skipped).toHaveLength(8);
    expect(readFileSync(join(a, manifest.probes.mnist)).equals(probeBytes)).toBe(true);

    // a lock in the bare-pid form of earlier versions: a live pid holds the folder, a dead one is stale
    writeFileSync(join(a, '.lock'), String(process.ppid));
    await expect(buildZoo(tiny, { out: a, workers: 0 })).rejects.toThrow(/another zoo build \(pid \d+\) is writing this folder/);
    writeFileSync(join(a, '.lock'), '999999999');
    expect((await buildZoo(tiny, { out: a, workers: 0 })).skipped).toHaveLength(8);
    expect(existsSync(join(a, '.lock'))).toBe(false);

    // a different spec in the same folder is refused
    const changed = { ...tiny, roots: [{ ...tiny.roots[0], seed: 3 }] };
    await expect(buildZoo(changed, { out: a, workers: 0 })).rejects.toThrow(
      /manifest.json: model mlp-0 was built differently \(seed 0 in the manifest, 3 in the spec\)/,
    );
  });
});

/** Runs `lineage zoo build` through the compiled CLI command module. */
function runCli(args: string[]): ReturnType<typeof spawn> {
  const script = [
    "import { Command } from 'commander';",
    "import { registerZoo } from './dist/cli/commands/zoo.js';",
    'const program = new Command();',
    'registerZoo(program);',
    'await program.parseAsync(process.argv.slice(1), { from: "user" });',
  ].join('\n');
  return spawn(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(child: ReturnType<typeof spawn>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('zoo build (CLI, 2 worker processes)', () => {
  it('a build killed after its first model resumes without retraining it; the manifest is valid JSON throughout', async () => {
    const missing = ['dist/cli/commands/zoo.js', 'dist/train/worker.js'].filter((f) => !existsSync(join(ROOT, f)));
    expect(missing, 'run `npm run build` first: this test runs the compiled CLI').toEqual([]);
    const dir = tempDir();
    const specFile = join(dir, 'spec.json');
    const spec = { ...tiny, roots: [{ ...tiny.roots[0], count: 3, train: { ...tiny.roots[0].train, steps: 800 } }] };
    writeFileSync(specFile, JSON.stringify(checkZooSpec(spec, specFile)));
    const out = join(dir, 'zoo');

    const first = runCli(['zoo', 'build', specFile, '--out', out, '--workers', '2', '--no-progress', '--json']);
    const firstExit = exited(first);
    let finished: ZooManifest['models'] = [];
    let polls = 0;
    const deadline = Date.now() + 90_000;
    while (finished.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      if (!existsSync(join(out, 'manifest.json'))) continue;
      finished = readManifest(out).models; // throws if it is ever not valid JSON
      polls++;
    }
    expect(finished.length, 'no model finished in time').toBeGreaterThan(0);
    first.kill('SIGKILL');
    const killed = await firstExit;
    expect(killed.code).toBeNull();
    expect(polls).toBeGreaterThan(0);
    const before = new Map(finished.map((m) => [m.id, statSync(join(out, m.file)).mtimeMs]));
    expect(readManifest(out).models.length).toBeLessThan(3 + 9);

    // the workers exit with the builder: nothing is written after it is gone
    await new Promise((r) => setTimeout(r, 1500));
    const settled = readdirSync(join(out, 'models'))
      .map((f) => `${f}:${statSync(join(out, 'models', f)).mtimeMs}`)
      .sort();
    await new Promise((r) => setTimeout(r, 1500));
    expect(
      readdirSync(join(out, 'models'))
        .map((f) => `${f}:${statSync(join(out, 'models', f)).mtimeMs}`)
        .sort(),
    ).toEqual(settled);

    const second = await exited(runCli(['zoo', 'build', specFile, '--out', out, '--workers', '2', '--no-progress', '--json']));
    expect(second.code, second.stderr).toBe(0);
    const summary = JSON.parse(second.stdout) as { models: number; built: number; skipped: number };
    expect(summary.models).toBe(12);
    expect(summary.skipped).toBeGreaterThanOrEqual(finished.length);
    expect(summary.built + summary.skipped).toBe(12);
    const manifest = readManifest(out);
    expect(manifest.models.map((m) => m.id)).toEqual(['mlp-0', 'mlp-1', 'mlp-2', ...[0, 1, 2].flatMap((p) => [0, 1, 2].map((c) => `mlp-${p}.${c}`))]);
    for (const [id, mtime] of before) expect(statSync(join(out, `models/${id}.safetensors`)).mtimeMs, id).toBe(mtime);
    expect(readdirSync(join(out, 'models')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
