/** Forward-mode rules of BatchNormalization (inference mode) and LayerNormalization. */
import type { OpType } from '../ops.js';
import { attr, floatAttr, intAttr } from '../ir.js';
import { type JvpRule, noTangents } from './jvp-rule.js';

// y = (x - mean) / sqrt(var + eps) * scale + bias. mean and var are buffers: they carry a
// tangent only when the caller moves them (the child's running statistics as part of Delta).
const batchNormalization: JvpRule = ({ e, node, tan, dx }) => {
  if (intAttr(node, 'training_mode', 0) !== 0) throw new Error(`node ${node.name}: BatchNormalization in training mode is not supported`);
  const [x, scale, bias, mean, variance] = node.inputs;
  const dScale = tan(scale);
  const dBias = tan(bias);
  const dMean = tan(mean);
  const dVar = tan(variance);
  const eps = floatAttr(node, 'epsilon', 1e-5);
  const epsilon = { epsilon: attr.float(eps) };
  let t: string | null = null;
  if (dx !== null) t = e.one('BatchNormalization', [dx, scale, e.zerosLike(bias), e.zerosLike(mean), variance], epsilon);
  // Every per-channel tangent folds into one normalisation of x: d/dvar is
  // -(x - mean) * scale / (2 (var + eps)^(3/2)), a scale of -scale * dVar / (2 (var + eps));
  // d/dmean is the constant -scale * dMean / sqrt(var + eps), a bias.
  let scaleT = dScale;
  let biasT = dBias;
  if (dVar !== null) {
    const factor = e.one('Div', [e.one('Mul', [dVar, e.scalar(-0.5)]), e.one('Add', [variance, e.scalar(eps)])]);
    scaleT = e.add(scaleT, e.one('Mul', [scale, factor]));
  }
  if (dMean !== null) {
    const shift = e.one('Div', [e.one('Mul', [scale, dMean]), e.one('Sqrt', [e.one('Add', [variance, e.scalar(eps)])])]);
    biasT = e.add(biasT, e.one('Neg', [shift]));
  }
  if (scaleT !== null || biasT !== null) {
    t = e.add(t, e.one('BatchNormalization', [x, scaleT ?? e.zerosLike(scale), biasT ?? e.zerosLike(bias), mean, variance], epsilon));
  }
  return [t, ...node.outputs.slice(1).map(() => null)];
};

const layerNormalization: JvpRule = ({ e, node, tan, dx }) => {
  const axis = intAttr(node, 'axis', -1);
  if (axis >= 0) throw new Error(`node ${node.name}: LayerNormalization JVP needs a negative axis, got ${axis}`);
  const [x, scale, bias] = node.inputs;
  const dScale = tan(scale);
  const dBias = bias ? tan(bias) : null;
  if (dx === null && dScale === null && dBias === null) return noTangents(node);
  const axes = Array.from({ length: -axis }, (_, i) => axis + i);
  const eps = { axis: attr.int(axis), epsilon: node.attributes.epsilon ?? attr.float(1e-5) };
  const [xhat, , invStd] = e.node('LayerNormalization', [x, e.onesLike(scale), e.zerosLike(scale)], eps, 3);
  let t: string | null = null;
  if (dx !== null) {
    // d xhat = invStd * (dx - mean(dx) - xhat * mean(xhat * dx)) over the normalised axes
    const meanDx = e.reduceMean(dx, axes);
    const proj = e.reduceMean(e.one('Mul', [xhat, dx]), axes);
    const dxhat = e.one('Mul', [e.one('Sub', [e.one('Sub', [dx, meanDx]), e.one('Mul', [xhat, proj])]), invStd]);
    t = e.one('Mul', [dxhat, scale]);
  }
  if (dScale !== null) t = e.add(t, e.one('Mul', [xhat, dScale]));
  if (dBias !== null) t = e.add(t, t === null ? e.expandLike(dBias, node.outputs[0]) : dBias);
  return [t, ...node.outputs.slice(1).map(() => null)];
};

export const NORMALIZATION_JVP_RULES = {
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
} satisfies Partial<Record<OpType, JvpRule>>;
