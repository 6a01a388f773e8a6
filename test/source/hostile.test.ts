/**
 * Hostile inputs for model sources, run through `lineage compare` (which opens both models as
 * model sources) in a child process with a capped heap: each must be refused with exit code 1 and a
 * message naming the offending file, quickly and without a stack trace.
 */
import { describe, it } from 'vitest';
import { SOURCE_HOSTILE_CASES } from '../../src/testing/hostile/source.js';
import { WALL_CAP_MS, caseFolders, expectRefusal, runCapped } from '../formats/hostile-cli.js';

const caseFolder = caseFolders('lineage-hostile-source-');

describe('hostile inputs are refused by model sources (`lineage compare`)', () => {
  for (const c of SOURCE_HOSTILE_CASES) {
    it(
      `${c.name}: ${c.threat}`,
      async () => {
        const dir = caseFolder(c.name);
        const path = await c.build(dir);
        // The message names a file of the case: the model, its index, its config or its data file.
        expectRefusal(await runCapped('compare', path, path), `${dir}/`, c.expect);
      },
      2 * WALL_CAP_MS,
    );
  }
});
