"""Writes golden reference tensors for tests/models/golden_test.cpp.

Format (read by the C++ test, little-endian machines):
  <name>.bin   the raw bytes of every tensor, concatenated, little-endian
  <name>.json  {"config": {...}, "tensors": [{"name", "dtype", "shape", "offset"}, ...]}
dtypes: float32 (weights, inputs), float64 (reference outputs), int64 (token ids).
"""
import json
import os

import numpy as np
import torch

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden")
NUMPY_DTYPES = {torch.float32: "<f4", torch.float64: "<f8", torch.int64: "<i8"}
NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}


def write_golden(name, config, tensors):
    """tensors: list of (name, tensor); written in that order."""
    entries, chunks, offset = [], [], 0
    for key, t in tensors:
        data = t.detach().contiguous().numpy().astype(NUMPY_DTYPES[t.dtype]).tobytes()
        entries.append({"name": key, "dtype": NAMES[t.dtype], "shape": list(t.shape), "offset": offset})
        chunks.append(data)
        offset += len(data)
    os.makedirs(GOLDEN_DIR, exist_ok=True)
    with open(os.path.join(GOLDEN_DIR, name + ".bin"), "wb") as f:
        f.write(b"".join(chunks))
    with open(os.path.join(GOLDEN_DIR, name + ".json"), "w") as f:
        json.dump({"config": config, "tensors": entries}, f, indent=1)
        f.write("\n")
    print(f"wrote {name}.bin ({offset} bytes) and {name}.json to {os.path.normpath(GOLDEN_DIR)}")


def randomize_(module, generator):
    """Weights far from any default init so every parameter matters: LayerNorm scales 1 + 0.1 N,
    everything else 0.2 N; drawn in float32 so the float64 reference uses exactly these values."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float32)
            is_norm_scale = p.dim() == 1 and name.endswith("weight")
            p.copy_(1 + 0.1 * noise if is_norm_scale else 0.2 * noise)


def block_tensors(prefix, layer, width):
    """Maps a torch.nn.TransformerEncoderLayer (norm_first) onto lmlab's TransformerBlock names."""
    c = width
    w, b = layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias
    return [
        (prefix + "ln1.weight", layer.norm1.weight), (prefix + "ln1.bias", layer.norm1.bias),
        (prefix + "attn.q.weight", w[:c]), (prefix + "attn.q.bias", b[:c]),
        (prefix + "attn.k.weight", w[c:2 * c]), (prefix + "attn.k.bias", b[c:2 * c]),
        (prefix + "attn.v.weight", w[2 * c:]), (prefix + "attn.v.bias", b[2 * c:]),
        (prefix + "attn.o.weight", layer.self_attn.out_proj.weight),
        (prefix + "attn.o.bias", layer.self_attn.out_proj.bias),
        (prefix + "ln2.weight", layer.norm2.weight), (prefix + "ln2.bias", layer.norm2.bias),
        (prefix + "mlp.fc0.weight", layer.linear1.weight), (prefix + "mlp.fc0.bias", layer.linear1.bias),
        (prefix + "mlp.fc1.weight", layer.linear2.weight), (prefix + "mlp.fc1.bias", layer.linear2.bias),
    ]


def encoder_layer(width, heads, mlp_ratio):
    """PyTorch's own pre-norm transformer layer: the independent reference for TransformerBlock."""
    return torch.nn.TransformerEncoderLayer(width, heads, dim_feedforward=mlp_ratio * width, dropout=0.0,
                                            activation="gelu", batch_first=True, norm_first=True)
