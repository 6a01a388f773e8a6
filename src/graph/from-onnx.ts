/** Loads a user's ONNX file as a graph, refusing operators outside the op table. */
import { parseOnnxModel } from '../formats/onnx/reader.js';
import { FormatError } from '../formats/errors.js';
import type { Graph } from './ir.js';
import { checkSupportedOps } from './ops.js';
import { graphFromOnnxModel } from './serialize.js';

/** The file each graph read from a user's ONNX file came from, for ONNX Runtime's errors. */
const sourceFiles = new WeakMap<Graph, string>();

/** The ONNX file `graph` was read from, when it was read by graphFromOnnxFile. */
export function onnxSourceFile(graph: Graph): string | undefined {
  return sourceFiles.get(graph);
}

export async function graphFromOnnxFile(file: string, bytes: Uint8Array): Promise<Graph> {
  const graph = graphFromOnnxModel(parseOnnxModel(bytes, file));
  try {
    checkSupportedOps(graph, file);
  } catch (err) {
    throw new FormatError(file, (err as Error).message.replace(`${file}: `, ''));
  }
  if (graph.inputs.length === 0) throw new FormatError(file, 'the graph has no data input');
  sourceFiles.set(graph, file);
  return graph;
}
