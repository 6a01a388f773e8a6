/**
 * Relations per edge (issue 16) through the CLI: `compare --json` relation, `explain --json` parents and
 * merge fits, PEFT adapter folders, `tree --json` edge relations. Every expectation comes from
 * fixtures/relations/manifest.json, written by scripts/make_relation_fixtures.py (which made each model
 * from its parents in a known way, and restates the fixtures/lm models of make_lm_fixtures.py), never
 * from the code under test. Needs the built CLI (`npx tsc -p tsconfig.json`).
 */
import type { ComparisonJson } from '../../../src/lineage/weights/json.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeRegExp, lineage } from '../../cli/run-cli.js';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures');

interface ManifestParent {
  model: string;
  coefficient: number | null;
}

interface ManifestEntry {
  relation: string;
  parents: ManifestParent[];
  independent_of?: string[];
  rank?: number;
  target_modules?: string[];
  zeros_per_tensor?: Record<string, number>;
  parameters?: number;
  relative_l2?: Record<string, number>;
  base?: string;
  linear_combination?: ManifestParent[];
  blocks?: Record<string, Record<string, number>>;
  fit?: { over: string[]; coefficients: Record<string, number>; relative_residual: number };
  /** lora-adapter: the folder of the same adapter merged into its base. */
  merged?: string;
}

const MANIFEST = JSON.parse(readFileSync(join(FIXTURES, 'relations', 'manifest.json'), 'utf8')) as { models: Record<string, ManifestEntry> };
const entry = (key: string): ManifestEntry => MANIFEST.models[key];

/** Manifest keys are paths under fixtures/; the CLI names each model by the argument it was given. */
const at = (key: string) => join(FIXTURES, key);
const keyOf = (id: string) => id.slice(FIXTURES.length + 1);

/** The family root of a model: follow its first parent until a model with none (P1 has no entry of its own). */
function rootOf(key: string): string {
  const parent = MANIFEST.models[key]?.parents[0];
  return parent ? rootOf(parent.model) : key;
}

const P1 = 'lm/llama-p1';
const P2 = 'lm/llama-p2';
const C1 = 'lm/llama-c1';
const C2 = 'lm/llama-c2';
const C3 = 'lm/llama-c3';
const CANDIDATES = [P1, C1, C3, P2, C2];
/** Each merge's true inputs at exact coefficients differ by 1e-9 in the manifest's float64 fit (float32 storage). */
const COEFFICIENT_TOLERANCE = 1e-3;
/** The manifest's relative residuals of the linear merges (globally, and per block for merge-blocks) are ~3e-8: float32 rounding. */
const ROUNDING_RESIDUAL = 1e-5;
const CLI_TIMEOUT = 30_000;

/** What `compare --json` prints: the library's JSON shape plus the document version. */
type CompareJson = ComparisonJson & { version: number };

interface NamedCoefficient {
  candidate: string;
  coefficient: number;
}

interface ExplainJson {
  version: number;
  child: string;
  parents: { parent: string; relation: string; coefficient: number; rank?: number; target_modules?: string[] }[];
  candidates: { candidate: string; distance: number | null; relation: string; reason: string; rank?: number; target_modules?: string[] }[];
  merge?: {
    kind?: 'linear' | 'sparse';
    base?: string;
    coefficients: NamedCoefficient[];
    residual: number;
    single_residual: number;
    blocks: { block: string; coefficients: NamedCoefficient[] }[];
  };
}

interface TreeJson {
  edges: { parent: string; child: string; relation?: string }[];
  roots: string[];
}

async function json<T>(args: string[]): Promise<T> {
  const { code, stdout, stderr } = await lineage(...args, '--json');
  expect(stderr, args.join(' ')).toBe('');
  expect(code, args.join(' ')).toBe(0);
  return JSON.parse(stdout) as T;
}

const compare = (parent: string, child: string) => json<CompareJson>(['compare', at(parent), at(child)]);
const explain = (child: string, candidates: readonly string[], ...more: string[]) =>
  json<ExplainJson>(['explain', at(child), '--candidates', ...candidates.map(at), ...more]);

/** Coefficients by manifest key, for order-free comparison. */
function byKey(items: readonly NamedCoefficient[]): Record<string, number> {
  return Object.fromEntries(items.map((c) => [keyOf(c.candidate), c.coefficient]));
}

function expectCoefficients(got: Record<string, number>, want: Record<string, number>, what: string): void {
  expect(Object.keys(got).sort(), what).toEqual(Object.keys(want).sort());
  for (const [key, c] of Object.entries(want)) expect(Math.abs(got[key] - c), `${what}: ${key} got ${got[key]}, want ${c}`).toBeLessThan(COEFFICIENT_TOLERANCE);
}

