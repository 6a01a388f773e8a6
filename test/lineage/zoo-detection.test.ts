/**
 * Learning-free detection on a real (small) zoo trained inside the test: MLP parents trained on
 * MNIST digits with different seeds, children fine-tuned on derived tasks with a new head.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildZoo } from '../../src/train/zoo-build.js';
import type { ZooSpec } from '../../src/train/zoo-spec.js';
import { scoreMatrix } from '../../src/lineage/learning-free.js';
import { readProbe } from '../../src/lineage/probe.js';

const spec: ZooSpec = {
  name: 'detect-test',
  probes: 256,
  evalLimit: 500,
  roots: [
    { name: 'mlp', count: 4, arch: 'mlp', hyper: { sizes: [784, 128, 64, 10] }, task: 'mnist', train: { optimizer: 'sgd', lr: 0.05, steps: 150, batch: 64 } },
  ],
  generations: [
    {
      children: 3,
      tasks: ['fashion-mini', 'mnist:rot=90', 'mnist:perm=s1', 'mnist:subset=0-4'],
      head: 'replace',
      train: { optimizer: 'sgd', lr: 0.02, steps: 60, batch: 64 },
    },
  ],
};

describe('learning-free detection on a trained zoo', () => {
  it('taylor-l1 finds the parents at least as often as direct-l1, and at least 90% of the time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zoo-detect-'));
    const { manifest } = await buildZoo(spec, { out: dir, workers: 0 });
    const roots = manifest.models.filter((m) => m.parent === null);
    const children = manifest.models.filter((m) => m.parent !== null);
    expect(roots).toHaveLength(4);
    expect(children).toHaveLength(12);
    // Each child is probed with the first training inputs of its own fine-tuning task.
    let direct = 0;
    let taylor = 0;
    for (const child of children) {
      const probe = await readProbe(join(dir, manifest.probes[child.task]));
      const results = await scoreMatrix(
        [join(dir, child.file)],
        roots.map((r) => join(dir, r.file)),
        { probe, methods: ['direct-l1', 'taylor-l1'] },
      );
      const truth = join(dir, roots.find((r) => r.id === child.parent)!.file);
      if (results[0].children[0].parent === truth) direct++;
      if (results[1].children[0].parent === truth) taylor++;
    }
    expect(taylor).toBeGreaterThanOrEqual(direct);
    expect(taylor / children.length).toBeGreaterThanOrEqual(0.9);
  });
});
