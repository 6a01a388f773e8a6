/**
 * `explain` on a PEFT LoRA adapter folder, which holds the update and not the model: the adapter
 * is matched to the candidates by names and shapes (every target module must exist in the
 * candidate with the shape the adapter's factors imply). It is `lora` with the adapter's rank.
 * Names and shapes cannot tell apart look-alike bases (fine-tunes of one architecture): when more
 * than one candidate fits, none is named parent and each fitting candidate is listed as such; with
 * a base given (`--base`), the adapter is merged into it and explained as a full model instead.
 */
import { agreeingBases, type LoraTarget, loraTargets, matchAdapterToBase } from '../adapters/lora.js';
import type { OpenedModel } from '../source-ref.js';
import type { ExplainedCandidate, Explanation } from './explain-types.js';

function moduleNames(targets: readonly LoraTarget[]): string[] {
  return [...new Set(targets.map((t) => t.module.split('.').slice(-2, -1)[0] ?? t.module))];
}

export function explainAdapter(adapter: OpenedModel, candidates: readonly OpenedModel[]): Explanation {
  const targets = loraTargets(adapter.source);
  const rank = Math.max(...targets.map((t) => t.rank));
  const target_modules = moduleNames(targets);
  const matches = candidates.map((c) => matchAdapterToBase(adapter.source, targets, c.source, c.id));
  const fitting = new Set(agreeingBases(matches).map((m) => m.candidate));
  const entries: ExplainedCandidate[] = matches.map((m) => {
    const fits = fitting.has(m.candidate);
    const reason = fits
      ? `all ${m.total} target modules found with the adapter's shapes${fitting.size > 1 ? `; ${fitting.size} candidates fit: an adapter alone cannot tell look-alike bases apart (give --base to merge and compare)` : ''}`
      : `${m.matched} of ${m.total} target modules found with the adapter's shapes${m.mismatches.length > 0 ? ` (${m.mismatches[0]})` : ''}`;
    return { candidate: m.candidate, distance: null, relation: fits ? 'lora' : 'independent', reason, ...(fits ? { rank, target_modules } : {}) };
  });
  const parents = fitting.size === 1 ? [{ parent: [...fitting][0], relation: 'lora' as const, coefficient: 1, rank, target_modules }] : [];
  return { child: adapter.id, parents, candidates: entries };
}
