/**
 * `lineage check`: declared lineage (config.json, model card front matter, GGUF metadata) against
 * the weights. The declarations are written here into copies of the Llama fixtures, whose true
 * family scripts/make_lm_fixtures.py recorded: C1 and C3 are fine-tunes of P1, P2 is independent.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { frontMatterBaseModels, declaredParents } from '../../src/lineage/declared.js';
import { lineageKey } from '../../src/lineage/check.js';
import { memorySource } from '../../src/source/memory.js';
import { lineage } from '../cli/run-cli.js';

const LM = join(import.meta.dirname, '..', '..', 'fixtures', 'lm');
const dir = mkdtempSync(join(tmpdir(), 'check-'));

/** A copy of a fixture folder with its config.json fields replaced and, optionally, a model card. */
function declaring(name: string, from: string, config: Record<string, unknown>, card?: string): string {
  const folder = join(dir, name);
  cpSync(join(LM, from), folder, { recursive: true });
  const base = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...base, ...config }));
  if (card !== undefined) writeFileSync(join(folder, 'README.md'), card);
  return folder;
}

interface CheckJson {
  version: number;
  verdict: string;
  reason: string;
  declared: { id: string; source: string; candidate: string | null }[];
  detected: { parent: string; relation: string }[];
  relation: string | null;
}

async function check(model: string, ...candidates: string[]): Promise<{ code: number; json: CheckJson }> {
  const r = await lineage('check', model, '--candidates', ...candidates, '--json');
  expect(r.stderr).toBe('');
  return { code: r.code, json: JSON.parse(r.stdout) as CheckJson };
}

describe('declared lineage', () => {
  it('reads base_model from model card front matter: scalar, flow list, block list', () => {
    expect(frontMatterBaseModels('---\nlicense: mit\nbase_model: meta-llama/Llama-2-7b-hf\n---\n# card')).toEqual(['meta-llama/Llama-2-7b-hf']);
    expect(frontMatterBaseModels('---\nbase_model: [\'a/b\', "c/d"]\n---')).toEqual(['a/b', 'c/d']);
    expect(frontMatterBaseModels('---\nbase_model:\n  - a/b\n  - c/d\ntags: [x]\n---')).toEqual(['a/b', 'c/d']);
    expect(frontMatterBaseModels('# no front matter\nbase_model: a/b')).toEqual([]);
  });

  it('reads GGUF general.base_model.N (organisation and name)', async () => {
    const source = memorySource(new Map(), 'x.gguf', {
      metadata: { 'general.base_model.count': '1', 'general.base_model.0.name': 'Llama 2 7b', 'general.base_model.0.organization': 'Meta' },
    });
    expect(await declaredParents(source)).toEqual([{ id: 'Meta/Llama 2 7b', source: 'GGUF: general.base_model.0.name' }]);
  });

  it('names a declared id by its last part, case and weight-file ending aside', () => {
    expect(lineageKey('meta-llama/Llama-2-7b-hf')).toBe('llama-2-7b-hf');
    expect(lineageKey('/models/Llama-2-7b-hf/')).toBe('llama-2-7b-hf');
    expect(lineageKey('models/tiny.Q4_0.gguf')).toBe('tiny.q4_0');
  });
});

describe('lineage check', () => {
  const p1 = join(LM, 'llama-p1');
  const p2 = join(LM, 'llama-p2');
  const c3 = join(LM, 'llama-c3');

  it('confirmed (exit 0): C1 declares P1 in config.json, matched by folder name', async () => {
    const model = declaring('c1-right', 'llama-c1', { _name_or_path: 'some-org/llama-p1' });
    const { code, json } = await check(model, p1, p2);
    expect(code).toBe(0);
    expect(json).toMatchObject({ version: 1, verdict: 'confirmed', relation: 'finetune' });
    expect(json.declared).toEqual([{ id: 'some-org/llama-p1', source: 'config.json: _name_or_path', candidate: p1 }]);
  }, 30_000);

  it('confirmed through id=path when the names differ', async () => {
    const model = declaring('c1-named', 'llama-c1', {}, '---\nbase_model: acme/tiny-base\n---\n');
    const { code, json } = await check(model, `acme/tiny-base=${p1}`, p2);
    expect(code).toBe(0);
    expect(json.declared[0]).toMatchObject({ id: 'acme/tiny-base', source: 'README.md: base_model', candidate: 'acme/tiny-base' });
  }, 30_000);

  it('contradicted (exit 3): the declared parent is independent of the model', async () => {
    const model = declaring('c1-wrong', 'llama-c1', {}, '---\nbase_model: llama-p2\n---\n');
    const { code, json } = await check(model, p1, p2);
    expect(code).toBe(3);
    expect(json.verdict).toBe('contradicted');
    expect(json.relation).toBe('independent');
    expect(json.reason).toMatch(/independent/);
  }, 30_000);

  it('contradicted (exit 3): related but not the parent (a sibling declared), the true parent detected', async () => {
    const model = declaring('c1-sibling', 'llama-c1', { base_model: 'llama-c3' });
    const { code, json } = await check(model, p1, c3);
    expect(code).toBe(3);
    expect(json.detected.map((d) => d.parent)).toEqual([p1]);
    expect(json.reason).toMatch(/detected/);
  }, 30_000);

  it('unverifiable (exit 4): nothing declared, or the declared parent not among the candidates', async () => {
    const silent = await check(join(LM, 'llama-c1'), p1, p2);
    expect(silent.code).toBe(4);
    expect(silent.json.verdict).toBe('unverifiable');
    const elsewhere = declaring('c1-elsewhere', 'llama-c1', { _name_or_path: 'org/not-here' });
    const missing = await check(elsewhere, p1, p2);
    expect(missing.code).toBe(4);
    expect(missing.json.reason).toMatch(/not among the candidates/);
  }, 30_000);

  it('bad usage exits 2: the model among its candidates', async () => {
    const r = await lineage('check', p1, '--candidates', p1, p2);
    expect(r.code).toBe(2);
  });
});
