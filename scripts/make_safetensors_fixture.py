#!/usr/bin/python3
"""Writes fixtures/formats/tiny.safetensors and tiny.expected.json for test/formats/safetensors.test.ts.

The file is built by hand with struct + json (the safetensors package is not installed), so the test
checks our reader against bytes laid out independently of our writer. It deliberately exercises:
JSON key order different from data order, a uint8 tensor that leaves the next float32 misaligned,
a 0-d scalar, a zero-size tensor, non-ASCII metadata and int64 values beyond 2**53.

Run: /usr/bin/python3 scripts/make_safetensors_fixture.py
"""
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'formats')


def f32(v):
    return struct.unpack('<f', struct.pack('<f', v))[0]


def bf16_bits(v):
    # bfloat16 by truncation of the float32 pattern; the expected value is decoded from those bits.
    return struct.unpack('<I', struct.pack('<f', v))[0] >> 16


def bf16_value(bits):
    return struct.unpack('<f', struct.pack('<I', bits << 16))[0]


def half_value(v):
    return struct.unpack('<e', struct.pack('<e', v))[0]


bf_bits = [bf16_bits(v) for v in (1.0, -0.5, 3.140625, 1e10)]
halves = [1.0, -2.5, 65504.0, 2.0 ** -24, -0.0]
floats = [0.1, -0.0, 1e-45, 3.4e38, -7.25, 2.0 / 3.0]

# (name, safetensors dtype, our dtype, shape, raw bytes, expected values), in DATA order.
TENSORS = [
    ('pixels', 'U8', 'uint8', [3], bytes([0, 128, 255]), [0, 128, 255]),
    ('conv.weight', 'F32', 'float32', [2, 3], struct.pack('<6f', *floats), [f32(v) for v in floats]),
    ('empty', 'F32', 'float32', [0, 3], b'', []),
    ('scale', 'F64', 'float64', [], struct.pack('<d', 3.141592653589793), [3.141592653589793]),
    ('half', 'F16', 'float16', [5], struct.pack('<5e', *halves), [half_value(v) for v in halves]),
    ('bhalf', 'BF16', 'bfloat16', [2, 2], struct.pack('<4H', *bf_bits), [bf16_value(b) for b in bf_bits]),
    ('ids', 'I64', 'int64', [3], struct.pack('<3q', 2 ** 62 + 1, -(2 ** 63), 7), [str(2 ** 62 + 1), str(-(2 ** 63)), '7']),
    ('count', 'I32', 'int32', [2], struct.pack('<2i', -2 ** 31, 2 ** 31 - 1), [-2 ** 31, 2 ** 31 - 1]),
    ('mask', 'BOOL', 'bool', [3], bytes([1, 0, 1]), [1, 0, 1]),
]
METADATA = {'format': 'pt', 'note': 'h\u00e9llo \u2713'}


def main():
    header = {}
    offset = 0
    entries = {}
    for name, st_dtype, _, shape, raw, _ in TENSORS:
        entries[name] = {'dtype': st_dtype, 'shape': shape, 'data_offsets': [offset, offset + len(raw)]}
        offset += len(raw)
    # Key order: reverse alphabetical with __metadata__ last, so it differs from the data order.
    for name in sorted(entries, reverse=True):
        header[name] = entries[name]
    header['__metadata__'] = METADATA
    text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    data = b''.join(t[4] for t in TENSORS)
    os.makedirs(ROOT, exist_ok=True)
    with open(os.path.join(ROOT, 'tiny.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + data)
    expected = {
        'metadata': METADATA,
        'tensors': [{'name': n, 'dtype': d, 'shape': s, 'values': v} for n, _, d, s, _, v in TENSORS],
    }
    with open(os.path.join(ROOT, 'tiny.expected.json'), 'w', encoding='utf-8') as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write('\n')


if __name__ == '__main__':
    main()
