/**
 * Usage errors exit 2 with one line naming the option and the value, whoever raises them
 * (commander or the option parsers); --help and --version exit 0. Model paths in the bad-number
 * cases do not exist: exit 2 (not 1) shows the value is refused before any file is opened.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { syntheticStateDict } from '../../src/testing/synthetic-weights.js';
import { escapeRegExp, lineage } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lineage-usage-'));
const f = (name: string) => join(dir, name);
const MISSING = f('missing.safetensors');

const MLP_KEYS = [
  { name: 'fc1.weight', shape: [16, 784] },
  { name: 'fc1.bias', shape: [16] },
  { name: 'fc2.weight', shape: [10, 16] },
  { name: 'fc2.bias', shape: [10] },
];

beforeAll(async () => {
  await writeSafetensors(f('a.safetensors'), syntheticStateDict(MLP_KEYS, 1));
  await writeSafetensors(f('b.safetensors'), syntheticStateDict(MLP_KEYS, 2));
});

/** Exit 2, and stderr starts with `lineage: ` and holds `message`; no stack trace. */
function expectUsageError(r: { code: number; stderr: string }, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^lineage: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('errors raised by commander exit 2', () => {
  it('unknown command', async () => {
    expectUsageError(await lineage('detcet'), /unknown command 'detcet'/);
  });

  it('unknown option', async () => {
    expectUsageError(await lineage('detect', '--child', MISSING, '--parents', MISSING, '--bogus'), /unknown option '--bogus'/);
  });

  it('missing required option', async () => {
    expectUsageError(await lineage('detect', '--child', MISSING), /required option '--parents <files\.\.\.>' not specified/);
  });

  it('missing argument and missing option value', async () => {
    expectUsageError(await lineage('inspect'), /missing required argument 'model-file'/);
    expectUsageError(await lineage('detect', '--child', MISSING, '--parents', MISSING, '--probe-rows'), /option '--probe-rows <n>' argument missing/);
  });

  it('invalid choice, and no command at all', async () => {
    expectUsageError(
      await lineage('detect', '--child', MISSING, '--parents', MISSING, '--bn-stats', 'mine'),
      /--bn-stats must be one of parent, child, delta, got 'mine'/,
    );
    const none = await lineage();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Usage: lineage/);
  });
});

describe('--help and --version exit 0', () => {
  it('for the program and a command', async () => {
    for (const args of [['--help'], ['detect', '--help'], ['help', 'tree'], ['--version']]) {
      const r = await lineage(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    }
  });
});

describe('bad numbers exit 2 naming the option and the value', () => {
  const detect = (...extra: string[]) => lineage('detect', '--child', MISSING, '--parents', MISSING, '--method', 'weights-l2', ...extra);

  it.each(['0', '-1', '1.5', 'abc', '', '1e400', '0x10'])("--probe-rows '%s'", async (value) => {
    expectUsageError(await detect('--probe-rows', value), new RegExp(`^lineage: --probe-rows must be a positive integer, got '${escapeRegExp(value)}'\\n`));
  });

  it.each(['-1', '0', '', 'inf', 'nan', 'Infinity', '1/2'])("--alpha '%s'", async (value) => {
    expectUsageError(await detect('--alpha', value), new RegExp(`^lineage: --alpha must be a finite number > 0, got '${escapeRegExp(value)}'\\n`));
  });

  // One bad value per numeric option of every other command (tree and ancestors share theirs).
  const cases: { args: string[]; option: string; value: string; expected: string }[] = [
    { args: ['detect', '--child', MISSING, '--parents', MISSING], option: '--heads', value: '0', expected: 'a positive integer' },
    { args: ['features', MISSING, '--probe', MISSING], option: '--probe-rows', value: '0', expected: 'a positive integer' },
    { args: ['features', MISSING, '--probe', MISSING], option: '--heads', value: '2.5', expected: 'a positive integer' },
    { args: ['inspect', MISSING, '--layers'], option: '--heads', value: 'x', expected: 'a positive integer' },
    { args: ['tree', MISSING], option: '--probe-rows', value: '-3', expected: 'a positive integer' },
    { args: ['tree', MISSING], option: '--alpha', value: 'nan', expected: 'a finite number > 0' },
    { args: ['tree', MISSING], option: '--direction-strength', value: '-0.1', expected: 'a finite number >= 0' },
    { args: ['tree', MISSING], option: '--related-distance', value: 'inf', expected: 'a finite number >= 0' },
    { args: ['tree', MISSING], option: '--root-threshold', value: 'high', expected: "'auto', 'none' or a finite number" },
    { args: ['ancestors', MISSING, '--candidates', MISSING], option: '--heads', value: '-1', expected: 'a positive integer' },
    { args: ['bench', '--zoo', dir], option: '--alpha', value: '0', expected: "'auto' or a finite number > 0" },
    { args: ['bench', '--zoo', dir], option: '--seed', value: '-1', expected: 'a non-negative integer' },
    { args: ['bench', '--zoo', dir], option: '--resamples', value: '0', expected: 'a positive integer' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--epochs', value: '1.5', expected: 'a positive integer' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--seed', value: 'one', expected: 'a non-negative integer' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--embed', value: '0', expected: 'a positive integer' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--depth', value: '-1', expected: 'a non-negative integer' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--attn-heads', value: '0', expected: 'a positive integer' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--ffn', value: '', expected: 'a non-negative integer' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--batch', value: '0', expected: 'a positive integer' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--lr', value: '0', expected: 'a finite number > 0' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--gamma', value: 'inf', expected: 'a finite number > 0' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--max-size', value: '0', expected: 'a positive integer' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--probe-rows', value: '1.5', expected: 'a positive integer' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--activation-budget', value: 'abc', expected: 'a positive integer' },
    { args: ['detector', 'train', '--zoo', dir, '--out', f('d.safetensors')], option: '--heads', value: '0', expected: 'a positive integer' },
    { args: ['detector', 'eval', '--zoo', dir, '--detector', MISSING], option: '--heads', value: '0', expected: 'a positive integer' },
  ];
  const named = cases.map((c) => ({ ...c, command: c.args[0] === 'detector' ? `detector ${c.args[1]}` : c.args[0] }));
  it.each(named)("$command $option '$value'", async ({ args, option, value, expected }) => {
    expectUsageError(await lineage(...args, option, value), new RegExp(`^lineage: ${escapeRegExp(`${option} must be ${expected}, got '${value}'`)}\\n`));
  });
});

describe('--alpha above 1', () => {
  const detect = (alpha: string) =>
    lineage('detect', '--child', f('a.safetensors'), '--parents', f('b.safetensors'), '--method', 'weights-l2', '--alpha', alpha, '--json');

  it('warns on stderr and still runs', async () => {
    const r = await detect('5');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^lineage: warning: --alpha 5 is above 1: the linearisation around the parent is meaningless/);
    expect(JSON.parse(r.stdout).alpha).toBe(5);
  });

  it('is silent at 1 and below, and reads decimal notation', async () => {
    for (const [text, value] of [
      ['1', 1],
      ['1e-3', 0.001],
      ['.05', 0.05],
    ] as const) {
      const r = await detect(text);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).alpha).toBe(value);
    }
  });
});
