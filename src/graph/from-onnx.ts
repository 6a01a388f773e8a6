/** Loads a user's ONNX file as a graph, refusing operators outside the op table. */
import { parseOnnxModel } from '../formats/onnx/reader.js';
import { FormatError } from '../formats/errors.js';
import type { Graph } from './ir.js';
import { checkSupportedOps } from './ops.js';
import { graphFromOnnxModel } from './serialize.js';

export async function graphFromOnnxFile(file: string, bytes: Uint8Array): Promise<Graph> {
  const graph = graphFromOnnxModel(parseOnnxModel(bytes, file));
  try {
    checkSupportedOps(graph, file);
  } catch (err) {
    throw new FormatError(file, (err as Error).message.replace(`${file}: `, ''));
  }
  if (graph.inputs.length === 0) throw new FormatError(file, 'the graph has no data input');
  return graph;
}
