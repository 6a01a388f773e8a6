"""Reference .npy files and half-precision tables written by NumPy / PyTorch.

Run with Debian's Python: /usr/bin/python3 scripts/make_npy_fixtures.py
Outputs fixtures/npy/*.npy (+ expected.json) and fixtures/halves/*.npy.
"""
import json
import os

import numpy as np
import torch

root = os.path.join(os.path.dirname(__file__), "..", "fixtures")
npy_dir = os.path.join(root, "npy")
halves_dir = os.path.join(root, "halves")
os.makedirs(npy_dir, exist_ok=True)
os.makedirs(halves_dir, exist_ok=True)

rng = np.random.default_rng(0)
arrays = {
    "f32": rng.standard_normal((3, 4, 5)).astype(np.float32),
    "f64": rng.standard_normal((7,)).astype(np.float64),
    "i64": rng.integers(-(2**40), 2**40, size=(2, 3), dtype=np.int64),
    "scalar_f32": np.array(3.5, dtype=np.float32),
    "empty_f32": np.zeros((0, 4), dtype=np.float32),
}
expected = {}
for name, arr in arrays.items():
    np.save(os.path.join(npy_dir, name + ".npy"), arr)
    expected[name] = {
        "dtype": str(arr.dtype),
        "shape": list(arr.shape),
        "values": [str(v) for v in arr.reshape(-1).tolist()] if arr.dtype == np.int64 else arr.reshape(-1).tolist(),
    }
np.save(os.path.join(npy_dir, "fortran.npy"), np.asfortranarray(rng.standard_normal((3, 4)).astype(np.float32)))
# A version 2.0 header, as numpy writes for very long headers.
with open(os.path.join(npy_dir, "v2_f32.npy"), "wb") as f:
    np.lib.format.write_array(f, arrays["f32"], version=(2, 0))
expected["v2_f32"] = expected["f32"]
with open(os.path.join(npy_dir, "expected.json"), "w") as f:
    json.dump(expected, f)

# Every 16-bit pattern, decoded by numpy (float16) and by torch (bfloat16), as float32.
bits = np.arange(65536, dtype=np.uint16)
np.save(os.path.join(halves_dir, "float16_to_float32.npy"), bits.view(np.float16).astype(np.float32))
bf = torch.from_numpy(bits.view(np.int16).copy()).view(torch.bfloat16).to(torch.float32).numpy()
np.save(os.path.join(halves_dir, "bfloat16_to_float32.npy"), bf)
# Rounding float32 -> half: random values over many magnitudes plus edge cases.
vals = np.concatenate([
    (rng.standard_normal(4000) * np.exp(rng.uniform(-25, 25, 4000))).astype(np.float32),
    np.array([0.0, -0.0, 65504.0, 65520.0, 1e-8, 6e-8, 3e-8, 2.98023224e-08, np.inf, -np.inf, 1.0009765625, 1.00048828125], dtype=np.float32),
]).astype(np.float32)
np.save(os.path.join(halves_dir, "round_inputs.npy"), vals)
np.save(os.path.join(halves_dir, "round_float16_bits.npy"), vals.astype(np.float16).view(np.uint16).astype(np.int32))
np.save(os.path.join(halves_dir, "round_bfloat16_bits.npy"),
        torch.from_numpy(vals).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16).astype(np.int32))
print("wrote", npy_dir, halves_dir)
