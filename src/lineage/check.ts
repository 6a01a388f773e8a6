/**
 * `lineage check`: is the parent a model declares (declared.ts) the one its weights point to?
 * Declared ids are mapped to candidates by the id given with the candidate (`id=path`), else by
 * the candidate's file or folder name (the last part of a hub id: `meta-llama/Llama-2-7b-hf` ->
 * `Llama-2-7b-hf`, case and `.gguf`/`.safetensors` endings ignored). The detected parents come from
 * `explain`; declarations are read only to be checked, never to score.
 *   confirmed     every declared parent found among the candidates is a detected parent
 *   contradicted  another parent was detected, or a declared parent is independent of the model
 *   unverifiable  nothing is declared, or no declared parent is among the candidates
 */
import { basename } from 'node:path';
import { type DeclaredParent, declaredParents } from './declared.js';
import type { NamedModelPath } from './model-path.js';
import { explainChild } from './relations/explain.js';
import type { PValueOptions } from './independence/pair-p-value.js';
import type { ExplainedCandidate, Explanation } from './relations/explain-types.js';

export type Verdict = 'confirmed' | 'contradicted' | 'unverifiable';

export interface CheckedDeclaration extends DeclaredParent {
  /** The candidate it maps to, or null. */
  candidate: string | null;
}

export interface LineageCheck {
  model: string;
  declared: CheckedDeclaration[];
  /** Parents detected among the candidates (explain's answer). */
  detected: Explanation['parents'];
  /** The declared parent's relation to the model, when it is among the candidates. */
  relation: ExplainedCandidate['relation'] | null;
  /** p-value of "the declared parent and the model were trained independently", when it is among the candidates. */
  p_value: number | null;
  verdict: Verdict;
  reason: string;
  candidates: ExplainedCandidate[];
}

/** The name a declared id or a candidate is known by: last path part, lower case, weight-file ending dropped. */
export function lineageKey(idOrPath: string): string {
  const last = basename(idOrPath.replace(/[/\\]+$/, ''));
  return last.toLowerCase().replace(/\.(gguf|safetensors|bin|pt|pth|onnx|npy)$/, '');
}

function mapDeclared(declared: readonly DeclaredParent[], candidates: readonly NamedModelPath[]): CheckedDeclaration[] {
  const byKey = new Map<string, string>();
  for (const c of candidates) {
    byKey.set(c.id.toLowerCase(), c.id);
    byKey.set(lineageKey(c.id), c.id);
    byKey.set(lineageKey(c.path), c.id);
  }
  return declared.map((d) => ({ ...d, candidate: byKey.get(d.id.toLowerCase()) ?? byKey.get(lineageKey(d.id)) ?? null }));
}

function verdictOf(declared: readonly CheckedDeclaration[], e: Explanation): { verdict: Verdict; reason: string; relation: LineageCheck['relation'] } {
  if (declared.length === 0)
    return { verdict: 'unverifiable', reason: 'the model declares no parent (config.json, README.md front matter, GGUF metadata)', relation: null };
  const mapped = [...new Set(declared.flatMap((d) => (d.candidate ? [d.candidate] : [])))];
  if (mapped.length === 0) {
    return {
      verdict: 'unverifiable',
      reason: `declared ${declared.map((d) => d.id).join(', ')}: not among the candidates (give it as --candidates ID=PATH)`,
      relation: null,
    };
  }
  const entry = (id: string) => e.candidates.find((c) => c.candidate === id);
  const relation = entry(mapped[0])?.relation ?? null;
  const independent = mapped.filter((id) => entry(id)?.relation === 'independent');
  if (independent.length > 0)
    return {
      verdict: 'contradicted',
      reason: `declared parent ${independent.join(', ')} is independent of the model: ${entry(independent[0])?.reason}`,
      relation,
    };
  const detected = new Set(e.parents.map((p) => p.parent));
  const missing = mapped.filter((id) => !detected.has(id));
  if (missing.length === 0) return { verdict: 'confirmed', reason: `declared parent ${mapped.join(', ')} detected (${relation})`, relation };
  const found = e.parents.map((p) => `${p.parent} (${p.relation})`).join(', ') || 'none';
  return { verdict: 'contradicted', reason: `declared ${missing.join(', ')}, detected ${found}`, relation };
}

export async function checkLineage(model: string, candidates: readonly NamedModelPath[], independence: PValueOptions | false = {}): Promise<LineageCheck> {
  let declared: DeclaredParent[] = [];
  const explanation = await explainChild(model, candidates, {
    independence,
    onChild: async (child) => {
      declared = await declaredParents(child.source);
    },
  });
  const mapped = mapDeclared(declared, candidates);
  const { verdict, reason, relation } = verdictOf(mapped, explanation);
  const declaredCandidate = explanation.candidates.find((c) => c.candidate === mapped.find((d) => d.candidate)?.candidate);
  const p_value = declaredCandidate?.p_value ?? null;
  return { model, declared: mapped, detected: explanation.parents, relation, p_value, verdict, reason, candidates: explanation.candidates };
}
