import { describe, expect, it } from 'vitest';
import { convnetTemplate } from '../../src/archs/convnet.js';
import { mlpSpec, mlpTemplate } from '../../src/archs/mlp.js';
import { ARCH_NAMES, archTemplate, buildGraph, inferArchitecture } from '../../src/archs/registry.js';
import { resnetSpec } from '../../src/archs/resnet.js';
import { INPUT_NAME, type StateTensorSpec } from '../../src/archs/types.js';
import { FormatError } from '../../src/formats/errors.js';
import { runGraph } from '../../src/runtime/ort.js';
import { type Weights, fromFloat32 } from '../../src/tensor.js';
import { syntheticStateDict } from '../../src/testing/synthetic-weights.js';
import { type KeySpec, fixtureWeights, readArray, readFixture, relativeError, torchvisionKeys, zeroWeights } from './fixtures.js';

function linearKeys(layers: [string, number, number][]): KeySpec[] {
  return layers.flatMap(([name, inF, out]) => [
    { name: `${name}.weight`, shape: [out, inF], dtype: 'float32' as const },
    { name: `${name}.bias`, shape: [out], dtype: 'float32' as const },
  ]);
}

function withoutOptional(template: StateTensorSpec[]): KeySpec[] {
  return template.map((p) => ({ name: p.name, shape: p.shape, dtype: p.dtype }));
}

describe('inferArchitecture: MLP', () => {
  it('orders layers by the shape chain, not by name or file order', () => {
    const keys = linearKeys([
      ['layers.10', 128, 10],
      ['layers.2', 1024, 256],
      ['layers.9', 256, 128],
      ['layers.1', 784, 1024],
    ]);
    const spec = inferArchitecture(zeroWeights(keys));
    expect(spec).toEqual({
      name: 'mlp',
      layers: ['layers.1', 'layers.2', 'layers.9', 'layers.10'],
      sizes: [784, 1024, 256, 128, 10],
      biases: [true, true, true, true],
    });
  });

  it('accepts layers without bias and arbitrary names', () => {
    const keys: KeySpec[] = [
      { name: 'out.weight', shape: [3, 5], dtype: 'float32' },
      { name: 'encoder.proj.weight', shape: [5, 7], dtype: 'float32' },
      { name: 'encoder.proj.bias', shape: [5], dtype: 'float32' },
    ];
    const spec = inferArchitecture(zeroWeights(keys));
    expect(spec).toEqual({ name: 'mlp', layers: ['encoder.proj', 'out'], sizes: [7, 5, 3], biases: [true, false] });
  });

  it('reports a broken chain', () => {
    const keys = linearKeys([
      ['fc1', 784, 256],
      ['fc2', 128, 10],
    ]);
    expect(() => inferArchitecture(zeroWeights(keys))).toThrow(/do not form a chain.*fc1 \[784->256\], fc2 \[128->10\]/);
  });

  it('uses file or name order for equal-shaped layers, and reports an undecidable order', () => {
    const layers: [string, number, number][] = [
      ['b', 64, 64],
      ['c', 784, 64],
      ['a', 64, 64],
      ['d', 64, 10],
    ];
    expect(() => inferArchitecture(zeroWeights(linearKeys(layers)))).toThrow(/cannot be decided/);
    const fileOrder: [string, number, number][] = [layers[1], layers[0], layers[2], layers[3]];
    expect(inferArchitecture(zeroWeights(linearKeys(fileOrder)))).toMatchObject({ layers: ['c', 'b', 'a', 'd'] });
    const named: [string, number, number][] = [
      ['fc3', 64, 64],
      ['fc1', 784, 64],
      ['fc2', 64, 64],
      ['fc4', 64, 10],
    ];
    expect(inferArchitecture(zeroWeights(linearKeys(named)))).toMatchObject({ layers: ['fc1', 'fc2', 'fc3', 'fc4'] });
  });

  it('chooses the input shape from the first layer, and the option overrides it', () => {
    const shapeFor = (inF: number, inputShape?: number[]): number[] => buildGraph(zeroWeights(linearKeys([['fc1', inF, 4]])), { inputShape }).inputShape;
    expect(shapeFor(784)).toEqual([1, 28, 28]);
    expect(shapeFor(3072)).toEqual([3, 32, 32]);
    expect(shapeFor(100)).toEqual([100]);
    expect(shapeFor(784, [784])).toEqual([784]);
    expect(() => shapeFor(784, [3, 28, 28])).toThrow(/2352 elements.*takes 784/);
  });

  it('taps every layer by module name, penultimate before the head, logits last', () => {
    const built = buildGraph(zeroWeights(withoutOptional(mlpTemplate(mlpSpec([784, 1024, 256, 128, 10])))));
    expect(built.layers).toEqual(['fc1', 'fc2', 'fc3', 'penultimate', 'fc4', 'logits']);
    expect(built.headParams).toEqual(['fc4.weight', 'fc4.bias']);
    expect(built.graph.taps.get('penultimate')).toBe(built.graph.taps.get('fc3'));
    expect(built.graph.nodes.filter((n) => n.op === 'Relu')).toHaveLength(3);
  });
});

