"""Reference weight files written by PyTorch 1.13 for the format readers' tests.

Run with Debian's Python: /usr/bin/python3 scripts/make_format_fixtures.py
Outputs, all under fixtures/formats/:
  resnet18.pt.gz            torch.save(state_dict) of a sparse torchvision resnet18(num_classes=10), gzipped
  resnet18.safetensors.gz   the same tensors as safetensors (written here by hand), gzipped
  resnet18.onnx.gz          torch.onnx.export of the same model (opset 13, BN kept), gzipped
  resnet18.expected.json    names, shapes, dtypes, float64 sum and sum of squares of every tensor
  mixed_dtypes.pt           one tensor per dtype, a transposed view, views sharing a storage,
                            an expanded (stride 0) view, a 0-d and an empty tensor, an nn.Parameter
  nested_checkpoint.pt      {"epoch": 1, "arch": ..., "model": state dict, "optimizer": SGD state}
  missing_record.pt         a valid checkpoint zip with one data/<key> record removed
  evil_os_system.pt         a zip whose data.pkl calls os.system (hand-written pickle)
  evil_eval.pt              a zip whose data.pkl calls builtins.eval (hand-written protocol 4 pickle)
  whole_model.pt            torch.save(nn.Linear(2, 2)): a pickled module, not a state dict
  legacy.pt                 the pre-1.6 (non-zip) torch.save format
  pickle_protocol{2,3,4,5}.pkl  one plain Python value pickled with each protocol
  torch_small.expected.json expected contents of the small files above

The hostile pickles are assembled from opcodes and only ever written, never loaded.
"""
import gzip
import io
import json
import math
import os
import pickle
import pickletools
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import torch
import torchvision

out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "formats")
os.makedirs(out_dir, exist_ok=True)
written = []

DTYPE_NAMES = {
    torch.float32: "float32",
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.float64: "float64",
    torch.int64: "int64",
    torch.int32: "int32",
    torch.uint8: "uint8",
    torch.bool: "bool",
}
SAFETENSORS_DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def path(name):
    return os.path.join(out_dir, name)


def write_bytes(name, data, compress=False):
    if compress:
        buf = io.BytesIO()
        # mtime=0 keeps the gzip bytes reproducible from run to run.
        with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as gz:
            gz.write(data)
        data = buf.getvalue()
    with open(path(name), "wb") as f:
        f.write(data)
    written.append(name)


def torch_save_bytes(obj, **kwargs):
    buf = io.BytesIO()
    torch.save(obj, buf, **kwargs)
    return buf.getvalue()


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


# --- resnet18 -------------------------------------------------------------------------------

torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10)
mask_gen = torch.Generator().manual_seed(1)
with torch.no_grad():
    for module in model.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            # Keep 1% of the weights so the committed (gzipped) fixtures stay small.
            keep = torch.rand(module.weight.shape, generator=mask_gen) < 0.01
            # torch.where, not a multiply: w * 0 leaves -0.0 for negative w, whose random sign bits
            # would not compress.
            module.weight.copy_(torch.where(keep, module.weight, torch.zeros(())))
        if isinstance(module, torch.nn.BatchNorm2d):
            module.weight.copy_(0.5 + torch.rand(module.weight.shape, generator=mask_gen))
            module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=mask_gen))
    # Three training-mode passes give BatchNorm running statistics (and num_batches_tracked = 3).
    model.train()
    for _ in range(3):
        model(torch.randn(8, 3, 64, 64, generator=mask_gen))
model.eval()
state = model.state_dict()
assert len(state) == 122, len(state)

write_bytes("resnet18.pt.gz", torch_save_bytes(state), compress=True)


def safetensors_bytes(tensors, metadata):
    header = OrderedDict()
    header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name, t in tensors.items():
        blob = tensor_bytes(t)
        header[name] = {
            "dtype": SAFETENSORS_DTYPES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(blob)],
        }
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # pad so the data starts 8-byte aligned, as safetensors does
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


write_bytes(
    "resnet18.safetensors.gz",
    safetensors_bytes(state, {"format": "pt", "source": "torchvision resnet18"}),
    compress=True,
)

onnx_buf = io.BytesIO()
torch.onnx.export(
    model,
    torch.zeros(1, 3, 64, 64),
    onnx_buf,
    opset_version=13,
    do_constant_folding=False,
    # PRESERVE skips the eval-mode peephole that folds BatchNorm into the convolutions.
    training=torch.onnx.TrainingMode.PRESERVE,
    input_names=["input"],
    output_names=["logits"],
)
write_bytes("resnet18.onnx.gz", onnx_buf.getvalue(), compress=True)

