"""Checkpoint: GPU acceleration. Only computed quantities (FLOPs, bytes, the roofline),
never timings, which change from machine to machine. Every answer comes from lib.gpu; the predict
question runs MiniLM in bfloat16 and float16 copies, as the lesson's precision sweep does."""
from __future__ import annotations

import random

import pandas as pd
import torch

from lib import gpu, model_loading
from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict

MIB = 2**20
SENTENCES = ["The cat chased the mouse across the kitchen.", "GPUs multiply large matrices very quickly.",
             "The council approved the new cycle lanes.", "Half precision halves the memory of the weights."]


def _linear_layer_flops(rng: random.Random) -> Question:
    batch, d_in, d_out = rng.choice([8, 16, 32, 64]), rng.choice([256, 512, 768, 1024]), rng.choice([512, 1024, 3072])
    flops = gpu.matmul_flops(batch, d_in, d_out)
    return Question(
        f"A linear layer multiplies a batch of {batch} inputs of size {d_in} by a {d_in} × {d_out} weight matrix "
        f"(an ({batch} × {d_in}) @ ({d_in} × {d_out}) product, bias left out). How many floating-point operations?",
        flops,
        f"The output has {batch} × {d_out} numbers; each is a dot product of length {d_in}: {d_in} multiplies and "
        f"{d_in} adds. 2·m·k·n = 2 × {batch} × {d_in} × {d_out} = **{flops:,}** FLOPs.")


def _compute_or_memory_bound(rng: random.Random) -> Question:
    gpu_name, precision = rng.choice(list(gpu.PEAK_FLOPS)), rng.choice(gpu.ROOFLINE_PRECISIONS)
    n = rng.choice([16, 32, 64, 128, 256, 512, 1024, 4096])
    flops, moved = gpu.matmul_flops(n, n, n), gpu.matmul_bytes(n, n, n, precision)
    limit = gpu.roofline(flops, moved, gpu_name, precision)
    peak, bandwidth = gpu.PEAK_FLOPS[gpu_name][precision], gpu.BANDWIDTH[gpu_name]
    ridge = gpu.ridge_point(gpu_name, precision)
    why = {"compute-bound": f"Its intensity, {flops / moved:,.1f} FLOP/byte, is above the ridge point {ridge:,.1f}: "
                            "the arithmetic takes longer than moving the bytes.",
           "memory-bound": f"Its intensity, {flops / moved:,.1f} FLOP/byte, is below the ridge point {ridge:,.1f}: "
                           "moving the bytes takes longer than the arithmetic."}
    wrong = next(bound for bound in why if bound != limit["bound"])
    return concept(
        rng, f"A {gpu_name} peaks at {peak / 1e12:g} TFLOP/s in {precision} and moves {bandwidth / 1e9:g} GB/s. "
        f"Multiplying two {n} × {n} matrices in {precision} (inputs read once, output written once): which limit "
        "sets the fastest possible time?",
        limit["bound"], {wrong: f"Not here. {why[limit['bound']]}"},
        f"Arithmetic at peak: {flops:,} FLOPs / {peak:.3g} FLOP/s = {limit['compute_s'] * 1e6:,.3f} µs. "
        f"Memory at full bandwidth: {moved:,.0f} bytes / {bandwidth:.3g} B/s = {limit['memory_s'] * 1e6:,.3f} µs. "
        f"The longer one wins: **{limit['bound']}**. {why[limit['bound']]}")


def _why_batch(rng: random.Random) -> Question:
    hidden, batch = rng.choice([384, 768, 1024]), rng.choice([16, 32, 64])
    single = gpu.matmul_flops(1, hidden, hidden) / gpu.matmul_bytes(1, hidden, hidden, "float16")
    batched = gpu.matmul_flops(batch, hidden, hidden) / gpu.matmul_bytes(batch, hidden, hidden, "float16")
    return concept(
        rng, f"A {hidden} × {hidden} layer in float16 processes sentences one at a time, then {batch} at once. "
        "Why is the batch so much faster per sentence on a GPU?",
        "Each weight read from memory now serves the whole batch: many more FLOPs per byte moved",
        {"Batching lowers the number of FLOPs each sentence needs":
         f"Each sentence still needs 2·{hidden}² = {gpu.matmul_flops(1, hidden, hidden):,} FLOPs; only the "
         "bytes moved per sentence go down.",
         "The GPU raises its clock speed for big batches":
         "The clock does not depend on the batch; the gain comes from reading the weights once for many inputs.",
         "Batching skips the padding tokens":
         "Padding is extra work that batching adds (short sentences are padded to the longest), not work it "
         "skips."},
        f"Arithmetic intensity of the layer: {single:.2f} FLOP/byte for one sentence, **{batched:.1f}** for "
        f"{batch}: the {hidden}² weights are read once either way. One sentence at a time leaves a GPU "
        "memory-bound and mostly idle; the lesson's batch timings show the effect.")


PRECISION_FATES = ("bfloat16", "float16", "Both the same")


def _half_precision(rng: random.Random) -> Question:
    sentence = rng.choice(SENTENCES)
    return predict(
        f"MiniLM turns “{sentence}” into a sentence vector in float32. The lesson then runs copies of the model in "
        "bfloat16 and in float16. Whose vector is further from the float32 one (lower cosine)?",
        PRECISION_FATES,
        "Both store 16 bits a number. float16 keeps 10 bits of mantissa and a small range; bfloat16 keeps "
        "float32's range but only 7 bits of mantissa, so each number is rounded more coarsely.",
        reveal_half_precision, sentence)


def _sentence_vector(loaded, sentence: str) -> torch.Tensor:
    with loaded.lock, torch.no_grad():
        encoded = loaded.tokenizer(sentence, return_tensors="pt").to(loaded.device)
        states = loaded.model(**encoded).last_hidden_state[0].double()  # (seq, hidden)
    return states.mean(0)


def reveal_half_precision(sentence: str) -> Reveal:
    encoder = model_loading.shared("minilm", "encoder", "cpu")
    reference = _sentence_vector(encoder, sentence)
    cosines = {dtype: float(torch.nn.functional.cosine_similarity(
        _sentence_vector(gpu.in_precision(encoder, dtype), sentence), reference, dim=0))
        for dtype in ("bfloat16", "float16")}
    gaps = {dtype: 1 - c for dtype, c in cosines.items()}
    answer = PRECISION_FATES[2] if abs(gaps["bfloat16"] - gaps["float16"]) < 1e-9 else max(gaps, key=gaps.get)
    return Reveal(
        answer,
        f"Run just now: 1 − cosine with float32 is {gaps['bfloat16']:.2e} in bfloat16 and {gaps['float16']:.2e} in "
        f"float16. Both are tiny for this task, which is why half precision is the usual way to fit and speed "
        "up a model on a GPU.",
        pd.DataFrame({"precision": list(cosines), "cosine with float32": [round(c, 7) for c in cosines.values()]}))


def questions(rng: random.Random) -> list[Question]:
    return [_linear_layer_flops(rng), _compute_or_memory_bound(rng), _why_batch(rng), _half_precision(rng)]
