import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseNpy } from '../../src/formats/npy.js';
import { parseSafetensors } from '../../src/formats/safetensors.js';
import { graphFromOnnxFile } from '../../src/graph/from-onnx.js';
import { jvpGraph } from '../../src/graph/transforms/jvp.js';
import { runGraph } from '../../src/runtime/ort.js';
import type { Tensor } from '../../src/tensor.js';

/** max |a - b| / max |b| */
function relativeError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

// References: PyTorch float64 forward-mode JVP (scripts/make_jvp_fixtures.py) on torch.onnx exports.
describe('forward-mode JVP transform against PyTorch', () => {
  for (const name of ['convnet', 'attention']) {
    it(`${name}: features and tangent J*Delta match torch.autograd.functional.jvp`, async () => {
      const dir = 'fixtures/jvp';
      const file = `${dir}/${name}.onnx`;
      const graph = await graphFromOnnxFile(file, readFileSync(file));
      const input = parseNpy(readFileSync(`${dir}/${name}.input.npy`));
      const wantF = parseNpy(readFileSync(`${dir}/${name}.features.npy`)).data as Float32Array;
      const wantT = parseNpy(readFileSync(`${dir}/${name}.tangent.npy`)).data as Float32Array;
      const delta = parseSafetensors(readFileSync(`${dir}/${name}.delta.safetensors`)).weights;
      const output = graph.outputs[0].name;
      const jvp = jvpGraph(graph, output, delta.keys());
      expect([...jvp.tangentInputs.keys()].sort()).toEqual([...delta.keys()].sort());
      const feeds: Record<string, Tensor> = { [graph.inputs[0].name]: input };
      for (const [param, inputName] of jvp.tangentInputs) feeds[inputName] = delta.get(param) as Tensor;
      const out = await runGraph(jvp.graph, feeds, [jvp.output, jvp.tangent]);
      expect(relativeError(out[jvp.output].data as Float32Array, wantF)).toBeLessThan(1e-4);
      expect(relativeError(out[jvp.tangent].data as Float32Array, wantT)).toBeLessThan(1e-4);
    });
  }

  it('gives a zero tangent when no parameter moves', async () => {
    const file = 'fixtures/jvp/convnet.onnx';
    const graph = await graphFromOnnxFile(file, readFileSync(file));
    const input = parseNpy(readFileSync('fixtures/jvp/convnet.input.npy'));
    const jvp = jvpGraph(graph, graph.outputs[0].name, []);
    const out = await runGraph(jvp.graph, { [graph.inputs[0].name]: input }, [jvp.tangent]);
    expect(Array.from(out[jvp.tangent].data as Float32Array).every((v) => v === 0)).toBe(true);
    expect(out[jvp.tangent].shape).toEqual([3, 5]);
  });
});