/** Candidates outside the child's family (another root in the manifest) must come out independent. */
function expectOtherFamiliesIndependent(e: ExplainJson, child: string): void {
  for (const c of e.candidates) {
    if (rootOf(keyOf(c.candidate)) !== rootOf(child)) expect(c.relation, `${child} vs ${c.candidate}`).toBe('independent');
  }
}

/** A parent by manifest key, its modules in name order (their order carries no meaning). */
/**
 * A parent entry without its p-value, which is checked on its own: every true parent here is derived
 * from the candidate, so the independence test (B = 999 permutations) must give p <= 1 / (B + 1).
 */
function normalized(p: ExplainJson['parents'][number] & { p_value?: number | null }): ExplainJson['parents'][number] {
  const { p_value, ...rest } = p;
  // An adapter alone holds no weights to test: no p-value then.
  if (p_value !== undefined) expect(p_value, `p-value of ${p.parent}`).toBeLessThanOrEqual(1 / (999 + 1));
  return { ...rest, parent: keyOf(p.parent), ...(p.target_modules ? { target_modules: [...p.target_modules].sort() } : {}) };
}

const mergeParents = (e: ExplainJson) => Object.fromEntries(e.parents.map((p) => [keyOf(p.parent), p]));

/** Manifest entries with one true parent (or declared independent of a model): the pairs `compare` must name. */
function pairwiseCases(): { parent: string; child: string; entry: ManifestEntry }[] {
  return Object.entries(MANIFEST.models).flatMap(([child, e]) => {
    if (e.relation === 'merge') return [];
    // An adapter folder holds only lora_A / lora_B factors, no model: `compare` matches none of its
    // tensors; `explain` is the command for adapters (tested below).
    if (child === 'relations/lora-adapter') return [];
    if (e.parents.length === 1) return [{ parent: e.parents[0].model, child, entry: e }];
    return (e.independent_of ?? []).map((parent) => ({ parent, child, entry: e }));
  });
}

describe('compare --json names the relation of each manifest pair', () => {
  const cases = pairwiseCases();

  it('covers every single-parent relation kind of the manifest', () => {
    expect(new Set(cases.map((c) => c.entry.relation))).toEqual(new Set(['finetune', 'lora', 'quantized', 'converted', 'pruned', 'independent']));
  });

  for (const { parent, child, entry: e } of cases) {
    it(
      `${parent} -> ${child}: ${e.relation}`,
      async () => {
        const c = await compare(parent, child);
        expect(c.version).toBe(1);
        expect(c.relation, c.relation_reason).toBe(e.relation);
        expect(c.relation_reason).toBeTruthy();
        if (e.relation === 'lora') {
          expect(c.rank).toBe(e.rank);
          expect(c.target_modules?.slice().sort()).toEqual(e.target_modules?.slice().sort());
        }
        if (e.relation === 'pruned') {
          // The manifest's zero_share (0.5) is over 2-d weights; the CLI's is over every compared weight,
          // 1-d norms included. Like with like: the manifest's zeros over all its parameters, with every
          // parameter compared.
          const zeros = Object.values(e.zeros_per_tensor ?? {}).reduce((a, b) => a + b, 0);
          expect(c.matched_parameters).toBe(e.parameters);
          expect(Math.abs((c.zero_share ?? Number.NaN) - zeros / (e.parameters ?? Number.NaN))).toBeLessThan(0.01);
        }
        // The manifest's relative_l2 is ||m - p|| / ||p|| in float64 over all tensors: compare's distance.
        const l2 = e.relative_l2?.[parent];
        if (l2 !== undefined) expect(Math.abs((c.distance ?? Number.NaN) - l2) / l2).toBeLessThan(1e-6);
      },
      CLI_TIMEOUT,
    );
  }
});

