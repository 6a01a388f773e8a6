/**
 * The blocks of a built model in network order, for partial fine-tuning ("freeze the first k
 * blocks"). Blocks follow the architecture's layer taps (MLP: fc1, fc2, ...; convnet: block0, ...;
 * ResNet: stem, layer1..layer4; ViT: its blocks): a block owns the state-dict tensors needed to
 * compute its tap that no earlier tap needed. The task head is never a block.
 */
import type { BuiltModel } from '../archs/types.js';
import { truncateGraph } from '../graph/ir.js';

export interface Block {
  /** Tap name of the block's output. */
  layer: string;
  /** State-dict keys (parameters and buffers) of the block. */
  params: string[];
}

export function modelBlocks(built: BuiltModel): Block[] {
  const head = new Set(built.headParams);
  const seen = new Set<string>();
  const blocks: Block[] = [];
  for (const layer of built.layers) {
    if (layer === 'penultimate' || layer === 'logits') continue;
    const value = built.graph.taps.get(layer);
    if (!value) continue;
    const needed = truncateGraph(built.graph, [value]).initializers.keys();
    const params = [...needed].filter((k) => !k.startsWith('const:') && !seen.has(k) && !head.has(k));
    for (const k of params) seen.add(k);
    if (params.length > 0) blocks.push({ layer, params });
  }
  return blocks;
}
