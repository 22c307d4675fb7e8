"""Parameters checkpoint: 50 seeds, every answer recomputed here with torch and transformers modules
built on the meta device and their tensors grouped by name, not with lib.parameters."""
import re
from functools import lru_cache

import pytest
import torch
import transformers
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question
from torch import nn

from lib import checkpoints, parameters

SEEDS = range(50)


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@lru_cache(maxsize=None)
def gpt2_parts(hidden: int, heads: int = 8) -> dict[str, int]:
    """A 12-layer GPT-2 of width `hidden` and a 32,000-token vocabulary, counted by tensor name."""
    config = transformers.GPT2Config(n_embd=hidden, n_head=heads, n_layer=12, vocab_size=32_000, n_positions=1024,
                                    bos_token_id=0, eos_token_id=0)
    with torch.device("meta"):
        model = transformers.GPT2Model(config)
    return part_sizes(model)


def part(name: str) -> str:
    """Which part of a model a tensor belongs to, read from its name in transformers."""
    name = name.lower()
    if "norm" in name or name.startswith("ln_") or ".ln_" in name:
        return "layer norms"
    if "embed" in name or name.split(".")[0] in ("wte", "wpe", "shared"):
        return "the embeddings"
    if "attn" in name or "attention" in name:
        return "attention"
    if any(k in name for k in ("mlp", "intermediate", "output.dense", "ffn", "densereludense", "lin1", "lin2")):
        return "feed-forward"
    return "other"  # the pooler


def part_sizes(model: nn.Module) -> dict[str, int]:
    sizes = {}
    for name, tensor in model.named_parameters():  # a tied tensor is listed once
        sizes[part(name)] = sizes.get(part(name), 0) + tensor.numel()
    return sizes


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("parameters", seed) for seed in SEEDS]


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch(seed, sets):
    assert_well_taught(sets[seed])
    attention_q, wider_q, heads_q, tied_q, _ = sets[seed]
    hidden, heads = numbers(attention_q.prompt)[:2]
    with torch.device("meta"):
        assert attention_q.answer == count(nn.MultiheadAttention(hidden, heads))

    hidden = numbers(re.search(r"from H = (\d+)", wider_q.prompt).group(1))[0]
    small, big = gpt2_parts(hidden), gpt2_parts(2 * hidden)
    assert 3.9 < big["attention"] / small["attention"] < 4 and 3.9 < big["feed-forward"] / small["feed-forward"] < 4
    assert big["the embeddings"] / small["the embeddings"] == 2
    assert wider_q.answer.startswith("The H×H matrices in the layers about quadruple")

    hidden, few, many = numbers(re.search(r"H = (\d+) goes from (\d+) to (\d+)", heads_q.prompt).group(0))
    assert gpt2_parts(hidden, few)["attention"] == gpt2_parts(hidden, many)["attention"]
    assert heads_q.answer.startswith("Nothing")

    saved = numbers(re.search(r"\*\*([\d,]+)\*\*", tied_q.solution).group(1))[0]
    key = "gpt2" if "GPT-2" in tied_q.prompt else "SmolLM2-135M"
    model = built(key)
    assert saved == sum(p.numel() for _, p in model.named_parameters(remove_duplicate=False)) - count(model)
    assert tied_q.answer.startswith("The LM head reuses the embedding matrix")


@lru_cache(maxsize=None)
def built(key: str) -> nn.Module:
    known = parameters.KNOWN_BY_KEY[key]
    raw = parameters.shipped_config(key)
    config = transformers.AutoConfig.for_model(raw["model_type"], **{k: v for k, v in raw.items() if k != "model_type"})
    with torch.device("meta"):
        return getattr(transformers, known.model_class)(config)


def biggest_part(question) -> str:
    title = re.search(r"part of \*\*(.+?)\*\* holds", question.prompt).group(1)
    key = next(k.key for k in parameters.KNOWN if k.title == title)
    sizes = {p: n for p, n in part_sizes(built(key)).items() if p != "other"}
    return max(sizes, key=sizes.get)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_predict_question_counts_the_real_model(seed, sets):
    question = the_predict_question(sets[seed])
    reveal = question.reveal()
    assert reveal.answer in question.options and reveal.answer == biggest_part(question)


def test_the_page_runs_the_predict_question(open_page):
    questions = checkpoints.questions("parameters", 1)
    at = open_page("parameters", timeout=180)
    _, revealed = predict_on_page(at, "parameters", questions)
    assert revealed == biggest_part(the_predict_question(questions))


def test_questions_change_with_the_seed(sets):
    assert len({tuple(q.prompt for q in questions) for questions in sets}) == len(SEEDS)
