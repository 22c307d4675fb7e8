"""CNN checkpoint: 50 seeds, every answer recomputed here with torch (conv2d, Conv2d,
Linear, a forward pass on the meta device), not lib.cnn."""
import ast
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lib import checkpoints

SEEDS = range(50)


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch(seed):
    size_q, conv_q, cell_q, dense_q, flatten_q = checkpoints.questions("cnn", seed)

    size, _, kernel, _, stride, padding, dilation = numbers(size_q.prompt)[:7]
    out = F.conv2d(torch.zeros(1, 1, size, size, device="meta"), torch.zeros(1, 1, kernel, kernel, device="meta"),
                   stride=stride, padding=padding, dilation=dilation)
    assert size_q.answer == out.shape[-1] == out.shape[-2]

    kernel, _, in_channels, out_channels = numbers(conv_q.prompt)[:4]
    with torch.device("meta"):
        assert conv_q.answer == count(nn.Conv2d(in_channels, out_channels, kernel))

    image, kernel = (torch.tensor(ast.literal_eval(m), dtype=torch.float64)
                     for m in re.findall(r"`(.*?)`", cell_q.prompt))
    row, col = map(int, re.search(r"row (\d+), column (\d+)", cell_q.prompt).groups())
    assert cell_q.answer == F.conv2d(image[None, None], kernel[None, None])[0, 0, row, col].item()

    side, channels, filters = map(int, re.search(r"image of (\d+)×\d+ pixels with (\d+) channel.* with (\d+) filters",
                                                 dense_q.prompt).groups())
    with torch.device("meta"):
        assert dense_q.answer == count(nn.Linear(side * side * channels, side * side * filters))

    side, layers, filters = map(int, re.search(r"image of (\d+)×\d+ pixels goes through (\d+) block.*with (\d+) "
                                               r"filters", flatten_q.prompt).groups())
    x, c_in = torch.zeros(1, 1, side, side, device="meta"), 1
    for c_out in (filters * 2**i for i in range(layers)):
        x = F.max_pool2d(F.relu(F.conv2d(x, torch.zeros(c_out, c_in, 3, 3, device="meta"), padding=1)), 2)
        c_in = c_out
    assert flatten_q.answer == x.flatten(1).shape[1]


def test_prompts_vary_with_the_seed():
    prompts = {seed: [q.prompt for q in checkpoints.questions("cnn", seed)] for seed in SEEDS}
    for position in range(5):
        assert len({p[position] for p in prompts.values()}) > 10
