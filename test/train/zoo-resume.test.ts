/**
 * A resumed build skips a finished model only when its file is a complete safetensors file; a cut
 * or padded one is rebuilt (with its children), and the CLI says so on stderr.
 */
import { describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineage, missingDist, tempDir } from './zoo-cli.js';

const spec = {
  name: 'resume',
  probes: 16,
  evalLimit: 100,
  roots: [{ name: 'mlp', count: 3, arch: 'mlp', hyper: { hidden: [8] }, task: 'mnist', train: { steps: 20, batch: 16 } }],
  generations: [{ children: 1, tasks: ['mnist:rot=90'], train: { steps: 5, batch: 16 } }],
};

describe('zoo build resume (CLI)', () => {
  it('rebuilds a truncated, a header-cut and a padded model file, and the children of rebuilt parents, and says so', async () => {
    expect(missingDist(), 'run `npm run build` first: this test runs the compiled CLI').toEqual([]);
    const dir = tempDir();
    const specFile = join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const out = join(dir, 'zoo');
    const build = () => lineage('zoo', 'build', specFile, '--out', out, '--workers', '0', '--no-progress', '--json');

    const first = await build();
    expect(first.code, first.stderr).toBe(0);
    const file = (id: string) => join(out, 'models', `${id}.safetensors`);
    const ids = ['mlp-0', 'mlp-1', 'mlp-2', 'mlp-0.0', 'mlp-1.0', 'mlp-2.0'];
    const original = new Map(ids.map((id) => [id, readFileSync(file(id))]));

    const size = original.get('mlp-0')!.length;
    truncateSync(file('mlp-0'), size - 100); // the last tensor's bytes cut short
    truncateSync(file('mlp-1.0'), 12); // inside the header
    appendFileSync(file('mlp-2'), Buffer.from([0])); // one byte past the last tensor

    const second = await build();
    expect(second.code, second.stderr).toBe(0);
    const notices = second.stderr.split('\n').filter((l) => l.startsWith('lineage: rebuilding model'));
    expect(notices).toEqual([
      expect.stringMatching(new RegExp(`^lineage: rebuilding model mlp-0: ${file('mlp-0')}: .*truncated`)),
      expect.stringMatching(new RegExp(`^lineage: rebuilding model mlp-2: ${file('mlp-2')}: .*trailing bytes`)),
      expect.stringMatching(new RegExp(`^lineage: rebuilding model mlp-1\\.0: ${file('mlp-1.0')}: .*header`)),
    ]);
    // mlp-0.0 and mlp-2.0 are rebuilt because their parents are; mlp-1 is whole and skipped
    expect(JSON.parse(second.stdout)).toMatchObject({ models: 6, built: 5, skipped: 1 });
    // the same job gives the same bytes, so every file is whole again and as first built
    for (const id of ids) expect(readFileSync(file(id)).equals(original.get(id)!), id).toBe(true);
  });
});
