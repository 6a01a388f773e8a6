"""GGUF fixtures for test/formats/gguf.test.ts, written by hand from the GGUF spec.

Run with Debian's Python: /usr/bin/python3 scripts/make_gguf_fixtures.py
Outputs fixtures/gguf/:
  <type>.gguf              one file per ggml type, two tensors each:
                           "weight" (blocks made by the quantisers below from smooth values) and
                           "random_blocks" (random bytes with finite scales, so every bit of every
                           field is exercised), or for float types "weight" and "specials";
  <type>.<tensor>.npy      the expected float32 values, in numpy order;
  metadata.gguf            every metadata value type, arrays included, and a 4-d tensor;
  metadata.expected.json   those metadata values as JSON (64-bit integers as decimal strings);
  manifest.json            per file: version, alignment, and per tensor its ggml type and shape.

Nothing here comes from the TypeScript under test or from llama.cpp code: the writer follows the
spec, the quantisers are simple ones of our own (any valid block is fine), and the dequantisers
are a second, independent reading of the block layouts in ggml-common.h. They compute in float32
with one rounding per operation in the order of ggml-quants.c `dequantize_row_*`, so the values
are the reference's bit for bit. (Every product that feeds an add or subtract there, an f16 scale
times a quant or 6-bit sub-scale, is exact in float32, so a compiler that fuses multiply-adds
gets the same values.)
"""
import json
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "gguf")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20240615)

F32 = np.float32
QK = 32
QK_K = 256

# name -> (ggml type id, elements per block, bytes per block)
GGML_TYPES = {
    "F32": (0, 1, 4),
    "F16": (1, 1, 2),
    "Q4_0": (2, QK, 18),
    "Q4_1": (3, QK, 20),
    "Q5_0": (6, QK, 22),
    "Q5_1": (7, QK, 24),
    "Q8_0": (8, QK, 34),
    "Q2_K": (10, QK_K, 84),
    "Q3_K": (11, QK_K, 110),
    "Q4_K": (12, QK_K, 144),
    "Q5_K": (13, QK_K, 176),
    "Q6_K": (14, QK_K, 210),
    "Q8_K": (15, QK_K, 292),
    "BF16": (30, 1, 2),
}

# ---------------------------------------------------------------------------------------------
# GGUF writer (spec: ggml docs/gguf.md)

VALUE_TYPE_IDS = {
    "uint8": 0, "int8": 1, "uint16": 2, "int16": 3, "uint32": 4, "int32": 5, "float32": 6,
    "bool": 7, "string": 8, "array": 9, "uint64": 10, "int64": 11, "float64": 12,
}
STRUCT_CODES = {
    "uint8": "<B", "int8": "<b", "uint16": "<H", "int16": "<h", "uint32": "<I", "int32": "<i",
    "float32": "<f", "bool": "<?", "uint64": "<Q", "int64": "<q", "float64": "<d",
}


def gguf_string(text):
    raw = text.encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw


def scalar_bytes(vtype, value):
    if vtype == "string":
        return gguf_string(value)
    return struct.pack(STRUCT_CODES[vtype], value)


def value_bytes(vtype, value, item_type=None):
    if vtype != "array":
        return scalar_bytes(vtype, value)
    out = struct.pack("<IQ", VALUE_TYPE_IDS[item_type], len(value))
    return out + b"".join(scalar_bytes(item_type, v) for v in value)


def pad_to(n, alignment):
    return (alignment - n % alignment) % alignment