BN_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
expected = {
    "tensors": [],
    "parameter_count": sum(t.numel() for n, t in state.items() if not n.endswith(BN_BUFFERS)),
}
for name, t in state.items():
    d = t.double()
    expected["tensors"].append(
        {
            "name": name,
            "shape": list(t.shape),
            "dtype": DTYPE_NAMES[t.dtype],
            "sum": d.sum().item(),
            "sum_squares": (d * d).sum().item(),
        }
    )
assert expected["parameter_count"] == sum(p.numel() for p in model.parameters())
with open(path("resnet18.expected.json"), "w") as f:
    json.dump(expected, f, indent=1, allow_nan=False)
written.append("resnet18.expected.json")


# --- small checkpoints ----------------------------------------------------------------------


def values_of(t):
    """Exact JSON form of a tensor's values in C order: halves as raw bits, int64 as strings."""
    t = t.detach().contiguous().reshape(-1)
    if t.dtype == torch.float16:
        return t.view(torch.int16).numpy().view(np.uint16).tolist()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16).tolist()
    if t.dtype == torch.int64:
        return [str(v) for v in t.tolist()]
    if t.dtype == torch.bool:
        return [1 if v else 0 for v in t.tolist()]
    if t.dtype in (torch.float32, torch.float64):
        # JSON has no infinities or NaN: spell them as strings.
        return [v if math.isfinite(v) else str(v) for v in t.tolist()]
    return t.tolist()


def describe(tensors):
    return OrderedDict(
        (name, {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "values": values_of(t)})
        for name, t in tensors.items()
    )


small = {}

gen = torch.Generator().manual_seed(2)
base = torch.arange(20, dtype=torch.float32) * 0.25 - 1.0
matrix = torch.randn(3, 4, generator=gen)
mixed = OrderedDict()
mixed["f32"] = torch.tensor([1.5, -2.25, 3.0e-8, float("inf"), -0.0], dtype=torch.float32)
mixed["f16"] = torch.tensor([1.0, -0.5, 65504.0, 6.0e-8, 0.1], dtype=torch.float16)
mixed["bf16"] = torch.tensor([1.0, -3.140625, 1.0e30, 0.1], dtype=torch.bfloat16)
mixed["f64"] = torch.tensor([[0.1, -1.0e300], [3.0, 2.5e-310]], dtype=torch.float64)
mixed["i64"] = torch.tensor([-(2**62) - 7, 0, 2**53 + 1], dtype=torch.int64)
mixed["i32"] = torch.tensor([-(2**31), 7, 2**31 - 1], dtype=torch.int32)
mixed["u8"] = torch.tensor([0, 1, 128, 255], dtype=torch.uint8)
mixed["bool"] = torch.tensor([True, False, True], dtype=torch.bool)
mixed["scalar"] = torch.tensor(3.5, dtype=torch.float32)
mixed["empty"] = torch.zeros(0, 3, dtype=torch.float32)
mixed["transposed"] = matrix.t()  # stride (1, 4): not C-contiguous
mixed["shared_a"] = base[2:8].view(2, 3)  # offset 2 into base's storage
mixed["shared_b"] = base[10:20:2]  # offset 10, stride 2, same storage
mixed["expanded"] = torch.tensor([1, 2, 3], dtype=torch.int32).expand(2, 3)  # stride (0, 1)
mixed["parameter"] = torch.nn.Parameter(torch.tensor([0.5, -1.0]))  # pickled via _rebuild_parameter
assert not mixed["transposed"].is_contiguous()
assert mixed["shared_a"].storage().data_ptr() == mixed["shared_b"].storage().data_ptr()
mixed_bytes = torch_save_bytes(mixed)
write_bytes("mixed_dtypes.pt", mixed_bytes)
small["mixed_dtypes"] = {"tensors": describe(mixed)}

torch.manual_seed(3)
tiny = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
sgd = torch.optim.SGD(tiny.parameters(), lr=0.1, momentum=0.9)
tiny(torch.randn(4, 3)).square().sum().backward()
sgd.step()
nested = {"epoch": 1, "arch": "tiny-mlp", "model": tiny.state_dict(), "optimizer": sgd.state_dict()}
write_bytes("nested_checkpoint.pt", torch_save_bytes(nested))
small["nested_checkpoint"] = {
    "tensors": describe(tiny.state_dict()),
    "metadata": {"epoch": "1", "arch": "tiny-mlp"},
}


def rewrite_zip(source, replace=None, drop=()):
    """Copies a torch zip, replacing or dropping records (STORED, as torch writes them)."""
    replace = replace or {}
    src = zipfile.ZipFile(io.BytesIO(source))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            data = replace.get(info.filename, src.read(info.filename))
            # A fixed timestamp keeps the fixture bytes reproducible.
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


