/**
 * The op table: the ONNX operators (default domain) that every part of the project understands.
 * Executors implement exactly these; the JVP transform has a rule for each. Keeping the set small
 * keeps every transform small.
 */
import type { Graph } from './ir.js';

export const OP_TABLE = [
  'Gemm',
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Relu',
  'Gelu',
  'Erf',
  'Sigmoid',
  'Tanh',
  'Conv',
  'ConvTranspose',
  'BatchNormalization',
  'LayerNormalization',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Flatten',
  'Reshape',
  'Transpose',
  'Concat',
  'Slice',
  'Gather',
  'Softmax',
  'Identity',
  'Constant',
  'Resize',
  'Sqrt',
  'Pow',
  'ReduceMean',
  'Shape',
  'Unsqueeze',
  'Squeeze',
  'Neg',
  'Cast',
  'Dropout',
  'Pad',
  'Expand',
  'Where',
  'Equal',
  'ConstantOfShape',
  'Exp',
  'Split',
] as const;

export type OpType = (typeof OP_TABLE)[number];

const SUPPORTED = new Set<string>(OP_TABLE);

export function isSupportedOp(op: string, domain = ''): boolean {
  return (domain === '' || domain === 'ai.onnx') && SUPPORTED.has(op);
}

/** Throws a clear error naming the first node whose operator is outside the op table. */
export function checkSupportedOps(graph: Graph, file: string): void {
  for (const node of graph.nodes) {
    if (!isSupportedOp(node.op, node.domain)) {
      const domain = node.domain ? `${node.domain}.` : '';
      throw new Error(
        `${file}: node '${node.name}' uses operator ${domain}${node.op}, which neural-lineage does not support (supported: ${OP_TABLE.join(', ')})`,
      );
    }
  }
}