def write_gguf(path, metadata, tensors, version=3, alignment=32):
    """metadata: [(key, vtype, value, item_type)]; tensors: [(name, ggml type, ne, bytes)]."""
    out = bytearray(b"GGUF")
    out += struct.pack("<IQQ", version, len(tensors), len(metadata))
    for key, vtype, value, item_type in metadata:
        out += gguf_string(key) + struct.pack("<I", VALUE_TYPE_IDS[vtype]) + value_bytes(vtype, value, item_type)
    offset = 0
    for name, type_name, ne, data in tensors:
        out += gguf_string(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        out += struct.pack("<IQ", GGML_TYPES[type_name][0], offset)
        offset += len(data) + pad_to(len(data), alignment)
    out += b"\0" * pad_to(len(out), alignment)
    for _, _, _, data in tensors:
        out += data + b"\0" * pad_to(len(data), alignment)
    with open(path, "wb") as f:
        f.write(out)


# ---------------------------------------------------------------------------------------------
# Small helpers


def f16_bits(values):
    return np.asarray(values, dtype=np.float32).astype(np.float16).view(np.uint16)


def f16_to_f32(bits):
    return np.asarray(bits, dtype=np.uint16).view(np.float16).astype(np.float32)


def u16_le(raw, offset):
    """Column of little-endian u16 at byte `offset` of each block row."""
    return raw[:, offset].astype(np.uint16) | (raw[:, offset + 1].astype(np.uint16) << 8)


def mul(a, b):
    """float32 product with one rounding (both operands as float32)."""
    return np.multiply(np.asarray(a, dtype=F32), np.asarray(b, dtype=F32), dtype=F32)


def add(a, b):
    return np.add(np.asarray(a, dtype=F32), np.asarray(b, dtype=F32), dtype=F32)


def sub(a, b):
    return np.subtract(np.asarray(a, dtype=F32), np.asarray(b, dtype=F32), dtype=F32)


def safe_inverse(x):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x != 0, 1.0 / np.where(x != 0, x, 1.0), 0.0)


def smooth_values(n):
    """Weights-like values: a mix of waves and noise, with some blocks all-positive."""
    i = np.arange(n, dtype=np.float64)
    x = 0.6 * np.sin(i * 0.37) + 0.25 * np.cos(i * 0.051) + 0.15 * rng.standard_normal(n)
    x[: n // 8] = np.abs(x[: n // 8]) + 0.05
    return x.astype(np.float32)


def random_scale_bits(count):
    """Finite f16 scales of either sign, some subnormal, so products stay finite."""
    bits = f16_bits(rng.standard_normal(count) * 0.03)
    bits[:: 7] = rng.integers(1, 0x3FF, size=bits[:: 7].shape)  # positive subnormals
    return bits


def put_u16(raw, offset, bits):
    raw[:, offset] = (bits & 0xFF).astype(np.uint8)
    raw[:, offset + 1] = (bits >> 8).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Legacy 32-element blocks: quantisers (blocks) and dequantisers (expected values)


def q4_0_quantize(x):
    x = x.reshape(-1, QK).astype(np.float64)
    idx = np.argmax(np.abs(x), axis=1)
    d = x[np.arange(len(x)), idx] / -8.0
    q = np.clip(np.floor(x * safe_inverse(d)[:, None] + 8.5), 0, 15).astype(np.uint8)
    raw = np.zeros((len(x), 18), dtype=np.uint8)
    put_u16(raw, 0, f16_bits(d))
    raw[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return raw


def q4_0_dequantize(raw):
    d = f16_to_f32(u16_le(raw, 0))[:, None]
    qs = raw[:, 2:18]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int32) - 8
    return mul(q, d)


def q4_1_quantize(x):
    x = x.reshape(-1, QK).astype(np.float64)
    lo, hi = x.min(axis=1), x.max(axis=1)
    d = (hi - lo) / 15.0
    q = np.clip(np.round((x - lo[:, None]) * safe_inverse(d)[:, None]), 0, 15).astype(np.uint8)
    raw = np.zeros((len(x), 20), dtype=np.uint8)
    put_u16(raw, 0, f16_bits(d))
    put_u16(raw, 2, f16_bits(lo))
    raw[:, 4:] = q[:, :16] | (q[:, 16:] << 4)
    return raw


def q4_1_dequantize(raw):
    d = f16_to_f32(u16_le(raw, 0))[:, None]
    m = f16_to_f32(u16_le(raw, 2))[:, None]
    qs = raw[:, 4:20]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1)
    return add(mul(q, d), m)


def pack_q5(q):
    """Low nibbles in 16 bytes (element j and j+16 share byte j); fifth bits in a u32, bit e for element e."""
    qs = (q[:, :16] & 0x0F) | ((q[:, 16:] & 0x0F) << 4)
    high = ((q >> 4) & 1).astype(np.uint64)
    qh = (high << np.arange(QK, dtype=np.uint64)).sum(axis=1).astype(np.uint32)
    return qs.astype(np.uint8), qh.view(np.uint8).reshape(-1, 4)


