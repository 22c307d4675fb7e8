"""Tokenizers checkpoint: 50 seeds, every answer recomputed here from the libraries
themselves (tiktoken on OpenAI's GPT-2 files, the HuggingFace `tokenizers` WordPiece
model and BPE trainer) or a formula, never through lib.tokenization."""
import json
import math
import re
from functools import lru_cache

import pytest
import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks
from tiktoken_ext.openai_public import r50k_pat_str
from tokenizers import Tokenizer, pre_tokenizers, trainers
from tokenizers.models import BPE

from lib import checkpoints, model_registry

SEEDS = range(50)


@lru_cache(maxsize=1)
def gpt2() -> tiktoken.Encoding:
    folder = model_registry.bundled_path("gpt2-bpe")
    ranks = data_gym_to_mergeable_bpe_ranks(str(folder / "vocab.bpe"), str(folder / "encoder.json"))
    return tiktoken.Encoding("gpt2-reference", pat_str=r50k_pat_str, mergeable_ranks=ranks, special_tokens={})


@lru_cache(maxsize=1)
def bert_wordpiece() -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(model_registry.bundled_path("minilm") / "tokenizer.json"))
    tokenizer.no_padding()  # MiniLM's file pads every text to 128
    return tokenizer


def first_merges(counts: dict[str, int], merges: int) -> list[tuple[str, str]]:
    """The first merges of the `tokenizers` library's own BPE trainer on this corpus."""
    corpus = " ".join(word for word, n in counts.items() for _ in range(n))
    alphabet = set(corpus) - {" "}
    tokenizer = Tokenizer(BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.train_from_iterator([corpus], trainers.BpeTrainer(vocab_size=len(alphabet) + merges,
                                                                show_progress=False))
    learned = json.loads(tokenizer.to_str())["model"]["merges"]
    return [tuple(m.split(" ") if isinstance(m, str) else m) for m in learned]


def quoted(prompt: str) -> str:
    return re.search(r"`([^`]+)`", prompt).group(1)


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_the_tokenizer_libraries(seed):
    gpt2_q, wordpiece_q, bpe_q, number_q = checkpoints.questions("tokenizers", seed)

    word = quoted(gpt2_q.prompt)
    spaced = "with the space before it" in gpt2_q.prompt
    assert spaced != ("no space before it" in gpt2_q.prompt)
    assert gpt2_q.answer == len(gpt2().encode(" " * spaced + word))

    word = quoted(wordpiece_q.prompt)
    expected = bert_wordpiece().encode(word, add_special_tokens=False).tokens
    assert len(expected) >= 2 and wordpiece_q.answer == " · ".join(expected)
    assert len(set(wordpiece_q.options)) == len(wordpiece_q.options) >= 3

    counts = {w: int(n) for w, n in re.findall(r"`(\w+)` ×(\d+)", bpe_q.prompt)}
    assert len(counts) >= 4
    assert bpe_q.answer == " + ".join(first_merges(counts, 2)[1])
    assert " + ".join(first_merges(counts, 1)[0]) in bpe_q.options  # merge 1 is a distractor

    number = quoted(number_q.prompt)
    assert number.isdigit() and number_q.answer == math.ceil(len(number) / 3)  # digits go in threes
