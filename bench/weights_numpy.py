"""Reference reader for npm run bench:weights: the same two sharded bf16 checkpoints, read through
np.memmap in row blocks, bf16 decoded by shifting the 16 bits into float32's high half, and the
same per-tensor float64 sums (a.a, b.b, a.b, (b-a).(b-a)) that `lineage compare` computes.
Prints one JSON line: seconds, peak RSS, overall distance and per-tensor rel_l2 / cos."""
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np

# 16 MiB of float32 per model at a time: faster for numpy than the 4 MiB blocks `lineage compare` reads.
BLOCK_ELEMENTS = (16 << 20) // 4


def tensors(index_path):
    """(name, shard path, data offset, shape) for every tensor, in the index's weight_map order."""
    folder = os.path.dirname(index_path)
    with open(index_path) as f:
        weight_map = json.load(f)["weight_map"]
    headers = {}
    for shard in sorted(set(weight_map.values())):
        path = os.path.join(folder, shard)
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            headers[shard] = (path, 8 + length, json.loads(f.read(length)))
    out = []
    for name, shard in weight_map.items():
        path, data_start, header = headers[shard]
        entry = header[name]
        if entry["dtype"] != "BF16":
            raise SystemExit(f"{path}: tensor {name} is {entry['dtype']}, the reference reads BF16 only")
        out.append((name, path, data_start + entry["data_offsets"][0], entry["shape"]))
    return out


def decode(u16):
    return (u16.astype(np.uint32) << 16).view(np.float32)


def tensor_sums(a, b, shape):
    rows = shape[0] if shape else 1
    cols = math.prod(shape[1:]) if len(shape) > 1 else 1
    step = max(1, BLOCK_ELEMENTS // cols)
    aa = bb = ab = dd = 0.0
    for start in range(0, rows, step):
        lo, hi = start * cols, min(rows, start + step) * cols
        x = decode(a[lo:hi]).astype(np.float64)
        y = decode(b[lo:hi]).astype(np.float64)
        d = y - x
        aa += float(np.dot(x, x))
        bb += float(np.dot(y, y))
        ab += float(np.dot(x, y))
        dd += float(np.dot(d, d))
    return aa, bb, ab, dd


def main():
    index_a, index_b = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    list_a, list_b = tensors(index_a), tensors(index_b)
    maps = {}
    total_aa = total_dd = 0.0
    out = []
    by_name_b = {t[0]: t for t in list_b}
    for name, path_a, offset_a, shape in list_a:
        _, path_b, offset_b, shape_b = by_name_b[name]
        if shape_b != shape:
            raise SystemExit(f"{name}: shapes differ {shape} vs {shape_b}")
        n = math.prod(shape) if shape else 1
        for path in (path_a, path_b):
            if path not in maps:
                maps[path] = np.memmap(path, dtype=np.uint8, mode="r")
        a = maps[path_a][offset_a : offset_a + 2 * n].view(np.uint16)
        b = maps[path_b][offset_b : offset_b + 2 * n].view(np.uint16)
        aa, bb, ab, dd = tensor_sums(a, b, shape)
        total_aa += aa
        total_dd += dd
        out.append({"name": name, "rel_l2": math.sqrt(dd) / math.sqrt(aa), "cos": ab / (math.sqrt(aa) * math.sqrt(bb))})
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_rss_bytes": peak_kib * 1024, "distance": math.sqrt(total_dd) / math.sqrt(total_aa), "tensors": out}))


main()