def unpack_q5(qs, qh4):
    qh = qh4.copy().view("<u4").reshape(-1, 1).astype(np.uint64)
    high = ((qh >> np.arange(QK, dtype=np.uint64)) & 1).astype(np.int32)
    low = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int32)
    return low | (high << 4)


def q5_0_quantize(x):
    x = x.reshape(-1, QK).astype(np.float64)
    idx = np.argmax(np.abs(x), axis=1)
    d = x[np.arange(len(x)), idx] / -16.0
    q = np.clip(np.round(x * safe_inverse(d)[:, None]) + 16, 0, 31).astype(np.uint8)
    raw = np.zeros((len(x), 22), dtype=np.uint8)
    put_u16(raw, 0, f16_bits(d))
    qs, qh = pack_q5(q)
    raw[:, 2:6] = qh
    raw[:, 6:] = qs
    return raw


def q5_0_dequantize(raw):
    d = f16_to_f32(u16_le(raw, 0))[:, None]
    q = unpack_q5(raw[:, 6:22], raw[:, 2:6]) - 16
    return mul(q, d)


def q5_1_quantize(x):
    x = x.reshape(-1, QK).astype(np.float64)
    lo, hi = x.min(axis=1), x.max(axis=1)
    d = (hi - lo) / 31.0
    q = np.clip(np.round((x - lo[:, None]) * safe_inverse(d)[:, None]), 0, 31).astype(np.uint8)
    raw = np.zeros((len(x), 24), dtype=np.uint8)
    put_u16(raw, 0, f16_bits(d))
    put_u16(raw, 2, f16_bits(lo))
    qs, qh = pack_q5(q)
    raw[:, 4:8] = qh
    raw[:, 8:] = qs
    return raw


def q5_1_dequantize(raw):
    d = f16_to_f32(u16_le(raw, 0))[:, None]
    m = f16_to_f32(u16_le(raw, 2))[:, None]
    q = unpack_q5(raw[:, 8:24], raw[:, 4:8])
    return add(mul(q, d), m)


def q8_0_quantize(x):
    x = x.reshape(-1, QK).astype(np.float64)
    d = np.abs(x).max(axis=1) / 127.0
    q = np.clip(np.round(x * safe_inverse(d)[:, None]), -127, 127).astype(np.int8)
    raw = np.zeros((len(x), 34), dtype=np.uint8)
    put_u16(raw, 0, f16_bits(d))
    raw[:, 2:] = q.view(np.uint8)
    return raw


def q8_0_dequantize(raw):
    d = f16_to_f32(u16_le(raw, 0))[:, None]
    return mul(raw[:, 2:34].view(np.int8), d)


# ---------------------------------------------------------------------------------------------
# k-quants, 256-element super-blocks


def pack_2bit(q):
    """2-bit values of a super-block: element 128h + 32g + l lives in byte 32h + l at bit 2g."""
    q = q.reshape(len(q), 2, 4, 32).astype(np.uint8)
    packed = q[:, :, 0] | (q[:, :, 1] << 2) | (q[:, :, 2] << 4) | (q[:, :, 3] << 6)
    return packed.reshape(len(q), 64)


def unpack_2bit(qs):
    qs = qs.reshape(len(qs), 2, 1, 32)
    shifts = np.array([0, 2, 4, 6], dtype=np.uint8).reshape(1, 1, 4, 1)
    return ((qs >> shifts) & 3).reshape(len(qs), QK_K).astype(np.int32)


def q2_k_quantize(x):
    x = x.reshape(-1, 16, 16).astype(np.float64)
    lo = np.minimum(x.min(axis=2), 0)
    scale = (x.max(axis=2) - lo) / 3.0
    d = scale.max(axis=1) / 15.0
    dmin = (-lo).max(axis=1) / 15.0
    sc = np.clip(np.round(scale * safe_inverse(d)[:, None]), 0, 15)
    mn = np.clip(np.round(-lo * safe_inverse(dmin)[:, None]), 0, 15)
    d16, dmin16 = f16_bits(d), f16_bits(dmin)
    step = f16_to_f32(d16).astype(np.float64)[:, None] * sc
    offset = f16_to_f32(dmin16).astype(np.float64)[:, None] * mn
    q = np.clip(np.round((x + offset[:, :, None]) * safe_inverse(step)[:, :, None]), 0, 3)
    raw = np.zeros((len(x), 84), dtype=np.uint8)
    raw[:, :16] = sc.astype(np.uint8) | (mn.astype(np.uint8) << 4)
    raw[:, 16:80] = pack_2bit(q.reshape(len(x), QK_K))
    put_u16(raw, 80, d16)
    put_u16(raw, 82, dmin16)
    return raw