describe('inferArchitecture: ResNet', () => {
  const tv = torchvisionKeys();

  for (const name of ['resnet18', 'resnet34', 'resnet50'] as const) {
    it(`recognises torchvision ${name} and reproduces its key list`, () => {
      const spec = inferArchitecture(zeroWeights(tv[name]));
      expect(spec).toEqual(resnetSpec(name));
      expect(spec).toMatchObject({ stem: 'imagenet', inChannels: 3, numClasses: 1000, baseWidth: 64 });
      expect(withoutOptional(archTemplate(spec))).toEqual(tv[name]);
    });
  }

  it('builds resnet50 with bottleneck taps and head', () => {
    const built = buildGraph(zeroWeights(tv.resnet50));
    expect(built.arch.name).toBe('resnet50');
    expect(built.inputShape).toEqual([3, 224, 224]);
    expect(built.layers).toEqual(['stem', 'layer1', 'layer2', 'layer3', 'layer4', 'penultimate', 'logits']);
    expect(built.headParams).toEqual(['fc.weight', 'fc.bias']);
    const convs = built.graph.nodes.filter((n) => n.op === 'Conv');
    expect(convs).toHaveLength(53); // stem + 16 blocks x 3 + 4 downsamples
  });

  it('accepts state dicts without num_batches_tracked (saved by old PyTorch)', () => {
    const keys = tv.resnet18.filter((k) => !k.name.endsWith('num_batches_tracked'));
    expect(inferArchitecture(zeroWeights(keys)).name).toBe('resnet18');
  });

  it('rejects other depths, missing and extra tensors, and wrong shapes', () => {
    const r18 = tv.resnet18;
    const deeper = [...r18, ...r18.filter((k) => k.name.startsWith('layer3.1.')).map((k) => ({ ...k, name: k.name.replace('layer3.1.', 'layer3.2.') }))];
    expect(() => inferArchitecture(zeroWeights(deeper))).toThrow(/basic blocks \[2,2,3,2\] is not supported/);
    expect(() => inferArchitecture(zeroWeights(r18.filter((k) => k.name !== 'layer2.0.downsample.0.weight')))).toThrow(/lack layer2\.0\.downsample\.0\.weight/);
    expect(() => inferArchitecture(zeroWeights([...r18, { name: 'aux.weight', shape: [2], dtype: 'float32' }]))).toThrow(/does not use: aux\.weight/);
    const wrong = r18.map((k) => (k.name === 'layer1.0.bn2.running_var' ? { ...k, shape: [32] } : k));
    expect(() => inferArchitecture(zeroWeights(wrong))).toThrow(/layer1\.0\.bn2\.running_var has shape \[32\], resnet18 expects \[64\]/);
  });

  it('reads the CIFAR stem from a 3x3 conv1 and rejects other kernels', () => {
    const cifar = tv.resnet18.map((k) => (k.name === 'conv1.weight' ? { ...k, shape: [64, 3, 3, 3] } : k));
    expect(inferArchitecture(zeroWeights(cifar))).toMatchObject({ name: 'resnet18', stem: 'cifar' });
    expect(buildGraph(zeroWeights(cifar)).graph.nodes.some((n) => n.op === 'MaxPool')).toBe(false);
    const odd = tv.resnet18.map((k) => (k.name === 'conv1.weight' ? { ...k, shape: [64, 3, 5, 5] } : k));
    expect(() => inferArchitecture(zeroWeights(odd))).toThrow(/5x5 kernel/);
  });
});

