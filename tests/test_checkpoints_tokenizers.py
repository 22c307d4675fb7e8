"""Tokenizers checkpoint: 50 seeds, every answer recomputed here from the libraries
themselves (tiktoken on OpenAI's GPT-2 files, the HuggingFace `tokenizers` WordPiece
model and BPE trainer, each tokenizer file read directly, SentencePiece), never through
lib.tokenization's views."""
import json
import re
from functools import lru_cache

import pytest
import sentencepiece
import tiktoken
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question
from tiktoken.load import data_gym_to_mergeable_bpe_ranks
from tiktoken_ext.openai_public import r50k_pat_str
from tokenizers import Tokenizer, pre_tokenizers, trainers
from tokenizers.models import BPE

from lib import checkpoints, model_loading, model_registry, tokenization

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


@lru_cache(maxsize=None)
def reference_count(key: str):
    """Each bundled tokenizer's own library, counting the text's tokens without special tokens."""
    if key in ("cl100k_base", "o200k_base"):
        return lambda text: len(tokenization.tiktoken_encoding(key).encode(text, disallowed_special=()))
    if key == "gpt2":
        return lambda text: len(gpt2().encode(text))
    if key == "unigram":
        processor = sentencepiece.SentencePieceProcessor(model_file=str(tokenization.glassbox_unigram_model()))
        return lambda text: len(processor.encode(text))
    files = {"wordpiece": model_loading.model_dir("minilm"), "smollm2": model_loading.model_dir("smollm2-135m"),
             "whisper": model_registry.bundled_path("whisper-tiny.en")}
    tokenizer = Tokenizer.from_file(str(files[key] / "tokenizer.json"))
    tokenizer.no_padding()  # MiniLM's file pads every text to 128
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("tokenizers", seed) for seed in SEEDS]


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_the_tokenizer_libraries(seed, sets):
    assert_well_taught(sets[seed])
    gpt2_q, wordpiece_q, bpe_q, language_q, _ = sets[seed]

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

    english, other = re.search(r"\*(.+?)\* / \*(.+?)\*\.", language_q.prompt).groups()
    shown = [int(n) for n in re.search(r"makes (\d+) tokens of the English and (\d+) of", language_q.prompt).groups()]
    assert shown == [len(gpt2().encode(english)), len(gpt2().encode(other))] and shown[1] > shown[0]


@pytest.mark.parametrize("seed", [0, 2])
def test_the_predict_question_tokenizes_live(seed, sets):
    question = the_predict_question(sets[seed])
    text = re.search(r"tokens of \*(.+)\* \(special", question.prompt, re.S).group(1)
    by_name = {tokenization.load(key).name: key for key in tokenization.BUNDLED}
    counts = {name: reference_count(by_name[name])(text) for name in question.options}
    reveal = question.reveal()
    assert reveal.answer == min(counts, key=counts.get)
    assert dict(zip(reveal.table["tokenizer"], reveal.table["tokens"])) == counts


def test_questions_change_with_the_seed(sets):
    prompts = {tuple(q.prompt for q in questions) for questions in sets}
    assert len(prompts) == len(SEEDS)


def test_the_page_runs_the_predict_question(open_page):
    questions = checkpoints.questions("tokenizers", 1)
    question = the_predict_question(questions)
    text = re.search(r"tokens of \*(.+)\* \(special", question.prompt, re.S).group(1)
    by_name = {tokenization.load(key).name: key for key in tokenization.BUNDLED}
    counts = {name: reference_count(by_name[name])(text) for name in question.options}
    at = open_page("tokenizers")
    _, revealed = predict_on_page(at, "tokenizers", questions)
    assert revealed == min(counts, key=counts.get)
