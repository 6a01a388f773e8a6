/**
 * Built-in architectures against PyTorch: synthetic weights regenerated from the fixture's key list,
 * architecture inferred, graph run with ONNX Runtime, taps compared with torch's eval-mode values.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { archTemplate, buildGraph, inferArchitecture } from '../../src/archs/registry.js';
import { INPUT_NAME } from '../../src/archs/types.js';
import { checkSupportedOps } from '../../src/graph/ops.js';
import { resolveLayer } from '../../src/graph/ir.js';
import { runGraph } from '../../src/runtime/ort.js';
import { makeTensor } from '../../src/tensor.js';
import { FIXTURE_DIR, FIXTURE_MODELS, fixtureWeights, readArray, readFixture, relativeError } from './fixtures.js';

const TOLERANCE = 1e-4;

describe.each(FIXTURE_MODELS)('%s matches PyTorch', (model) => {
  const fixture = readFixture(model);
  const weights = fixtureWeights(fixture);
  const metadata = model === 'vit' ? { num_heads: String(fixture.expected.heads) } : undefined;
  // The ImageNet-stem ResNet-50 defaults to 224x224; its fixture uses 64x64 to stay small.
  const inputShape = model === 'resnet50' ? fixture.inputShape : undefined;

  it('infers the architecture and its exact state-dict keys', () => {
    const spec = inferArchitecture(weights, metadata);
    expect(spec).toMatchObject(fixture.expected);
    const template = archTemplate(spec).map((p) => ({ name: p.name, shape: p.shape, dtype: p.dtype }));
    expect(template).toEqual(fixture.keys);
  });

  it(`computes the taps ${fixture.taps.join(', ')} to ${TOLERANCE} relative`, async () => {
    const built = buildGraph(weights, { metadata, inputShape });
    expect(built.inputShape).toEqual(fixture.inputShape);
    expect(built.layers.at(-1)).toBe('logits');
    expect(built.layers).toContain('penultimate');
    for (const tap of fixture.taps) expect(built.layers).toContain(tap);
    checkSupportedOps(built.graph, model);
    const stateDictKeys = new Set(fixture.keys.map((k) => k.name));
    for (const name of built.graph.initializers.keys()) expect(stateDictKeys.has(name) || name.startsWith('const:'), name).toBe(true);
    for (const p of built.headParams) expect(built.graph.initializers.has(p), p).toBe(true);

    const input = readArray(model, 'input');
    const values = fixture.taps.map((t) => resolveLayer(built.graph, t));
    const out = await runGraph(built.graph, { [INPUT_NAME]: input }, values);
    fixture.taps.forEach((tap, i) => {
      const reference = readArray(model, tap);
      expect(out[values[i]].shape, tap).toEqual(reference.shape);
      const err = relativeError(out[values[i]], reference);
      if (process.env.SHOW_ERRORS) console.log(`${model} ${tap}: ${err.toExponential(2)}`);
      expect(err, tap).toBeLessThan(TOLERANCE);
    });
  });
});

describe('exported ONNX fixtures (for the ONNX import path)', () => {
  for (const model of ['convnet', 'vit']) {
    it(`${model}.onnx reproduces the PyTorch logits in ONNX Runtime`, async () => {
      const fixture = readFixture(model);
      const session = await ort.InferenceSession.create(join(FIXTURE_DIR, fixture.onnx as string));
      const input = readArray(model, 'input');
      const result = await session.run({ input: new ort.Tensor('float32', input.data as Float32Array, [...input.shape]) });
      const logits = result.logits;
      const actual = makeTensor('float32', [...logits.dims], logits.data as Float32Array);
      expect(relativeError(actual, readArray(model, 'logits'))).toBeLessThan(TOLERANCE);
      await session.release();
    });
  }
});