describe('inferArchitecture: ViT heads', () => {
  const fixture = readFixture('vit');
  const weights = fixtureWeights(fixture);

  it('takes heads from the option, else metadata num_heads, else width/64', () => {
    expect(inferArchitecture(weights)).toMatchObject({ heads: 1, headsSource: 'default' });
    expect(inferArchitecture(weights, { num_heads: '4' })).toMatchObject({ heads: 4, headsSource: 'metadata' });
    expect(inferArchitecture(weights, { num_heads: '4' }, { heads: 2 })).toMatchObject({ heads: 2, headsSource: 'option' });
    expect(() => inferArchitecture(weights, { num_heads: '3' })).toThrow(/num_heads '3' cannot split the ViT width 64/);
    expect(() => inferArchitecture(weights, { num_heads: 'four' })).toThrow(/num_heads 'four'/);
  });

  it('the head count changes the outputs: only the right one matches PyTorch', async () => {
    const input = readArray('vit', 'input');
    const reference = readArray('vit', 'logits');
    const logitsWith = async (options: { heads?: number; metadata?: Record<string, string> }): Promise<number> => {
      const built = buildGraph(weights, options);
      const name = built.graph.taps.get('logits') as string;
      const out = await runGraph(built.graph, { [INPUT_NAME]: input }, [name]);
      return relativeError(out[name], reference);
    };
    expect(await logitsWith({ heads: 4 })).toBeLessThan(1e-4);
    expect(await logitsWith({ metadata: { num_heads: '4' } })).toBeLessThan(1e-4);
    expect(await logitsWith({ heads: 2 })).toBeGreaterThan(1e-2);
  });

  it('needs an input shape when pos_embed is not 1 + a square grid', () => {
    const uneven = new Map(weights);
    uneven.set('pos_embed', syntheticStateDict([{ name: 'pos_embed', shape: [1, 1 + 7 * 5, 64] }], 1).get('pos_embed')!);
    expect(() => inferArchitecture(uneven, { num_heads: '4' })).toThrow(/36 tokens.*give the input shape/);
    expect(inferArchitecture(uneven, { num_heads: '4' }, { inputShape: [1, 28, 20] })).toMatchObject({ imageSize: [28, 20] });
    expect(inferArchitecture(uneven, { num_heads: '4', input_shape: '1,20,28' })).toMatchObject({ imageSize: [20, 28] });
  });
});

describe('registry', () => {
  const convnet = (): Weights => syntheticStateDict(convnetTemplate({ name: 'convnet', inChannels: 3, widths: [8, 16], numClasses: 5 }), 7);

  it('lists the built-in names', () => {
    expect([...ARCH_NAMES]).toEqual(['mlp', 'convnet', 'resnet18', 'resnet34', 'resnet50', 'vit']);
  });

  it('infers the convnet width and depth', () => {
    expect(inferArchitecture(convnet())).toEqual({ name: 'convnet', inChannels: 3, widths: [8, 16], numClasses: 5 });
    const built = buildGraph(convnet());
    expect(built.layers).toEqual(['block0', 'block1', 'penultimate', 'logits']);
    expect(built.inputShape).toEqual([3, 32, 32]);
  });

  it('reports an unknown architecture with what it looked for', () => {
    const weights = zeroWeights([{ name: 'encoder.layer.0.attention.weight', shape: [8, 8, 3, 3], dtype: 'float32' }]);
    const error = (() => {
      try {
        inferArchitecture(weights);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(FormatError);
    const message = (error as Error).message;
    for (const part of [
      'cannot infer the architecture',
      'resnet18/34/50',
      'patch_embed.proj.weight',
      'blocks.N.conv.weight',
      'Linear',
      'encoder.layer.0.attention.weight [8,8,3,3]',
    ]) {
      expect(message).toContain(part);
    }
    expect(() => inferArchitecture(new Map())).toThrow(/no tensors/);
  });

  it('honours a requested architecture and says when the weights are another', () => {
    const r18 = zeroWeights(torchvisionKeys().resnet18);
    expect(buildGraph(r18, { arch: 'resnet18' }).arch.name).toBe('resnet18');
    expect(() => buildGraph(r18, { arch: 'resnet34' })).toThrow(/are a resnet18, not a resnet34/);
    expect(() => buildGraph(r18, { arch: 'vit' })).toThrow(/are not vit: looked for vit/);
    expect(() => buildGraph(r18, { arch: 'alexnet' })).toThrow(/unknown architecture 'alexnet' \(built-in: mlp, convnet/);
    expect(() => inferArchitecture(r18, { arch: 'mlp' })).toThrow(/are not mlp: looked for mlp/);
  });

  it('names the source file in errors', () => {
    const weights = zeroWeights(
      linearKeys([
        ['fc1', 4, 3],
        ['fc2', 5, 2],
      ]),
    );
    expect(() => buildGraph(weights, { source: 'child.safetensors' })).toThrow(/^child\.safetensors: the Linear layers do not form a chain/);
  });

  it('builds float32 graphs from half-precision weights', async () => {
    const halves: Weights = new Map();
    for (const [k, t] of convnet()) halves.set(k, t.dtype === 'float32' ? fromFloat32('float16', t.shape, t.data as Float32Array) : t);
    const built = buildGraph(halves);
    expect(built.graph.initializers.get('head.weight')?.dtype).toBe('float32');
    const input = fromFloat32('float32', [2, 3, 32, 32], new Float32Array(2 * 3 * 32 * 32).fill(0.5));
    const out = await runGraph(built.graph, { [INPUT_NAME]: input }, [built.graph.taps.get('logits') as string]);
    expect(Object.values(out)[0].shape).toEqual([2, 5]);
  });
});
