import { describe, it } from 'vitest';
import { GGUF_HOSTILE_CASES } from '../../src/testing/hostile/gguf.js';
import { WALL_CAP_MS, caseFolders, expectRefusal, runCapped } from './hostile-cli.js';

const caseFolder = caseFolders('lineage-hostile-gguf-');

describe('hostile GGUF files are refused by `lineage inspect`', () => {
  for (const c of GGUF_HOSTILE_CASES) {
    it(
      `${c.name}: ${c.threat}`,
      async () => {
        const dir = caseFolder(c.name);
        const path = await c.build(dir);
        expectRefusal(await runCapped('inspect', path), `${path}: `, c.expect);
      },
      2 * WALL_CAP_MS,
    );
  }
});
