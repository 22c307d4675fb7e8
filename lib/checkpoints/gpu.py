"""Checkpoint: GPU acceleration. Only computed quantities (FLOPs, bytes, the roofline),
never timings, which change from machine to machine. Every answer comes from lib.gpu."""
from __future__ import annotations

import random

from lib import gpu
from lib.checkpoints import Question

MIB = 2**20
TENSOR_PRECISIONS = ["float32", "bfloat16", "float16", "int8"]


def _linear_layer_flops(rng: random.Random) -> Question:
    batch, d_in, d_out = rng.choice([8, 16, 32, 64]), rng.choice([256, 512, 768, 1024]), rng.choice([512, 1024, 3072])
    flops = gpu.matmul_flops(batch, d_in, d_out)
    return Question(
        f"A linear layer multiplies a batch of {batch} inputs of size {d_in} by a {d_in} × {d_out} weight matrix "
        f"(an ({batch} × {d_in}) @ ({d_in} × {d_out}) product, bias left out). How many floating-point operations?",
        flops,
        f"The output has {batch} × {d_out} numbers; each is a dot product of length {d_in}: {d_in} multiplies and "
        f"{d_in} adds. 2·m·k·n = 2 × {batch} × {d_in} × {d_out} = **{flops:,}** FLOPs.")


def _tensor_memory(rng: random.Random) -> Question:
    batch, tokens, hidden = rng.choice([16, 32, 64]), rng.choice([256, 512, 1024]), rng.choice([384, 768, 1024])
    precision = rng.choice(TENSOR_PRECISIONS)
    size = gpu.tensor_bytes((batch, tokens, hidden), precision)
    each = gpu.BYTES_PER_PARAMETER[precision]
    return Question(
        f"A tensor of activations of shape ({batch}, {tokens}, {hidden}) (batch, tokens, hidden) is stored in "
        f"{precision}. How many MiB does it take? (to 2 decimals)",
        size / MIB,
        f"{batch} × {tokens} × {hidden} = {batch * tokens * hidden:,} numbers × {each} byte(s) in {precision} "
        f"= {size:,.0f} bytes; / 2²⁰ = **{size / MIB:,.2f} MiB**.",
        tolerance=0.005)


def _arithmetic_intensity(rng: random.Random) -> Question:
    n = rng.choice([64, 128, 256, 512, 1024, 2048, 4096])
    precision = rng.choice(gpu.ROOFLINE_PRECISIONS)
    intensity = gpu.arithmetic_intensity(n, n, n, precision)
    each = gpu.BYTES_PER_PARAMETER[precision]
    return Question(
        f"Multiplying two {n} × {n} matrices in {precision} reads both inputs once and writes the output once. "
        "What is its arithmetic intensity, in FLOPs per byte moved? (to 2 decimals)",
        intensity,
        f"Work: 2n³ = 2 × {n}³ = {gpu.matmul_flops(n, n, n):,} FLOPs. "
        f"Bytes: three {n} × {n} matrices × {each} bytes "
        f"= {gpu.matmul_bytes(n, n, n, precision):,.0f}. Intensity = 2n³ / (3n²·{each}) = 2·{n} / (3·{each}) "
        f"= **{intensity:,.2f} FLOP/byte**: it grows with n, which is why big matrices keep a GPU busy.",
        tolerance=0.005)


def _compute_or_memory_bound(rng: random.Random) -> Question:
    gpu_name, precision = rng.choice(list(gpu.PEAK_FLOPS)), rng.choice(gpu.ROOFLINE_PRECISIONS)
    n = rng.choice([16, 32, 64, 128, 256, 512, 1024, 4096])
    flops, moved = gpu.matmul_flops(n, n, n), gpu.matmul_bytes(n, n, n, precision)
    limit = gpu.roofline(flops, moved, gpu_name, precision)
    peak, bandwidth = gpu.PEAK_FLOPS[gpu_name][precision], gpu.BANDWIDTH[gpu_name]
    return Question(
        f"A {gpu_name} peaks at {peak / 1e12:g} TFLOP/s in {precision} and moves {bandwidth / 1e9:g} GB/s. "
        f"Multiplying two {n} × {n} matrices in {precision} (inputs read once, output written once): which limit "
        "sets the fastest possible time?",
        limit["bound"],
        f"Arithmetic at peak: {flops:,} FLOPs / {peak:.3g} FLOP/s = {limit['compute_s'] * 1e6:,.3f} µs. "
        f"Memory at full bandwidth: {moved:,.0f} bytes / {bandwidth:.3g} B/s = {limit['memory_s'] * 1e6:,.3f} µs. "
        f"The longer one wins: **{limit['bound']}**. (Equivalently: intensity "
        f"{flops / moved:,.1f} FLOP/byte against the {gpu_name}'s ridge point "
        f"{gpu.ridge_point(gpu_name, precision):,.1f}.)",
        options=("compute-bound", "memory-bound"))


def _largest_model(rng: random.Random) -> Question:
    memory_gib = rng.choice([8, 12, 16, 24, 40, 80])
    precision = rng.choice(["float32", "float16", "int8", "4-bit"])
    fits = gpu.max_parameters(memory_gib, precision)
    return Question(
        f"A GPU has {memory_gib} GiB of memory. Counting the weights alone, how many billion parameters fit in "
        f"{precision}? (within 1%)",
        fits / 1e9,
        f"{memory_gib} × 2³⁰ bytes / {gpu.BYTES_PER_PARAMETER[precision]} byte(s) per parameter = "
        f"{fits:,.0f} parameters ≈ **{fits / 1e9:,.2f} billion**. Activations, the KV cache and (for training) "
        "gradients and optimiser state need room on top.",
        tolerance=0.01)


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_linear_layer_flops, _tensor_memory, _arithmetic_intensity,
                                   _compute_or_memory_bound, _largest_model)]