describe('explain on merges', () => {
  it(
    'merge-avg: parents C1 and C3 with the weights of the average',
    async () => {
      const key = 'relations/merge-avg';
      const e = await explain(key, CANDIDATES);
      const want = Object.fromEntries(entry(key).parents.map((p) => [p.model, p.coefficient ?? Number.NaN]));
      expect(e.parents.every((p) => p.relation === 'merge')).toBe(true);
      expectCoefficients(Object.fromEntries(e.parents.map((p) => [keyOf(p.parent), p.coefficient])), want, key);
      expect(e.merge?.kind).toBe('linear');
      expect(e.merge?.residual).toBeLessThan(ROUNDING_RESIDUAL);
      expectCoefficients(byKey(e.merge?.coefficients ?? []), entry(key).fit?.coefficients ?? {}, `${key} fit`);
      expectOtherFamiliesIndependent(e, key);
    },
    CLI_TIMEOUT,
  );

  it(
    'merge-ta: parents P1, C1, C3 with the linear-combination coefficients of task arithmetic',
    async () => {
      const key = 'relations/merge-ta';
      const e = await explain(key, CANDIDATES);
      const want = Object.fromEntries((entry(key).linear_combination ?? []).map((p) => [p.model, p.coefficient ?? Number.NaN]));
      expect(Object.keys(want).sort()).toEqual([C1, C3, P1].sort());
      expect(e.parents.every((p) => p.relation === 'merge')).toBe(true);
      expectCoefficients(Object.fromEntries(e.parents.map((p) => [keyOf(p.parent), p.coefficient])), want, key);
      expect(e.merge?.kind).toBe('linear');
      expect(e.merge?.residual).toBeLessThan(ROUNDING_RESIDUAL);
      expectOtherFamiliesIndependent(e, key);
    },
    CLI_TIMEOUT,
  );

  it(
    "merge-blocks: parents C1 and C3; the blocks that differ carry the manifest's per-block weights",
    async () => {
      const key = 'relations/merge-blocks';
      const m = entry(key);
      const e = await explain(key, CANDIDATES);
      // No single weight describes a block merge (the manifest's parent coefficients are null): the
      // global coefficients are the manifest's float64 least-squares fit over P1, C1, C3.
      const global = m.fit?.coefficients ?? {};
      expect(Object.keys(mergeParents(e)).sort()).toEqual(m.parents.map((p) => p.model).sort());
      expect(e.parents.every((p) => p.relation === 'merge')).toBe(true);
      for (const p of e.parents) expect(Math.abs(p.coefficient - global[keyOf(p.parent)])).toBeLessThan(COEFFICIENT_TOLERANCE);
      expect(e.merge?.kind).toBe('linear');
      // Block coefficients explain the child up to rounding (block_fits residuals ~3e-8).
      expect(e.merge?.residual).toBeLessThan(ROUNDING_RESIDUAL);
      expectCoefficients(byKey(e.merge?.coefficients ?? []), global, `${key} fit`);
      // merge.blocks lists the blocks whose weights differ from the global ones by more than the
      // smallest merge coefficient (0.05, explain-types.ts): by the manifest, layers 0 and 1.
      const blocks = m.blocks ?? {};
      const differing = Object.keys(blocks).filter((b) => Object.entries(global).some(([k, c]) => Math.abs((blocks[b][k] ?? 0) - c) > 0.05));
      expect(differing.sort()).toEqual(['model.layers.0', 'model.layers.1']);
      expect(e.merge?.blocks.map((b) => b.block).sort()).toEqual(differing);
      for (const b of e.merge?.blocks ?? []) {
        // A candidate absent from a block's recipe (P1) weighs 0 there.
        const want = Object.fromEntries(Object.keys(global).map((k) => [k, blocks[b.block][k] ?? 0]));
        expectCoefficients(byKey(b.coefficients), want, `${key} ${b.block}`);
      }
    },
    CLI_TIMEOUT,
  );

  it(
    'merge-ties: a sparse merge over the base P1 with C1 and C3',
    async () => {
      const key = 'relations/merge-ties';
      const m = entry(key);
      const e = await explain(key, CANDIDATES);
      const base = m.base ?? '';
      expect(base).toBe(P1);
      const parents = mergeParents(e);
      expect(Object.keys(parents).sort()).toEqual([base, ...m.parents.map((p) => p.model)].sort());
      expect(e.parents.every((p) => p.relation === 'merge')).toBe(true);
      // A TIES sum is not linear in its inputs: its coefficients are a least-squares approximation,
      // with no true value to meet. The inputs must weigh in positively...
      for (const p of m.parents) expect(parents[p.model].coefficient, p.model).toBeGreaterThan(0);
      // ...and the fit is the manifest's float64 least squares over P1, C1, C3 (a computation, not a recipe).
      expectCoefficients(byKey(e.merge?.coefficients ?? []), m.fit?.coefficients ?? {}, `${key} fit`);
      expect(e.merge?.kind).toBe('sparse');
      expect(keyOf(e.merge?.base ?? '')).toBe(base);
      expectOtherFamiliesIndependent(e, key);
    },
    CLI_TIMEOUT,
  );
});

