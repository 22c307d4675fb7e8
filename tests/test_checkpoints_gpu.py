"""GPU checkpoint: 50 seeds, every answer recomputed here with torch's FLOP counter and
meta tensors (or plain float arithmetic from the numbers the prompt shows), and the precision
predict question with MiniLM copies converted by torch here, not lib.gpu."""
import copy
import re

import pytest
import torch
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question
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


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("gpu", seed) for seed in SEEDS]


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch(seed, sets):
    assert_well_taught(sets[seed])
    flops_q, bound_q, batch_q, _ = sets[seed]

    batch, d_in, _, d_out = (int(n) for n in numbers(flops_q.prompt)[:4])
    assert flops_q.answer == counted_flops(meta(batch, d_in), meta(d_in, d_out))[0]

    peak_tflops, bandwidth_gb, n = re.search(r"peaks at ([\d.]+) TFLOP/s.*moves (\d+) GB/s.*two (\d+) ×",
                                             bound_q.prompt).groups()
    a = b = meta(int(n), int(n), dtype=TORCH_DTYPES[precision_in(bound_q.prompt)])
    flops, out = counted_flops(a, b)
    compute_s, memory_s = flops / (float(peak_tflops) * 1e12), nbytes(a, b, out) / (float(bandwidth_gb) * 1e9)
    assert bound_q.answer == ("compute-bound" if compute_s > memory_s else "memory-bound")

    hidden, batch = map(int, re.search(r"A (\d+) × \d+ layer .* then (\d+) at once", batch_q.prompt).groups())
    weights = meta(hidden, hidden, dtype=torch.float16)
    one, many = meta(1, hidden, dtype=torch.float16), meta(batch, hidden, dtype=torch.float16)
    intensity = [counted_flops(x, weights)[0] / nbytes(x, weights, x @ weights) for x in (one, many)]
    assert f"**{intensity[1]:.1f}**" in batch_q.solution and intensity[1] > 10 * intensity[0]
    assert batch_q.answer.startswith("Each weight read from memory now serves the whole batch")


def test_both_limits_come_up(sets):
    assert {q[1].answer for q in sets} == {"compute-bound", "memory-bound"}


def further_precision(question, minilm) -> str:
    """MiniLM converted here with torch: the half precision whose mean-pooled vector strays furthest."""
    sentence = re.search(r"turns “(.+?)” into", question.prompt).group(1)
    encoded = minilm.tokenizer(sentence, return_tensors="pt")
    vectors = {}
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        model = minilm.model if dtype == torch.float32 else copy.deepcopy(minilm.model).to(dtype)
        with torch.no_grad():
            vectors[dtype] = model(**encoded).last_hidden_state[0].double().mean(0)
    gaps = {name: 1 - torch.nn.functional.cosine_similarity(vectors[dtype], vectors[torch.float32], dim=0).item()
            for name, dtype in (("bfloat16", torch.bfloat16), ("float16", torch.float16))}
    return max(gaps, key=gaps.get)


def test_the_predict_question_runs_minilm_in_half_precision(sets, minilm):
    question = the_predict_question(sets[0])
    assert question.reveal().answer == further_precision(question, minilm) == "bfloat16"


def test_the_page_runs_the_predict_question(open_page, minilm):
    questions = checkpoints.questions("gpu", 1)
    at = open_page("gpu")
    _, revealed = predict_on_page(at, "gpu", questions)
    assert revealed == further_precision(the_predict_question(questions), minilm)
