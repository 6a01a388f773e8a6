import { describe, it } from 'vitest';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GGUF_HOSTILE_CASES } from '../../src/testing/hostile/gguf.js';
import { WALL_CAP_MS, expectRefusal, runCapped } from './hostile-cli.js';

const root = mkdtempSync(join(tmpdir(), 'lineage-hostile-gguf-'));

describe('hostile GGUF files are refused by `lineage inspect`', () => {
  for (const c of GGUF_HOSTILE_CASES) {
    it(
      `${c.name}: ${c.threat}`,
      async () => {
        const dir = join(root, c.name);
        mkdirSync(dir);
        const path = await c.build(dir);
        expectRefusal(await runCapped('inspect', path), `${path}: `, c.expect);
      },
      2 * WALL_CAP_MS,
    );
  }
});
