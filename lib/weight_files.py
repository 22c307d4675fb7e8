"""Parameter counts read from a weights file's tensor table, without torch
(the home page lists the bundled models before torch is first imported) and
without reading the weights themselves.

Parameters are the learned tensors: the floating-point ones, less BatchNorm's
running statistics, which are saved with the weights but estimated, not
learned. Integer tensors (BERT's position_ids, BatchNorm's batch counter) are
buffers too.
"""
from __future__ import annotations

import io
import json
import math
import mmap
import pickle
import struct
import zipfile
from pathlib import Path

BUFFER_SUFFIXES = (".running_mean", ".running_var")


def parameter_count(path: Path) -> int | None:
    """The parameters in a .safetensors, .gguf or PyTorch .pth file; None for other formats."""
    reader = READERS.get(path.suffix)
    if reader is None:
        return None
    return sum(math.prod(shape) for name, shape, floating in reader(path)
               if floating and not name.endswith(BUFFER_SUFFIXES))


# Each reader returns (name, shape, whether its values are floating-point) per tensor.

def _safetensors(path: Path) -> list[tuple]:
    """An 8-byte header length, then a JSON header naming every tensor's dtype and shape."""
    with path.open("rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(length))
    header.pop("__metadata__", None)
    return [(name, tensor["shape"], tensor["dtype"].startswith(("F", "BF"))) for name, tensor in header.items()]


GGUF_STRING, GGUF_ARRAY = 8, 9
GGUF_FIXED_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}  # value type: bytes


def _gguf(path: Path) -> list[tuple]:
    """A version ≥ 2 header, key-value metadata (the tokenizer's vocabulary among it),
    then the tensor table. Every GGUF tensor is a weight, quantized or not."""
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        magic, version, tensor_count, metadata_count = struct.unpack_from("<4sIQQ", data)
        if magic != b"GGUF" or version < 2:
            raise ValueError(f"{path.name} is not a GGUF file of version 2 or later")
        offset = 24
        for _ in range(metadata_count):
            offset = _skip_gguf_string(data, offset)  # the key
            (kind,) = struct.unpack_from("<I", data, offset)
            offset = _skip_gguf_value(data, offset + 4, kind)
        tensors = []
        for _ in range(tensor_count):
            name_end = _skip_gguf_string(data, offset)
            (dims,) = struct.unpack_from("<I", data, name_end)
            shape = struct.unpack_from(f"<{dims}Q", data, name_end + 4)
            tensors.append((data[offset + 8:name_end].decode(), shape, True))
            offset = name_end + 4 + 8 * dims + 12  # after the shape: its type (4 bytes) and data offset (8)
    return tensors


def _skip_gguf_string(data, offset: int) -> int:
    return offset + 8 + struct.unpack_from("<Q", data, offset)[0]


def _skip_gguf_value(data, offset: int, kind: int) -> int:
    if kind == GGUF_STRING:
        return _skip_gguf_string(data, offset)
    if kind != GGUF_ARRAY:
        return offset + GGUF_FIXED_SIZES[kind]
    item_kind, count = struct.unpack_from("<IQ", data, offset)
    offset += 12
    if item_kind in GGUF_FIXED_SIZES:
        return offset + count * GGUF_FIXED_SIZES[item_kind]
    for _ in range(count):
        offset = _skip_gguf_value(data, offset, item_kind)
    return offset


PYTORCH_FLOAT_STORAGES = {"FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage"}


class _TensorShapes(pickle.Unpickler):
    """Unpickles a PyTorch state dict into (storage type, shape) per tensor:
    nothing is imported or run, and no tensor data is read."""

    def find_class(self, module, name):
        if name.startswith("_rebuild_tensor"):  # torch._utils._rebuild_tensor_v2(storage, offset, shape, ...)
            return lambda storage, offset, shape, *rest: (storage, tuple(shape))
        if module == "collections":
            return super().find_class(module, name)  # the state dict's OrderedDict
        return name  # a storage type, such as torch.FloatStorage, by its name

    def persistent_load(self, pid):  # ("storage", storage type, key, location, size)
        return pid[1]


def _pytorch(path: Path) -> list[tuple]:
    if zipfile.is_zipfile(path):  # torch.save's format since PyTorch 1.6
        with zipfile.ZipFile(path) as archive:
            pickled = next(name for name in archive.namelist() if name.endswith("/data.pkl"))
            state = _TensorShapes(io.BytesIO(archive.read(pickled))).load()
    else:  # the legacy format: a magic number, the protocol version and system info come first
        with path.open("rb") as file:
            unpickler = _TensorShapes(file)
            for _ in range(3):
                unpickler.load()
            state = unpickler.load()
    return [(name, shape, storage in PYTORCH_FLOAT_STORAGES) for name, (storage, shape) in state.items()]


READERS = {".safetensors": _safetensors, ".gguf": _gguf, ".pth": _pytorch}
