"""GPU checkpoint: 50 seeds, every answer recomputed here with torch's FLOP counter and
meta tensors (or plain float arithmetic from the numbers the prompt shows), not lib.gpu."""
import re

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from lib import checkpoints

SEEDS = range(50)
TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16, "int8": torch.int8}


def numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def precision_in(text: str) -> str:
    return re.search(r"\b(float32|bfloat16|float16|int8|4-bit)\b", text).group(1)


def meta(*shape: int, dtype=torch.float32) -> torch.Tensor:
    return torch.empty(*shape, dtype=dtype, device="meta")


def counted_flops(a: torch.Tensor, b: torch.Tensor) -> tuple[int, torch.Tensor]:
    with FlopCounterMode(display=False) as counter:
        out = a @ b
    return counter.get_total_flops(), out


def nbytes(*tensors: torch.Tensor) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch(seed):
    flops_q, memory_q, intensity_q, bound_q, fits_q = checkpoints.questions("gpu", seed)

    batch, d_in, _, d_out = (int(n) for n in numbers(flops_q.prompt)[:4])
    assert flops_q.answer == counted_flops(meta(batch, d_in), meta(d_in, d_out))[0]

    batch, tokens, hidden = (int(n) for n in re.search(r"\((\d+), (\d+), (\d+)\)", memory_q.prompt).groups())
    tensor = meta(batch, tokens, hidden, dtype=TORCH_DTYPES[precision_in(memory_q.prompt)])
    assert memory_q.answer == pytest.approx(nbytes(tensor) / 1024**2, rel=1e-12)

    n = int(numbers(intensity_q.prompt)[0])
    a = b = meta(n, n, dtype=TORCH_DTYPES[precision_in(intensity_q.prompt)])
    flops, out = counted_flops(a, b)
    assert intensity_q.answer == pytest.approx(flops / nbytes(a, b, out), rel=1e-12)

    peak_tflops, bandwidth_gb, n = re.search(r"peaks at ([\d.]+) TFLOP/s.*moves (\d+) GB/s.*two (\d+) ×",
                                             bound_q.prompt).groups()
    a = b = meta(int(n), int(n), dtype=TORCH_DTYPES[precision_in(bound_q.prompt)])
    flops, out = counted_flops(a, b)
    compute_s, memory_s = flops / (float(peak_tflops) * 1e12), nbytes(a, b, out) / (float(bandwidth_gb) * 1e9)
    assert bound_q.answer == ("compute-bound" if compute_s > memory_s else "memory-bound")

    gib = numbers(fits_q.prompt)[0]
    bits = {"float32": 32, "float16": 16, "int8": 8, "4-bit": 4}[precision_in(fits_q.prompt)]
    assert fits_q.answer == pytest.approx(gib * 1024**3 * 8 / bits / 1e9, rel=1e-12)


def test_both_limits_and_every_precision_come_up():
    drawn = [q for seed in SEEDS for q in checkpoints.questions("gpu", seed)]
    assert {q.answer for q in drawn if q.options} == {"compute-bound", "memory-bound"}
    assert {precision_in(q.prompt) for q in drawn if "MiB" in q.prompt} == set(TORCH_DTYPES)
