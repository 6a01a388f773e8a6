/**
 * PEFT LoRA adapters as models: which base tensors an adapter changes (targets.ts), which candidate
 * model it fits by names and shapes (base-match.ts), and the base with the adapter merged in, read
 * lazily like any model source (merge.ts).
 */
export { type AdapterMatch, agreeingBases, matchAdapterToBase } from './base-match.js';
export { mergedSource } from './merge.js';
export { adapterConfig, baseName, type LoraTarget, loraTargets, PEFT_PREFIX } from './targets.js';
