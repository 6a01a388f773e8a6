/**
 * An ONNX model's weights as a PyTorch-style state dict, and .onnx file reading/writing.
 *
 * torch.onnx.export (eval mode) stores each distinct tensor once and re-creates the other names as
 * Identity nodes, e.g. `bn3.running_var = Identity(bn2.weight)` when both are all ones, and older
 * exports name initializers `onnx::Conv_123` with the parameter's name on an Identity output. So the
 * names of one stored tensor are: the initializer's own name plus every output of an Identity chain
 * whose root is that initializer (an "alias group"). Rule for which names are exposed:
 *   1. names that look like PyTorch state-dict keys (contain a '.', no 'onnx::' prefix), if any;
 *   2. otherwise every name in the group without the 'onnx::' prefix;
 *   3. otherwise the initializer's own name.
 * Groups come in initializer file order; within a group the initializer's name first, then aliases
 * in node order. Names of one group share one Tensor object.
 * A Constant node whose `value` tensor reaches PyTorch-looking names through Identity nodes is
 * treated the same way, but only those PyTorch-looking names are exposed (plain Constants are
 * graph constants, not weights).
 */
import type { Tensor, Weights } from '../../tensor.js';
import { writeFileAtomic } from '../../base/fsutil.js';
import type { WeightFile } from '../types.js';
import { type OnnxModel, type OnnxNode, defaultOpset } from './model.js';
import { parseOnnxModel } from './reader.js';
import { serializeOnnxModel } from './writer.js';
import { readInputFile } from '../input-file.js';

const isDefaultDomain = (node: OnnxNode): boolean => node.domain === '' || node.domain === 'ai.onnx';

/** A name PyTorch would use for a parameter or buffer of a submodule. */
export function looksLikeStateDictKey(name: string): boolean {
  return name.includes('.') && !name.startsWith('onnx::');
}

function exposedNames(group: string[]): string[] {
  const torch = group.filter(looksLikeStateDictKey);
  if (torch.length > 0) return torch;
  const named = group.filter((n) => !n.startsWith('onnx::'));
  return named.length > 0 ? named : group.slice(0, 1);
}

/**
 * One stored tensor and every name it goes by: `root` (an initializer, or the output of a Constant
 * node), then the outputs of the Identity chains rooted at it in node order (`members`), and the
 * names exposed as weights (`exposed`, by the rule above; empty for a Constant that reaches no
 * PyTorch-looking name, which is a graph constant rather than a weight).
 */
export interface OnnxAliasGroup {
  root: string;
  tensor: Tensor;
  members: string[];
  exposed: string[];
}

/** Identity edges (output -> input) and Constant-node tensors of the default domain. */
function identityAndConstants(model: OnnxModel): { identitySource: Map<string, string>; constants: Map<string, Tensor> } {
  const identitySource = new Map<string, string>();
  const constants = new Map<string, Tensor>();
  for (const node of model.graph.nodes) {
    if (!isDefaultDomain(node)) continue;
    if (node.opType === 'Identity' && node.inputs.length === 1 && node.outputs.length === 1 && node.inputs[0] !== '') {
      identitySource.set(node.outputs[0], node.inputs[0]);
    }
    const value = node.attributes.value;
    if (node.opType === 'Constant' && node.outputs.length === 1 && value?.type === 'tensor') constants.set(node.outputs[0], value.value);
  }
  return { identitySource, constants };
}

/** Each Identity output whose chain ends at a root, listed under that root in node order. */
function aliasesByRoot(identitySource: ReadonlyMap<string, string>, isRoot: (name: string) => boolean): Map<string, string[]> {
  // Each name's root is found once and remembered, and every name a walk passes gets the walk's
  // answer: linear in the number of Identity nodes, where walking each chain anew is quadratic.
  const resolved = new Map<string, string | null>(); // null: not a weight, or a (malformed) cycle
  const rootOf = (name: string): string | undefined => {
    const path: string[] = [];
    const onPath = new Set<string>();
    let current = name;
    let root: string | null;
    for (;;) {
      const known = resolved.get(current);
      if (known !== undefined) {
        root = known;
        break;
      }
      if (isRoot(current)) {
        root = current;
        break;
      }
      const next = identitySource.get(current);
      if (next === undefined || onPath.has(current)) {
        root = null;
        break;
      }
      path.push(current);
      onPath.add(current);
      current = next;
    }
    for (const visited of path) resolved.set(visited, root);
    return root ?? undefined;
  };

  const aliases = new Map<string, string[]>();
  for (const alias of identitySource.keys()) {
    const root = rootOf(alias);
    if (root === undefined || root === alias) continue;
    const list = aliases.get(root) ?? [];
    list.push(alias);
    aliases.set(root, list);
  }
  return aliases;
}

/** The stored tensors with their names (see above): initializers in file order, then Constant roots. */
export function onnxAliasGroups(model: OnnxModel): OnnxAliasGroup[] {
  const graph = model.graph;
  const { identitySource, constants } = identityAndConstants(model);
  const aliases = aliasesByRoot(identitySource, (name) => graph.initializers.has(name) || constants.has(name));
  const groups: OnnxAliasGroup[] = [];
  for (const [root, tensor] of graph.initializers) {
    const members = [root, ...(aliases.get(root) ?? [])];
    groups.push({ root, tensor, members, exposed: exposedNames(members) });
  }
  for (const [root, tensor] of constants) {
    if (graph.initializers.has(root)) continue;
    const members = [root, ...(aliases.get(root) ?? [])];
    groups.push({ root, tensor, members, exposed: members.filter(looksLikeStateDictKey) });
  }
  return groups;
}

/** The weights of alias groups: every exposed name, group by group; names of one group share one Tensor. */
export function weightsOfGroups(groups: readonly OnnxAliasGroup[]): Weights {
  const weights: Weights = new Map();
  for (const group of groups) for (const name of group.exposed) weights.set(name, group.tensor);
  return weights;
}

/** The model's weights under their PyTorch names, with Identity aliases resolved (see above). */
export function onnxWeights(model: OnnxModel): Weights {
  return weightsOfGroups(onnxAliasGroups(model));
}

/** metadata_props plus `producer_name` and `opset` (the default-domain opset version). */
export function onnxFileMetadata(model: OnnxModel): Record<string, string> {
  const metadata: Record<string, string> = { ...model.metadata, producer_name: model.producerName };
  const opset = defaultOpset(model);
  if (opset !== undefined) metadata.opset = String(opset);
  return metadata;
}

export async function readOnnxModel(path: string): Promise<OnnxModel> {
  const bytes = await readInputFile(path);
  return parseOnnxModel(bytes, path);
}

/** Reads an .onnx file as a weight file: its weights as by `onnxWeights`. */
export async function readOnnxFile(path: string): Promise<WeightFile> {
  const model = await readOnnxModel(path);
  return { file: path, format: 'onnx', metadata: onnxFileMetadata(model), weights: onnxWeights(model) };
}

export async function writeOnnxModel(path: string, model: OnnxModel): Promise<void> {
  await writeFileAtomic(path, serializeOnnxModel(model));
}