describe('explain on children that are not merges', () => {
  // Each is explained among the merge candidates (less the child itself); D1, a grandchild of P1
  // through C1, has related candidates enough for a merge fit, and must still be C1's fine-tune.
  const children = [C1, 'lm/llama-d1', 'relations/lora-merged', 'relations/pruned', 'relations/fp16', 'lm/llama-p1.q4_0.gguf'];
  for (const child of children) {
    const e0 = entry(child);
    it(
      `${child}: parent ${e0.parents[0].model}, ${e0.relation}`,
      async () => {
        const e = await explain(
          child,
          CANDIDATES.filter((c) => c !== child),
        );
        const parent = e0.parents[0];
        const lora = e0.relation === 'lora' ? { rank: e0.rank, target_modules: [...(e0.target_modules ?? [])].sort() } : {};
        expect(e.version).toBe(1);
        expect(e.parents.map(normalized)).toEqual([{ parent: parent.model, relation: e0.relation, coefficient: parent.coefficient, ...lora }]);
        expectOtherFamiliesIndependent(e, child);
      },
      CLI_TIMEOUT,
    );
  }

  it(
    'a model none of whose candidates is related has no parent (P2 among P1, C1)',
    async () => {
      expect(entry(P2).relation).toBe('independent');
      const e = await explain(P2, [P1, C1]);
      expect(e.parents).toEqual([]);
      expect(e.candidates.map((c) => [keyOf(c.candidate), c.relation])).toEqual([
        [P1, 'independent'],
        [C1, 'independent'],
      ]);
    },
    CLI_TIMEOUT,
  );
});

describe('explain on a PEFT adapter folder', () => {
  const ADAPTER = 'relations/lora-adapter';
  const adapter = entry(ADAPTER);

  it(
    'finds its base among a Llama and a GPT-2, with the rank and modules of the adapter',
    async () => {
      const e = await explain(ADAPTER, [P1, 'lm/gpt2-g1']);
      expect(e.parents.map(normalized)).toEqual([
        { parent: adapter.parents[0].model, relation: 'lora', coefficient: 1, rank: adapter.rank, target_modules: [...(adapter.target_modules ?? [])].sort() },
      ]);
    },
    CLI_TIMEOUT,
  );

  it(
    'cannot tell look-alike bases apart: no parent, both listed as fitting',
    async () => {
      const e = await explain(ADAPTER, [P1, P2]);
      expect(e.parents).toEqual([]);
      expect(e.candidates.map((c) => [keyOf(c.candidate), c.relation])).toEqual([
        [P1, 'lora'],
        [P2, 'lora'],
      ]);
    },
    CLI_TIMEOUT,
  );

  it(
    '--base merges it: parent P1 at the distance of the merged fixture',
    async () => {
      const e = await explain(ADAPTER, [P1, P2], '--base', at(P1));
      expect(e.parents.map(normalized)).toEqual([
        { parent: P1, relation: 'lora', coefficient: 1, rank: adapter.rank, target_modules: [...(adapter.target_modules ?? [])].sort() },
      ]);
      // The adapter merged in equals relations/lora-merged up to float32 rounding (the script checks it).
      const merged = adapter.merged ?? '';
      const c = await compare(P1, merged);
      const got = e.candidates.find((x) => keyOf(x.candidate) === P1)?.distance ?? Number.NaN;
      const want = c.distance ?? Number.NaN;
      expect(Math.abs(got - want) / want).toBeLessThan(1e-6);
      const l2 = entry(merged).relative_l2?.[P1] ?? Number.NaN;
      expect(Math.abs(got - l2) / l2).toBeLessThan(1e-6);
    },
    CLI_TIMEOUT,
  );
});

describe('tree --json edges carry the relation', () => {
  it(
    'P1 with a fine-tune, a LoRA and a pruned child: each edge from P1, named as the manifest says',
    async () => {
      const models = [P1, C1, 'relations/lora-merged', 'relations/pruned'];
      const t = await json<TreeJson>(['tree', ...models.map(at), '--method', 'weights-cos']);
      // Every child's true parent is P1 (manifest): all three edges must run from it, and P1 is the only root.
      // No edge may come out reversed or as a merge: none of these models is a merge of the others.
      const want = models
        .filter((m) => entry(m)?.parents.length === 1)
        .map((m) => ({ parent: entry(m).parents[0].model, child: m, relation: entry(m).relation }));
      expect(want.every((w) => w.parent === P1)).toBe(true);
      const got = t.edges.map((x) => ({ parent: keyOf(x.parent), child: keyOf(x.child), relation: x.relation }));
      const order = (a: { child: string }, b: { child: string }) => a.child.localeCompare(b.child);
      expect(got.sort(order)).toEqual(want.sort(order));
      expect(t.roots.map(keyOf)).toEqual([P1]);
    },
    CLI_TIMEOUT,
  );
});

describe('explain usage and errors', () => {
  it(
    'the child among the candidates is a usage error (exit 2)',
    async () => {
      const { code, stdout, stderr } = await lineage('explain', at(C1), '--candidates', at(P1), at(C1), '--json');
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/candidates/);
    },
    CLI_TIMEOUT,
  );

  it(
    '--base on a model that is not an adapter fails (exit 1) naming the file',
    async () => {
      const { code, stdout, stderr } = await lineage('explain', at('relations/lora-merged'), '--base', at(P1), '--candidates', at(P2), '--json');
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(new RegExp(escapeRegExp(at('relations/lora-merged'))));
    },
    CLI_TIMEOUT,
  );
});