two_tensors = OrderedDict([("weight", torch.ones(2, 2)), ("bias", torch.zeros(2))])
two_bytes = torch_save_bytes(two_tensors)
names = zipfile.ZipFile(io.BytesIO(two_bytes)).namelist()
missing = "archive/data/1"
assert missing in names, names
write_bytes("missing_record.pt", rewrite_zip(two_bytes, drop={missing}))
small["missing_record"] = {"record": missing, "tensor": "bias"}


def unicode_op(text):
    data = text.encode("utf-8")
    return b"X" + struct.pack("<I", len(data)) + data


# Protocol 2, as torch writes: {'weight': <tensor>, 'payload': os.system('echo pwned')} with the
# tensor's storage record present, so the reader gets past a legitimate entry before the trap.
weight_pickle = (
    b"\x80\x02"
    + b"ccollections\nOrderedDict\n)R"  # OrderedDict()
    + b"("  # MARK for SETITEMS
    + unicode_op("weight")
    + b"ctorch._utils\n_rebuild_tensor_v2\n"
    + b"("  # MARK: args of _rebuild_tensor_v2
    + b"("
    + unicode_op("storage")
    + b"ctorch\nFloatStorage\n"
    + unicode_op("0")
    + unicode_op("cpu")
    + b"K\x04"
    + b"tQ"  # TUPLE, BINPERSID
    + b"K\x00"  # storage offset
    + b"K\x02K\x02\x86"  # size (2, 2)
    + b"K\x02K\x01\x86"  # stride (2, 1)
    + b"\x89"  # requires_grad False
    + b"ccollections\nOrderedDict\n)R"  # backward hooks
    + b"tR"  # TUPLE, REDUCE
)
evil_system = weight_pickle + unicode_op("payload") + b"cos\nsystem\n" + unicode_op("echo pwned") + b"\x85R" + b"u."
evil_zip_base = torch_save_bytes(OrderedDict([("weight", torch.ones(2, 2))]))
write_bytes("evil_os_system.pt", rewrite_zip(evil_zip_base, replace={"archive/data.pkl": evil_system}))


def short_unicode(text):
    data = text.encode("utf-8")
    return b"\x8c" + bytes([len(data)]) + data


# Protocol 4 with a frame: builtins.eval("__import__('os').system('echo pwned')") via STACK_GLOBAL.
body = (
    b"\x8c\x08builtins\x94"  # SHORT_BINUNICODE 'builtins', MEMOIZE
    + b"\x8c\x04eval\x94"
    + b"\x93\x94"  # STACK_GLOBAL, MEMOIZE
    + short_unicode("__import__('os').system('echo pwned')")
    + b"\x85R."  # TUPLE1, REDUCE, STOP
)
evil_eval = b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body
write_bytes("evil_eval.pt", rewrite_zip(evil_zip_base, replace={"archive/data.pkl": evil_eval}))

for name, data in (("evil_os_system", evil_system), ("evil_eval", evil_eval)):
    ops = [op.name for op, _, _ in pickletools.genops(data)]  # parse only, never load
    assert ops[-1] == "STOP", (name, ops)
small["evil_os_system"] = {"global": "os.system"}
small["evil_eval"] = {"global": "builtins.eval"}

# torch.save(model) pickles the module object itself, which a weight reader must refuse.
write_bytes("whole_model.pt", torch_save_bytes(torch.nn.Linear(2, 2)))
small["whole_model"] = {"global": "torch.nn.modules.linear.Linear"}

# (Its storage keys come from memory addresses, so this one file differs from run to run.)
write_bytes("legacy.pt", torch_save_bytes(two_tensors, _use_new_zipfile_serialization=False))

# One plain value through every pickle protocol the unpickler claims to read.
plain = OrderedDict()
plain["int"] = -7
plain["big"] = 2**70 + 3
plain["negative_big"] = -(2**64)
plain["float"] = 1.25e-3
plain["text"] = "héllo ✓"
plain["bytes"] = b"\x00\xffab"
plain["list"] = [1, 2, [3, None]]
plain["tuple"] = (True, False)
plain["set"] = {4, 5}
plain["frozenset"] = frozenset({"x"})
plain["dict"] = {"a": 1, 2: "b"}
for protocol in (2, 3, 4, 5):
    write_bytes(f"pickle_protocol{protocol}.pkl", pickle.dumps(plain, protocol=protocol))

with open(path("torch_small.expected.json"), "w") as f:
    json.dump(small, f, indent=1, allow_nan=False)
written.append("torch_small.expected.json")

total = 0
for name in written:
    size = os.path.getsize(path(name))
    total += size
    print(f"{size:>10,}  fixtures/formats/{name}")
print(f"{total:>10,}  total")