def q2_k_dequantize(raw):
    d = f16_to_f32(u16_le(raw, 80))[:, None]
    dmin = f16_to_f32(u16_le(raw, 82))[:, None]
    sc = raw[:, :16]
    dl = mul(d, sc & 0x0F)
    ml = mul(dmin, sc >> 4)
    q = unpack_2bit(raw[:, 16:80])
    sub_block = np.arange(QK_K) // 16
    return sub(mul(dl[:, sub_block], q), ml[:, sub_block])


def q3_k_pack_scales(sc6):
    """16 six-bit scales: low nibble of byte j (j < 8) or high nibble of byte j - 8; top two bits in byte 8 + j % 4 at bit 2 * (j // 4)."""
    out = np.zeros((len(sc6), 12), dtype=np.uint8)
    for j in range(16):
        low = sc6[:, j] & 0x0F
        if j < 8:
            out[:, j] |= low
        else:
            out[:, j - 8] |= low << 4
        out[:, 8 + j % 4] |= (sc6[:, j] >> 4) << (2 * (j // 4))
    return out


def q3_k_unpack_scales(packed):
    out = np.zeros((len(packed), 16), dtype=np.int32)
    for j in range(16):
        low = (packed[:, j] & 0x0F) if j < 8 else (packed[:, j - 8] >> 4)
        high = (packed[:, 8 + j % 4] >> (2 * (j // 4))) & 3
        out[:, j] = (low | (high << 4)).astype(np.int32) - 32
    return out


def q3_k_quantize(x):
    x = x.reshape(-1, 16, 16).astype(np.float64)
    idx = np.argmax(np.abs(x), axis=2)
    peak = np.take_along_axis(x, idx[:, :, None], axis=2)[:, :, 0]
    scale = peak / -4.0  # the peak maps to +-4 with the sign that reaches -4
    smax = np.abs(scale).max(axis=1)
    d = smax / 31.0
    sc = np.clip(np.round(scale * safe_inverse(d)[:, None]), -32, 31).astype(np.int32)
    d16 = f16_bits(d)
    step = f16_to_f32(d16).astype(np.float64)[:, None] * sc
    q = np.clip(np.round(x * safe_inverse(step)[:, :, None]), -4, 3).astype(np.int32).reshape(len(x), QK_K) + 4
    raw = np.zeros((len(x), 110), dtype=np.uint8)
    high = (q >> 2) & 1  # element e keeps its high bit in hmask[e % 32] at bit e // 32
    raw[:, :32] = (high.reshape(len(x), 8, 32) << np.arange(8, dtype=np.int32)[None, :, None]).sum(axis=1).astype(np.uint8)
    raw[:, 32:96] = pack_2bit(q & 3)
    raw[:, 96:108] = q3_k_pack_scales((sc + 32).astype(np.uint8))
    put_u16(raw, 108, d16)
    return raw


def q3_k_dequantize(raw):
    d = f16_to_f32(u16_le(raw, 108))[:, None]
    scales = q3_k_unpack_scales(raw[:, 96:108])
    low = unpack_2bit(raw[:, 32:96])
    e = np.arange(QK_K)
    high = (raw[:, e % 32] >> (e // 32)) & 1
    value = low + 4 * high.astype(np.int32) - 4  # the reference's "low - (high ? 0 : 4)"
    dl = mul(d, scales)
    return mul(dl[:, e // 16], value)


def k4_pack_scales(ls, lm):
    """Eight 6-bit scales and mins in 12 bytes (Q4_K / Q5_K)."""
    out = np.zeros((len(ls), 12), dtype=np.uint8)
    for j in range(8):
        if j < 4:
            out[:, j] = ls[:, j]
            out[:, j + 4] = lm[:, j]
        else:
            out[:, j + 4] = (ls[:, j] & 0x0F) | ((lm[:, j] & 0x0F) << 4)
            out[:, j - 4] |= (ls[:, j] >> 4) << 6
            out[:, j] |= (lm[:, j] >> 4) << 6
    return out


def k4_unpack_scales(packed):
    ls = np.zeros((len(packed), 8), dtype=np.int32)
    lm = np.zeros((len(packed), 8), dtype=np.int32)
    for j in range(8):
        if j < 4:
            ls[:, j] = packed[:, j] & 63
            lm[:, j] = packed[:, j + 4] & 63
        else:
            ls[:, j] = (packed[:, j + 4] & 0x0F) | ((packed[:, j - 4] >> 6) << 4)
            lm[:, j] = (packed[:, j + 4] >> 4) | ((packed[:, j] >> 6) << 4)
    return ls, lm


def k4_fit(x, levels):
    """Per 32-element sub-block scale and min fitted to [min, max], quantised to 6 bits."""
    x = x.reshape(-1, 8, 32).astype(np.float64)
    lo = np.minimum(x.min(axis=2), 0)
    scale = (x.max(axis=2) - lo) / levels
    d = scale.max(axis=1) / 63.0
    dmin = (-lo).max(axis=1) / 63.0
    ls = np.clip(np.round(scale * safe_inverse(d)[:, None]), 0, 63).astype(np.uint8)
    lm = np.clip(np.round(-lo * safe_inverse(dmin)[:, None]), 0, 63).astype(np.uint8)
    d16, dmin16 = f16_bits(d), f16_bits(dmin)
    step = f16_to_f32(d16).astype(np.float64)[:, None] * ls
    offset = f16_to_f32(dmin16).astype(np.float64)[:, None] * lm
    q = np.clip(np.round((x + offset[:, :, None]) * safe_inverse(step)[:, :, None]), 0, levels)
    return d16, dmin16, ls, lm, q.astype(np.uint8).reshape(len(x), QK_K)


def pack_nibbles_k(q):
    """Element 64c + l in the low nibble of byte 32c + l, element 64c + 32 + l in its high nibble."""
    q = q.reshape(len(q), 4, 2, 32)
    return ((q[:, :, 0] & 0x0F) | ((q[:, :, 1] & 0x0F) << 4)).reshape(len(q), 128).astype(np.uint8)


def unpack_nibbles_k(qs):
    qs = qs.reshape(len(qs), 4, 1, 32)
    return np.concatenate([qs & 0x0F, qs >> 4], axis=2).reshape(len(qs), QK_K).astype(np.int32)


def k4_dequantize(d, dmin, packed, q):
    ls, lm = k4_unpack_scales(packed)
    d1 = mul(d, ls)
    m1 = mul(dmin, lm)
    sub_block = np.arange(QK_K) // 32
    return sub(mul(d1[:, sub_block], q), m1[:, sub_block])


def q4_k_quantize(x):
    d16, dmin16, ls, lm, q = k4_fit(x, 15)
    raw = np.zeros((len(q), 144), dtype=np.uint8)
    put_u16(raw, 0, d16)
    put_u16(raw, 2, dmin16)
    raw[:, 4:16] = k4_pack_scales(ls, lm)
    raw[:, 16:] = pack_nibbles_k(q)
    return raw


def q4_k_dequantize(raw):
    d = f16_to_f32(u16_le(raw, 0))[:, None]
    dmin = f16_to_f32(u16_le(raw, 2))[:, None]
    return k4_dequantize(d, dmin, raw[:, 4:16], unpack_nibbles_k(raw[:, 16:144]))


def q5_k_quantize(x):
    d16, dmin16, ls, lm, q = k4_fit(x, 31)
    raw = np.zeros((len(q), 176), dtype=np.uint8)
    put_u16(raw, 0, d16)
    put_u16(raw, 2, dmin16)
    raw[:, 4:16] = k4_pack_scales(ls, lm)
    # Fifth bit of element 32k + l (k = 0..7) in qh[l] at bit k.
    high = ((q >> 4) & 1).reshape(len(q), 8, 32).astype(np.int32)
    raw[:, 16:48] = (high << np.arange(8, dtype=np.int32)[None, :, None]).sum(axis=1).astype(np.uint8)
    raw[:, 48:] = pack_nibbles_k(q)
    return raw


def q5_k_dequantize(raw):
    d = f16_to_f32(u16_le(raw, 0))[:, None]
    dmin = f16_to_f32(u16_le(raw, 2))[:, None]
    e = np.arange(QK_K)
    high = ((raw[:, 16 + e % 32] >> (e // 32)) & 1).astype(np.int32)
    q = unpack_nibbles_k(raw[:, 48:176]) + 16 * high
    return k4_dequantize(d, dmin, raw[:, 4:16], q)


def q6_k_layout():
    """For element 128h + 32k + l: its ql byte, ql shift, qh byte and qh shift."""
    e = np.arange(QK_K)
    h, k, l = e // 128, (e % 128) // 32, e % 32
    ql_byte = 64 * h + l + 32 * (k % 2)
    ql_shift = 4 * (k // 2)
    qh_byte = 32 * h + l
    qh_shift = 2 * k
    return ql_byte, ql_shift, qh_byte, qh_shift


def q6_k_quantize(x):
    x = x.reshape(-1, 16, 16).astype(np.float64)
    idx = np.argmax(np.abs(x), axis=2)
    peak = np.take_along_axis(x, idx[:, :, None], axis=2)[:, :, 0]
    scale = peak / -32.0
    d = np.abs(scale).max(axis=1) / 127.0
    sc = np.clip(np.round(scale * safe_inverse(d)[:, None]), -128, 127).astype(np.int8)
    d16 = f16_bits(d)
    step = f16_to_f32(d16).astype(np.float64)[:, None] * sc
    q = (np.clip(np.round(x * safe_inverse(step)[:, :, None]), -32, 31) + 32).astype(np.uint8).reshape(len(x), QK_K)
    raw = np.zeros((len(x), 210), dtype=np.uint8)
    ql_byte, ql_shift, qh_byte, qh_shift = q6_k_layout()
    for e in range(QK_K):
        raw[:, ql_byte[e]] |= (q[:, e] & 0x0F) << ql_shift[e]
        raw[:, 128 + qh_byte[e]] |= (q[:, e] >> 4) << qh_shift[e]
    raw[:, 192:208] = sc.view(np.uint8)
    put_u16(raw, 208, d16)
    return raw


def q6_k_dequantize(raw):
    d = f16_to_f32(u16_le(raw, 208))[:, None]
    sc = raw[:, 192:208].view(np.int8)
    ql_byte, ql_shift, qh_byte, qh_shift = q6_k_layout()
    low = (raw[:, ql_byte] >> ql_shift) & 0x0F
    high = (raw[:, 128 + qh_byte] >> qh_shift) & 3
    q = (low | (high << 4)).astype(np.int32) - 32
    e = np.arange(QK_K)
    return mul(mul(d, sc)[:, e // 16], q)


def q8_k_quantize(x):
    x = x.reshape(-1, QK_K).astype(np.float64)
    d = (np.abs(x).max(axis=1) / 127.0).astype(np.float32)
    q = np.clip(np.round(x * safe_inverse(d)[:, None]), -127, 127).astype(np.int8)
    raw = np.zeros((len(x), 292), dtype=np.uint8)
    raw[:, :4] = d.view(np.uint8).reshape(-1, 4)
    raw[:, 4:260] = q.view(np.uint8)
    raw[:, 260:] = q.reshape(len(x), 16, 16).astype(np.int16).sum(axis=2).astype("<i2").view(np.uint8).reshape(len(x), 32)
    return raw


def q8_k_dequantize(raw):
    d = raw[:, :4].copy().view("<f4")
    return mul(d, raw[:, 4:260].view(np.int8))


QUANTS = {
    "Q4_0": (q4_0_quantize, q4_0_dequantize, [0]),
    "Q4_1": (q4_1_quantize, q4_1_dequantize, [0, 2]),
    "Q5_0": (q5_0_quantize, q5_0_dequantize, [0]),
    "Q5_1": (q5_1_quantize, q5_1_dequantize, [0, 2]),
    "Q8_0": (q8_0_quantize, q8_0_dequantize, [0]),
    "Q2_K": (q2_k_quantize, q2_k_dequantize, [80, 82]),
    "Q3_K": (q3_k_quantize, q3_k_dequantize, [108]),
    "Q4_K": (q4_k_quantize, q4_k_dequantize, [0, 2]),
    "Q5_K": (q5_k_quantize, q5_k_dequantize, [0, 2]),
    "Q6_K": (q6_k_quantize, q6_k_dequantize, [208]),
    "Q8_K": (q8_k_quantize, q8_k_dequantize, []),
}


def random_blocks(type_name, count):
    """Random bytes for every field, then finite scales (f16 fields, or Q8_K's f32 d)."""
    _, _, type_size = GGML_TYPES[type_name]
    raw = rng.integers(0, 256, size=(count, type_size), dtype=np.uint8)
    for offset in QUANTS[type_name][2]:
        put_u16(raw, offset, random_scale_bits(count))
    if type_name == "Q8_K":
        raw[:, :4] = (rng.standard_normal(count) * 0.01).astype("<f4").view(np.uint8).reshape(-1, 4)
    return raw


# ---------------------------------------------------------------------------------------------
# Files

manifest = {}


def emit(stem, tensors, metadata, version=3, alignment=None):
    """tensors: [(name, ggml type, numpy shape, raw bytes, expected float32 array)]."""
    meta = list(metadata)
    if alignment is not None:
        meta.append(("general.alignment", "uint32", alignment, None))
    entries = []
    for name, type_name, shape, raw, expected in tensors:
        expected = np.ascontiguousarray(expected, dtype=np.float32).reshape(shape)
        _, block, type_size = GGML_TYPES[type_name]
        ne = list(reversed(shape))
        assert ne[0] % block == 0 and len(raw) == int(np.prod(shape)) // block * type_size
        np.save(os.path.join(OUT, f"{stem}.{name}.npy"), expected)
        entries.append((name, type_name, ne, bytes(raw)))
    write_gguf(os.path.join(OUT, f"{stem}.gguf"), meta, entries, version, alignment or 32)
    manifest[stem] = {
        "version": version,
        "alignment": alignment or 32,
        "tensors": [{"name": n, "dtype": t, "shape": list(s)} for n, t, s, _, _ in tensors],
    }


def basic_metadata(type_name):
    return [
        ("general.architecture", "string", "lineage-fixture", None),
        ("general.name", "string", f"{type_name} fixture", None),
        ("general.quantization_version", "uint32", 2, None),
    ]


# Largest |dequantised - original| we accept for the smooth weights (values within about +-1.3).
ROUND_TRIP_ERROR = {
    "Q4_0": 0.15, "Q4_1": 0.1, "Q5_0": 0.06, "Q5_1": 0.06, "Q8_0": 0.01,
    "Q2_K": 0.45, "Q3_K": 0.3, "Q4_K": 0.12, "Q5_K": 0.06, "Q6_K": 0.05, "Q8_K": 0.01,
}

for type_name, (quantize, dequantize, _) in QUANTS.items():
    block = GGML_TYPES[type_name][1]
    if block == QK:
        weight_shape, random_shape = (3, 64), (2, 2, 32)
    else:
        weight_shape, random_shape = (3, QK_K), (2, QK_K)
    original = smooth_values(int(np.prod(weight_shape)))
    weight_raw = quantize(original)
    # Quantiser and dequantiser read the layout independently; a mismatch would show as a big error.
    error = np.abs(dequantize(weight_raw).reshape(-1) - original).max()
    assert error < ROUND_TRIP_ERROR[type_name], (type_name, error)
    rand_raw = random_blocks(type_name, int(np.prod(random_shape)) // block)
    alignment = {"Q8_0": 64, "Q6_K": 8}.get(type_name)
    version = 2 if type_name in ("Q4_0", "Q3_K") else 3
    emit(
        type_name.lower(),
        [
            ("weight", type_name, weight_shape, weight_raw.tobytes(), dequantize(weight_raw)),
            ("random_blocks", type_name, random_shape, rand_raw.tobytes(), dequantize(rand_raw)),
        ],
        basic_metadata(type_name),
        version,
        alignment,
    )

# Float types: a plain tensor and one of special values (signed zero, infinities, subnormals, NaN).
weight = (rng.standard_normal((3, 5)) * 0.5).astype(np.float32)
f32_specials = np.array([0.0, -0.0, np.inf, -np.inf, 1e-45, -3.4028235e38, 1.0000001, np.nan], dtype=np.float32)
emit("f32", [
    ("weight", "F32", (3, 5), weight.tobytes(), weight),
    ("specials", "F32", (8,), f32_specials.tobytes(), f32_specials),
], basic_metadata("F32"))

f16_weight = f16_bits(weight)
f16_special_bits = np.array([0x0000, 0x8000, 0x7C00, 0xFC00, 0x0001, 0x83FF, 0x7BFF, 0x7E00], dtype=np.uint16)
emit("f16", [
    ("weight", "F16", (3, 5), f16_weight.astype("<u2").tobytes(), f16_to_f32(f16_weight)),
    ("specials", "F16", (8,), f16_special_bits.astype("<u2").tobytes(), f16_to_f32(f16_special_bits)),
], basic_metadata("F16"), alignment=16)

bf16_weight = (weight.view(np.uint32) >> 16).astype(np.uint16)
bf16_special_bits = np.array([0x0000, 0x8000, 0x7F80, 0xFF80, 0x0001, 0x807F, 0x7F7F, 0x7FC0], dtype=np.uint16)


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


emit("bf16", [
    ("weight", "BF16", (3, 5), bf16_weight.astype("<u2").tobytes(), bf16_to_f32(bf16_weight)),
    ("specials", "BF16", (8,), bf16_special_bits.astype("<u2").tobytes(), bf16_to_f32(bf16_special_bits)),
], basic_metadata("BF16"))

# Metadata of every value type, and a 4-d tensor whose numpy shape is ggml's ne reversed.
METADATA = [
    ("general.architecture", "string", "lineage-fixture", None),
    ("general.name", "string", "métadonnées ✓ 模型", None),
    ("test.uint8", "uint8", 250, None),
    ("test.int8", "int8", -100, None),
    ("test.uint16", "uint16", 65000, None),
    ("test.int16", "int16", -30000, None),
    ("test.uint32", "uint32", 4000000000, None),
    ("test.int32", "int32", -2000000000, None),
    ("test.float32", "float32", float(np.float32(0.1)), None),
    ("test.bool_true", "bool", True, None),
    ("test.bool_false", "bool", False, None),
    ("test.uint64", "uint64", 2**64 - 1, None),
    ("test.int64", "int64", -(2**63), None),
    ("test.float64", "float64", -1.5e-300, None),
    ("test.empty_string", "string", "", None),
    ("tokenizer.ggml.tokens", "array", ["<s>", "</s>", "▁the", "ü", "", "\n", "🙂", "a b", "tenth"], "string"),
    ("tokenizer.ggml.scores", "array", [float(np.float32(v)) for v in (-1.0, 0.5, 1e-8, -3.25)], "float32"),
    ("tokenizer.ggml.token_type", "array", [1, 2, 3, -4], "int32"),
    ("test.u8_array", "array", [0, 1, 255], "uint8"),
    ("test.bool_array", "array", [True, False, True], "bool"),
    ("test.u64_array", "array", [0, 2**53 + 1, 2**64 - 1], "uint64"),
    ("test.f64_array", "array", [0.1, -2.5], "float64"),
    ("test.empty_array", "array", [], "int16"),
]
four_d = (np.arange(2 * 1 * 3 * 2, dtype=np.float32) - 5.5).reshape(2, 1, 3, 2)
emit("metadata", [
    ("blk.0.four_d", "F32", (2, 1, 3, 2), four_d.tobytes(), four_d),
    ("blk.0.vector", "F32", (3,), np.array([1.5, -2.0, 0.25], dtype=np.float32).tobytes(), np.array([1.5, -2.0, 0.25], dtype=np.float32)),
], METADATA)


def json_value(vtype, value):
    return str(value) if vtype in ("uint64", "int64") else value


expected_metadata = {}
for key, vtype, value, item_type in METADATA:
    if vtype == "array":
        expected_metadata[key] = {"type": "array", "itemType": item_type, "values": [json_value(item_type, v) for v in value]}
    else:
        expected_metadata[key] = {"type": vtype, "value": json_value(vtype, value)}
with open(os.path.join(OUT, "metadata.expected.json"), "w", encoding="utf-8") as f:
    json.dump(expected_metadata, f, indent=1, ensure_ascii=False)
    f.write("\n")
with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
    f.write("\n")
print(f"wrote {len(manifest)} GGUF files to {os.path.normpath(OUT)}")
