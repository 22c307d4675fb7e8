"""CNN checkpoint: 50 seeds, every answer recomputed here with torch (conv2d, Conv2d, Linear,
max_pool2d on the meta device; conv2d on the bundled picture for the predict question), not lib.cnn."""
import re

import pytest
import torch
import torch.nn.functional as F
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question
from torch import nn

from lib import checkpoints, cnn
from lib.checkpoints import cnn as cnn_checkpoint

SEEDS = range(50)


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("cnn", seed) for seed in SEEDS]


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch(seed, sets):
    assert_well_taught(sets[seed])
    size_q, sharing_q, pool_q, _ = sets[seed]

    size, _, kernel, _, stride, padding, dilation = numbers(size_q.prompt)[:7]
    out = F.conv2d(torch.zeros(1, 1, size, size, device="meta"), torch.zeros(1, 1, kernel, kernel, device="meta"),
                   stride=stride, padding=padding, dilation=dilation)
    assert size_q.answer == out.shape[-1]

    side, channels, filters = map(int, re.search(
        r"(\d+)×\d+ pixels with (\d+) channel\(s\) goes into a 3×3 convolution with (\d+) filters", sharing_q.prompt).groups())
    with torch.device("meta"):
        conv, dense = count(nn.Conv2d(channels, filters, 3, padding=1)), \
            count(nn.Linear(side * side * channels, side * side * filters))
    assert f"{conv:,} parameters" in sharing_q.prompt and f"needs {dense:,}" in sharing_q.prompt
    assert sharing_q.answer.startswith("Each output sees only a 3×3 window")

    side, _, channels = numbers(pool_q.prompt)[:3]
    pooled = F.max_pool2d(torch.zeros(1, channels, side, side, device="meta"), 2)
    assert pool_q.answer.startswith(f"{pooled.shape[-1]}×{pooled.shape[-2]}×{pooled.shape[1]}: the largest value")


def kernel_fate(question) -> str:
    """The predict question's answer from torch's conv2d on the picture, in float64."""
    kernel, image = re.search(r"runs \*\*(.+?)\*\* over \*(.+?)\* in grayscale", question.prompt).groups()
    gray = torch.from_numpy(cnn.to_grayscale(cnn.sample_image(image)))  # (h, w) float64 in [0, 1]
    weights = torch.tensor(cnn.PRESET_KERNELS[kernel], dtype=torch.float64)
    output = F.conv2d(gray[None, None], weights[None, None])[0, 0]
    return cnn_checkpoint.kernel_fate(gray.mean().item(), output.mean().item())


@pytest.mark.parametrize("seed", [0, 2])
def test_the_predict_question_runs_the_kernel_explorer(seed, sets):
    question = the_predict_question(sets[seed])
    assert question.reveal().answer == kernel_fate(question)


def test_kernel_fates_follow_the_sum_of_the_weights():
    """Weights summing to 1 keep the brightness, summing to 0 keep the edges (torch, on Chelsea)."""
    gray = torch.from_numpy(cnn.to_grayscale(cnn.sample_image("Chelsea the cat")))
    for name, kernel in cnn.PRESET_KERNELS.items():
        weights = torch.tensor(kernel, dtype=torch.float64)
        mean = F.conv2d(gray[None, None], weights[None, None]).mean().item()
        expected = gray.mean().item() * weights.sum().item()
        assert mean == pytest.approx(expected, abs=0.02), name


def test_the_page_runs_the_predict_question(open_page):
    questions = checkpoints.questions("cnn", 1)
    at = open_page("cnn")
    _, revealed = predict_on_page(at, "cnn", questions)
    assert revealed == kernel_fate(the_predict_question(questions))


def test_questions_change_with_the_seed(sets):
    assert len({tuple(q.prompt for q in questions) for questions in sets}) == len(SEEDS)
