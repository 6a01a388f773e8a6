#!/usr/bin/python3
"""Exports tiny PyTorch models to ONNX as reference fixtures for test/formats/onnx.test.ts.

Run with Debian's interpreter (torch 1.13 + onnx): /usr/bin/python3 scripts/make_onnx_fixtures.py

Each model is exported the way lineage users are told to export (opset 13, no constant folding,
training=PRESERVE so BatchNorm is not folded into the convolutions). Next to every .onnx file a
.json file records the PyTorch state dict (names, dtypes, shapes and checksums computed by torch,
not by our reader) plus one input and the output torch computes for it.

typed_fields.onnx is written with the onnx package's helpers instead: initializers in the typed
fields (float_data, int32_data, int64_data, double_data) rather than raw_data, one node carrying
every attribute kind, and value infos with fixed, symbolic and unknown dimensions. Its .json holds
the values the script put in.

In eval mode torch.onnx.export deduplicates initializers with equal values and re-creates the
dropped names as Identity nodes (e.g. bn3.running_var = Identity(bn2.weight), all ones). TinyConvBn
keeps bn2 and bn3 at their initial values on purpose so that the fixture contains such aliases;
bn1 is randomized so that its statistics differ from its affine parameters.
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'onnx')


class TinyMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TinyConvBn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2)
        self.bn2 = nn.BatchNorm2d(6)
        self.conv3 = nn.Conv2d(6, 6, 1)
        self.bn3 = nn.BatchNorm2d(6)
        self.head = nn.Linear(6, 5)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = torch.relu(self.bn3(self.conv3(x)))
        return self.head(x.mean(dim=(2, 3)))


def checksums(t):
    """Checksums computed in float64: the plain sum and a position-weighted sum that also catches
    transposed or shuffled data."""
    flat = t.detach().reshape(-1).to(torch.float64)
    weights = (torch.arange(flat.numel(), dtype=torch.float64) % 7) + 1
    return float(flat.sum()), float((flat * weights).sum())


def randomize(bn):
    """Non-trivial BatchNorm statistics and affine parameters, so that a loader that mixed them up
    (or replaced them by defaults) would be caught."""
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-0.3, 0.3)
        bn.running_var.uniform_(0.5, 2.0)
        bn.num_batches_tracked.fill_(7)


def export(name, model, example):
    model.eval()
    path = os.path.join(OUT, name + '.onnx')
    torch.onnx.export(
        model,
        example,
        path,
        opset_version=13,
        do_constant_folding=False,
        training=torch.onnx.TrainingMode.PRESERVE,
        input_names=['input'],
        output_names=['output'],
        dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}},
    )
    with torch.no_grad():
        output = model(example)
    state = []
    for key, value in model.state_dict().items():
        total, weighted = checksums(value)
        state.append({
            'name': key,
            'dtype': str(value.dtype).replace('torch.', ''),
            'shape': list(value.shape),
            'sum': total,
            'weighted_sum': weighted,
            'first': value.detach().reshape(-1)[:4].to(torch.float64).tolist(),
        })
    ref = {
        'torch_version': torch.__version__,
        'opset': 13,
        'state_dict': state,
        'input': {'shape': list(example.shape), 'data': example.reshape(-1).tolist()},
        'output': {'shape': list(output.shape), 'data': output.reshape(-1).tolist()},
    }
    with open(os.path.join(OUT, name + '.json'), 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')
    print(f'{path}: {os.path.getsize(path)} bytes')


# Values exactly representable in each dtype, so the expected numbers need no rounding rule.
TYPED_VALUES = {
    'float32': (TensorProto.FLOAT, [2, 3], [0.1, -2.5, 3.0e38, 1.0e-40, -0.0, 7.0]),
    'float64': (TensorProto.DOUBLE, [3], [0.1, -1.0e300, 5.0e-324]),
    'int64': (TensorProto.INT64, [2, 2], [-(2 ** 62) - 5, 2 ** 53 + 1, -1, 0]),
    'int32': (TensorProto.INT32, [4], [-(2 ** 31), 2 ** 31 - 1, -7, 0]),
    'uint8': (TensorProto.UINT8, [3], [0, 255, 17]),
    'bool': (TensorProto.BOOL, [2, 2], [True, False, False, True]),
    'float16': (TensorProto.FLOAT16, [5], [0.5, -1.25, 65504.0, 2.0 ** -24, -0.0]),
    'bfloat16': (TensorProto.BFLOAT16, [4], [1.5, -2.0, 0.15625, 3.0 * 2.0 ** 100]),
}


def export_typed_fields():
    inits = []
    expected = {}
    for name, (code, dims, values) in TYPED_VALUES.items():
        tensor = helper.make_tensor('t_' + name, code, dims, values, raw=False)
        assert not tensor.HasField('raw_data')
        inits.append(tensor)
        if name == 'bfloat16':
            # the helper rounds float32 -> bfloat16; these values are exact, check it kept them
            decoded = (np.array(tensor.int32_data, dtype=np.uint32) << 16).view(np.float32)
            assert decoded.tolist() == values
        if name == 'float16':
            bits = np.array(values, dtype=np.float16).view(np.uint16).tolist()
            assert list(tensor.int32_data) == bits
        expected['t_' + name] = {
            'dtype': name,
            'shape': dims,
            # int64 beyond 2^53 as strings so JSON keeps them exact
            'values': [str(v) for v in values] if name == 'int64' else [float(v) for v in values],
            'field': {
                'float32': 'float_data', 'float64': 'double_data', 'int64': 'int64_data',
            }.get(name, 'int32_data'),
        }
    const_tensor = helper.make_tensor('', TensorProto.INT64, [3], [1, -1, 2 ** 40], raw=False)
    subgraph = helper.make_graph(
        [helper.make_node('Identity', ['x'], ['y'])], 'body',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1])],
    )
    node = helper.make_node(
        'AllAttributes', ['input', 't_float32'], ['output'], name='all_attrs', domain='test.domain',
        f=0.25, i=-(2 ** 52), s='héllo', t=const_tensor, g=subgraph,
        fs=[1.5, -0.125], is_=[3, -4, 2 ** 50], ss=['a', 'ß'],
    )
    # make_node turns keyword arguments into attributes; 'is' is a keyword in Python
    for a in node.attribute:
        if a.name == 'is_':
            a.name = 'is'
    constant = helper.make_node('Constant', [], ['c_out'], name='const', value=const_tensor)
    graph = helper.make_graph(
        [constant, node], 'typed_fields',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['batch', 3, None])],
        [helper.make_tensor_value_info('output', TensorProto.FLOAT16, [2, 'n'])],
        inits,
        value_info=[helper.make_tensor_value_info('c_out', TensorProto.INT64, None)],
    )
    model = helper.make_model(
        graph, producer_name='make_onnx_fixtures.py',
        opset_imports=[helper.make_opsetid('', 13), helper.make_opsetid('test.domain', 1)],
    )
    helper.set_model_props(model, {'author': 'neural-lineage tests', 'purpose': 'typed fields'})
    path = os.path.join(OUT, 'typed_fields.onnx')
    onnx.save(model, path)
    ref = {
        'ir_version': model.ir_version,
        'initializers': expected,
        'attributes': {
            'f': 0.25, 'i': -(2 ** 52), 's': 'héllo', 'fs': [1.5, -0.125], 'is': [3, -4, 2 ** 50],
            'ss': ['a', 'ß'], 't': ['1', '-1', str(2 ** 40)],
        },
        'input_shape': ['batch', 3, None],
        'output_shape': [2, 'n'],
        'metadata': {'author': 'neural-lineage tests', 'purpose': 'typed fields'},
    }
    with open(os.path.join(OUT, 'typed_fields.json'), 'w') as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
        f.write('\n')
    print(f'{path}: {os.path.getsize(path)} bytes')


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20240617)
    export('tiny_mlp', TinyMlp(), torch.randn(2, 8))
    conv = TinyConvBn()
    randomize(conv.bn1)
    export('tiny_conv_bn', conv, torch.randn(2, 3, 6, 6))
    export_typed_fields()


if __name__ == '__main__':
    main()
