"""lib/tokenization.py and lib/tokenization_algorithms.py against independent
references: tiktoken, the HuggingFace `tokenizers` trainers and models,
sentencepiece, transformers' GPT-2 byte table, and published token ids."""
import json
import random
import unicodedata

import httpx2
import pytest
import torch
from huggingface_hub.errors import RepositoryNotFoundError
from shipped_configs import config
from tokenizers import Tokenizer, pre_tokenizers, trainers
from tokenizers import models as tok_models

from lessons.widgets.tokenizers import SAMPLES
from lib import hub, model_registry, smollm2_conversion
from lib import tokenization as T
from lib import tokenization_algorithms as A
from lib.markup import code_span

MULTILINGUAL = list(SAMPLES["samples"].values()) + [
    "naïve café — Ünïcödé ß", "Здравствуй, мир!", "こんにちは世界", "👩🏽‍🍳👨‍👩‍👧‍👦 🇫🇷",
    "tabs\tand\r\nnewlines", "literal <|endoftext|> and [CLS] typed by a student"]
BYTE_LEVEL = ["gpt2", "cl100k_base", "o200k_base", "smollm2", "whisper"]


def test_gpt2_ids_equal_tiktoken_gpt2_built_from_the_same_files():
    reference = T.tiktoken_encoding("gpt2")
    for sentence in ["hello world", "The cat chased the mouse across the kitchen.", *MULTILINGUAL]:
        assert T.load("gpt2").encode(sentence).ids == reference.encode(sentence, allowed_special="all"), sentence


@pytest.mark.parametrize("key", ["gpt2", "cl100k_base", "smollm2"])
def test_typed_special_token_is_special_and_still_round_trips(key):
    encoding = T.load(key).encode("end <|endoftext|> here")
    assert [t.piece for t in encoding.tokens if t.special] == ["<|endoftext|>"]
    assert encoding.added_specials == []  # the student typed it: the tokenizer added nothing
    assert encoding.round_trips


@pytest.mark.parametrize("key", ["wordpiece", "gpt2", "cl100k_base", "smollm2", "whisper", "unigram"])
def test_only_the_special_tokens_the_tokenizer_adds_count_as_added(key):
    """Added = what encoding with special tokens has beyond encoding without them, asked of each library."""
    view, text = T.load(key), "hi <|endoftext|> [CLS] there"
    if hasattr(view, "tokenizer"):  # HuggingFace tokenizers
        with_specials, without = (view.tokenizer.encode(text, add_special_tokens=flag).tokens for flag in (True, False))
    else:  # tiktoken and SentencePiece add none unless asked
        with_specials = without = [t.piece for t in view.encode(text).tokens]
    added = list(with_specials)
    for piece in without:
        added.remove(piece)
    assert view.encode(text).added_specials == added
    assert T.summary_table([view.encode(text)], [view])["special tokens added"][0] == (", ".join(added) or "—")


def test_published_ids_for_hello_world():
    # ids documented by OpenAI's tokenizer pages for each vocabulary
    assert T.load("gpt2").encode("hello world").ids == [31373, 995]
    assert T.load("cl100k_base").encode("hello world").ids == [15339, 1917]
    assert T.load("o200k_base").encode("hello world").ids == [24912, 2375]


def test_byte_table_is_gpt2s():
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    assert T.byte_decoder() == {char: byte for byte, char in bytes_to_unicode().items()}
    assert set(T.byte_decoder()) == set(pre_tokenizers.ByteLevel.alphabet())


@pytest.mark.parametrize("key", BYTE_LEVEL)
def test_byte_level_tokenizers_round_trip_and_bytes_add_up(key):
    view = T.load(key)
    for text in MULTILINGUAL:
        encoding = view.encode(text)
        assert encoding.round_trips, (key, text, encoding.decoded)
        assert b"".join(t.raw for t in encoding.tokens) == text.replace("<|endoftext|>", "").encode("utf-8")
        assert encoding.num_unknown == 0


def test_glassbox_unigram_round_trips_through_byte_fallback_but_normalises_spaces():
    view = T.load("unigram")
    assert view.vocab_size == T.UNIGRAM_VOCAB_SIZE
    for text in ["猫在厨房里追老鼠。", "👩🏽‍🍳 emoji", "Die Katze jagte die Maus durch die Küche."]:
        encoding = view.encode(text)
        assert encoding.round_trips and encoding.num_unknown == 0
    assert any(t.piece.startswith("<0x") for t in view.encode("猫").tokens)  # not in an English corpus
    doubled = view.encode("two  spaces")
    assert not doubled.round_trips and doubled.decoded == "two spaces"


def test_glassbox_unigram_changes_multilingual_text_only_by_its_normalisation():
    """SentencePiece's nmt_nfkc: NFKC, and runs of whitespace become one space. Anything else
    (Chinese, Arabic, emoji outside its 4,000 English pieces) comes back through byte fallback."""
    view = T.load("unigram")
    for text in MULTILINGUAL:
        encoding = view.encode(text)
        normalised = unicodedata.normalize("NFKC", " ".join(text.split()))
        assert encoding.decoded == normalised, text
        assert encoding.round_trips == (normalised == text) and encoding.num_unknown == 0
    assert not view.encode(MULTILINGUAL[-2]).round_trips  # tabs and a CR LF become single spaces


def bert_uncased(text: str) -> str:
    """BERT's uncased normaliser, written out: lower-case, then drop accents (combining marks after NFD)."""
    return "".join(ch for ch in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(ch) != "Mn")


def test_wordpiece_changes_multilingual_text_only_by_bert_normalisation_and_unknowns():
    view = T.load("wordpiece")
    for text in MULTILINGUAL[:-1]:  # the last one types "[CLS]", which is kept as the special token
        encoding = view.encode(text)
        assert encoding.decoded.count("[UNK]") == encoding.num_unknown, text
        if encoding.num_unknown == 0:  # decoding re-spaces punctuation, so compare without spaces
            assert "".join(encoding.decoded.split()) == "".join(bert_uncased(text).split()), text
        assert encoding.round_trips == (encoding.decoded == text) and not encoding.round_trips
    assert view.encode("the cat chased the mouse.").round_trips  # already in BERT's normal form
    counts = {name: view.encode(text).num_unknown for name, text in SAMPLES["samples"].items()}
    assert counts["Chinese"] > 0 and counts["Emoji"] > 0 and counts["English"] == counts["German"] == 0


def test_wordpiece_adds_cls_sep_lowercases_and_marks_unknowns():
    view = T.load("wordpiece")
    encoding = view.encode("Naïve 🤖")
    assert encoding.added_specials == ["[CLS]", "[SEP]"]
    assert [t.piece for t in encoding.tokens] == ["[CLS]", "naive", "[UNK]", "[SEP]"]
    assert encoding.num_unknown == 1 and not encoding.round_trips
    assert view.encode("Hello there").decoded == "hello there"
    long_text = "word " * 300  # MiniLM's file pads/truncates to 128; the lesson counts everything
    assert view.encode(long_text).num_tokens == 302


def test_whisper_special_tokens_are_added():
    encoding = T.load("whisper").encode("hi")
    assert encoding.added_specials == ["<|startoftranscript|>", "<|notimestamps|>", "<|endoftext|>"]
    assert encoding.num_text_tokens == 1 and encoding.chars_per_token == 2.0


def test_summary_counts_match_each_library_directly():
    text = "Tokenizers find 'unbelievable' words easy: 12345 apples, 猫, 🤖!"
    views, missing = T.load_all()
    assert missing == []
    summary = T.summary_table(T.compare(text, views), views).set_index("tokenizer")
    smollm2 = Tokenizer.from_file(str(smollm2_conversion.smollm2_dir() / "tokenizer.json"))
    assert summary.loc["SmolLM2", "tokens"] == len(smollm2.encode(text).ids)
    assert summary.loc["o200k_base", "tokens"] == len(T.tiktoken_encoding("o200k_base").encode_ordinary(text))
    assert summary.loc["Glassbox unigram", "tokens"] == len(T.load("unigram").processor.encode(text))
    assert summary.loc["GPT-2", "vocabulary"] == config("gpt2")["vocab_size"]
    assert summary.loc["cl100k_base", "round trip"] == "exact"
    wordpiece = T.load("wordpiece").tokenizer
    unknown = [ch for ch in "猫🤖" if wordpiece.token_to_id(ch) is None]
    assert summary.loc["WordPiece (MiniLM/BERT)", "unknown"] == len(unknown) == 2


def test_language_costs_are_relative_to_english():
    views = [T.load("gpt2"), T.load("o200k_base")]
    costs = T.language_costs(SAMPLES["samples"], views, SAMPLES["baseline"]).set_index(["tokenizer", "sample"])
    assert costs.loc[("GPT-2", "English"), "× English"] == 1.0
    chinese = T.tiktoken_encoding("gpt2").encode_ordinary(SAMPLES["samples"]["Chinese"])
    assert costs.loc[("GPT-2", "Chinese"), "tokens"] == len(chinese)
    english = costs.loc[("GPT-2", "English"), "tokens"]
    assert costs.loc[("GPT-2", "Chinese"), "× English"] == round(len(chinese) / english, 2)
    assert costs["unknown"].sum() == 0  # byte-level: nothing is unknown
    names, sample, ratio = T.widest_gap(costs.reset_index(), SAMPLES["translations"])
    translated = costs.reset_index().query("sample in @SAMPLES['translations']")
    assert ratio == translated["× English"].max() and sample in SAMPLES["translations"]
    assert names == translated[translated["× English"] == ratio]["tokenizer"].tolist()
    gpt2_whisper = T.language_costs(SAMPLES["samples"], [T.load("gpt2"), T.load("whisper")], SAMPLES["baseline"])
    assert T.widest_gap(gpt2_whisper, SAMPLES["translations"])[0] == ["GPT-2", "Whisper tiny.en"]  # same vocabulary
    wordpiece = T.language_costs(SAMPLES["samples"], [T.load("wordpiece")], SAMPLES["baseline"]).set_index("sample")
    emoji = T.load("wordpiece").tokenizer.encode(SAMPLES["samples"]["Emoji"], add_special_tokens=False)
    assert wordpiece.loc["Emoji", "unknown"] == emoji.tokens.count("[UNK]") > 0


def test_text_cap_and_invalid_utf8_upload():
    text, cut = T.cap_text("x" * 1_000_000)
    assert len(text) == T.MAX_TEXT_CHARS and cut
    assert T.cap_text("short") == ("short", False)
    assert T.decode_upload("héllo".encode()) == "héllo"
    with pytest.raises(ValueError, match="not UTF-8.*0xff at position 2"):
        T.decode_upload(b"ok\xff\xfe")


def test_chips_escape_student_text_and_show_ids_and_bytes():
    hostile = T.Token(7, "x", b'<img src=x onerror="alert(1)">')
    special = T.Token(8, '"><script>alert(1)</script>', b"", special=True)
    chips = T.chips_html(T.Encoding("test", "", (hostile, special), ""))
    assert "<img" not in chips and "<script>" not in chips
    assert "&lt;img␣src=x␣onerror=&quot;alert(1)&quot;&gt;" in chips
    assert "&quot;&gt;&lt;script&gt;" in chips
    encoding = T.load("gpt2").encode("a é")
    chips = T.chips_html(encoding)
    assert chips.count('class="gb-chip"') == encoding.num_tokens == 2
    assert 'title="id 64 · bytes 61"' in chips and "bytes 20 c3 a9" in chips  # é is two bytes
    assert "… and 5 more tokens" in T.chips_html(T.load("gpt2").encode("a b c d e f g h"), limit=3)


MALICIOUS = ["[click](https://evil.example)", "a`b``c", "`lead and trail`", " spaced ", "www.evil.example",
             "$x^2$ :red[red] :material/home: **bold** <b>tag</b>", "one\n\n# two\r\rthree\r\n---"]


def markdown_inline(markdown: str) -> list:
    """The inline tokens (text, code spans, links…) CommonMark makes of `markdown`, read with
    markdown-it, an independent parser."""
    from markdown_it import MarkdownIt

    return [token for block in MarkdownIt("commonmark").parse(markdown) if block.type == "inline"
            for token in block.children]


@pytest.mark.parametrize("text", MALICIOUS)
def test_code_span_shows_any_text_as_one_code_span(text):
    (span,) = markdown_inline(code_span(text))
    assert span.type == "code_inline"  # Streamlit's :icons:, $maths$ and bare-URL links skip code spans too
    assert span.content == " ".join(text.splitlines())


def test_wordpiece_chips_keep_the_continuation_mark():
    tokens = T.load("wordpiece").encode("tokenizers").tokens
    assert [T.chip_label(t) for t in tokens] == ["[CLS]", "token", "##izer", "##s", "[SEP]"]
    assert tokens[2].raw == b"izer"


def test_partial_utf8_tokens_are_shown_as_bytes():
    tokens = T.load("gpt2").encode("猫").tokens
    assert [T.chip_label(t) for t in tokens] == ["".join(f"\\x{b:02x}" for b in t.raw) for t in tokens]


# --- the algorithms, against the `tokenizers` library ----------------------------------------

def trainer_merges(corpus: str, num_merges: int) -> list[tuple[str, str]]:
    alphabet = len({ch for word in corpus.split() for ch in word})
    tokenizer = Tokenizer(tok_models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.train_from_iterator([corpus], trainers.BpeTrainer(vocab_size=alphabet + num_merges,
                                                                show_progress=False))
    return [tuple(m) for m in json.loads(tokenizer.to_str())["model"]["merges"]]


def random_corpus(seed: int) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choice("abcd") for _ in range(rng.randint(1, 6))) for _ in range(30))


@pytest.mark.parametrize("corpus", [A.SAMPLE_BPE_CORPUS, "aaa aaaa aa b ab ba abab",
                                    T.bundled_corpus()[:3000], *map(random_corpus, range(10))])
def test_bpe_step_through_reproduces_the_trainers_merges(corpus):
    steps = A.bpe_merge_steps(corpus, 30)
    assert [s.pair for s in steps] == trainer_merges(corpus, 30)


def test_bpe_steps_show_counts_and_segmentations():
    steps = A.bpe_merge_steps(A.SAMPLE_BPE_CORPUS, 3)
    first = steps[0]
    assert first.pair_counts.iloc[0]["count"] == first.count
    # 'es' occurs in newest (6) and widest (3)
    assert first.pair == ("e", "s") and first.count == 6 + 3
    assert steps[1].pair == ("es", "t")
    pieces = steps[1].words.set_index("word")["pieces"]
    assert pieces["newest"] == "n e w est" and pieces["low"] == "l o w"
    assert A.bpe_merge_steps("a b c", 5) == []


def test_merge_sentence_explains_ties():
    steps = A.bpe_merge_steps(A.SAMPLE_BPE_CORPUS, 5)
    # e+s and s+t both occur 9 times (newest ×6, widest ×3): e entered the vocabulary before s
    assert steps[0].tied == (("s", "t"),)
    first = A.merge_sentence(1, steps[0])
    assert first.startswith("Merge 1: the pair **`e` + `s`** occurs **9** times")
    assert "The pair `s` + `t` occurs just as often" in first and "Unicode order" in first
    assert steps[1].tied == () and "tie" not in A.merge_sentence(2, steps[1])
    assert set(steps[4].tied) == {("n", "e"), ("w", "est")}
    assert "The pairs `n` + `e`, `w` + `est` occur just as often" in A.merge_sentence(5, steps[4])
    for step in steps:  # every pair named as tied really has the winning count
        counts = dict(zip(step.pair_counts["pair"], step.pair_counts["count"]))
        assert {f"{a} + {b}" for a, b in step.tied} == {p for p, n in counts.items() if n == step.count} \
            - {f"{step.pair[0]} + {step.pair[1]}"}
    hostile = A.bpe_merge_steps("a`b a`b a`b ``](x) ``](x) [c](https://evil.example)", 8)  # a corpus from a link
    for number, step in enumerate(hostile, 1):
        spans = [t.content for t in markdown_inline(A.merge_sentence(number, step)) if t.type == "code_inline"]
        assert spans[:3] == [*step.pair, "".join(step.pair)]
        assert not [t for t in markdown_inline(A.merge_sentence(number, step)) if t.type == "link_open"]


def test_wordpiece_greedy_matches_minilms_tokenizer():
    view = T.load("wordpiece")
    text = "Tokenization is unbelievably useful; Glassbox shows naïve café-goers 🤖 why."
    table = A.wordpiece_walkthrough(view.tokenizer, text)
    expected = view.tokenizer.encode(text, add_special_tokens=False).tokens
    assert " ".join(table["pieces"]).split() == expected
    pieces, lookups = A.wordpiece_greedy("unbelievably", view.tokenizer.get_vocab())
    assert lookups[0].candidate == "unbelievably" and not lookups[0].found
    assert pieces[0] == "un" and all(p.startswith("##") for p in pieces[1:])
    assert A.wordpiece_greedy("x" * 101, {"x"}) == (["[UNK]"], [])


def test_metaspace_matches_sentencepiece_and_best_segmentation_scores_highest():
    sp = T.load("unigram")
    text = "The  quick brown\nfox"
    assert "".join(sp.processor.encode_as_pieces(text)) == A.metaspace(text) == "▁The▁quick▁brown▁fox"
    cuts = sp.segmentations("unbelievable")
    assert cuts.iloc[0]["pieces"].split(" | ") == sp.processor.encode_as_pieces("unbelievable")
    assert cuts["log-probability"].iloc[0] == cuts["log-probability"].max()
    best = sum(sp.processor.get_score(i) for i in sp.processor.encode("unbelievable"))
    assert cuts["log-probability"].iloc[0] == pytest.approx(best)


# --- training -----------------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", T.TRAIN_ALGORITHMS)
def test_train_each_algorithm(algorithm):
    corpus = T.bundled_corpus()[:60_000]
    tokenizer = T.train(corpus, algorithm, 500)
    assert tokenizer.get_vocab_size() <= 500
    view = T.trained_view(tokenizer.to_str(), algorithm)
    text = "def function(argument): return None"
    assert view.encode(text).ids == tokenizer.encode(text).ids
    if algorithm == "BPE":  # byte-level: everything round-trips, nothing is unknown
        for sample in MULTILINGUAL:
            assert view.encode(sample).round_trips
    if algorithm == "WordPiece":
        assert any(token.startswith("##") for token in tokenizer.get_vocab())
        assert view.encode("猫").num_unknown == 1
    if algorithm == "Unigram":
        assert all(t.piece.startswith("▁") for t in view.encode(" the").tokens[:1])


@pytest.mark.parametrize("algorithm", T.TRAIN_ALGORITHMS)
def test_training_progress_counts_every_line_and_changes_nothing(algorithm):
    corpus = T.bundled_corpus()[:30_000]
    progress = T.TrainingProgress(lines=0)
    assert progress.fraction == 0.0
    followed, plain = T.train(corpus, algorithm, 400, progress), T.train(corpus, algorithm, 400)
    assert progress.read == progress.lines == len(corpus.splitlines()) and progress.fraction == 1.0
    assert followed.get_vocab_size() == plain.get_vocab_size()
    # the trainers break ties between equally frequent candidates in hash order: two plain runs of the
    # WordPiece trainer already differ in a few entries, and Unigram's scores differ in the last digits
    if algorithm == "BPE":
        assert followed.to_str() == plain.to_str()
    if algorithm == "Unigram":
        assert set(followed.get_vocab()) == set(plain.get_vocab())


def test_algorithm_is_read_from_a_tokenizer_file():
    def algorithm(path):
        return T.algorithm_of(json.loads(Tokenizer.from_file(str(path)).to_str()))

    assert algorithm(model_registry.bundled_path("minilm") / "tokenizer.json") == "WordPiece"
    assert algorithm(smollm2_conversion.smollm2_dir() / "tokenizer.json") == "byte-level BPE"
    assert algorithm(model_registry.bundled_path("whisper-tiny.en") / "tokenizer.json") == "byte-level BPE"
    unigram = json.loads(T.train("the cat sat on the mat", "Unigram", 300).to_str())
    assert T.algorithm_of(unigram) == "unigram (SentencePiece)"
    # Llama-style: BPE over ▁-marked text with byte fallback
    llama = {"model": {"type": "BPE", "byte_fallback": True}, "decoder": {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}]},
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁"}}
    assert T.algorithm_of(llama) == "BPE (SentencePiece with byte fallback)"


def test_train_rejects_unknown_algorithm():
    with pytest.raises(ValueError, match="Unknown algorithm"):
        T.train("some text", "Morfessor", 500)


# --- embeddings ---------------------------------------------------------------------------

def test_embedding_rows_are_rows_of_the_table(minilm):
    ids = T.load("wordpiece").encode("unbelievable tokenizers").ids
    with minilm.lock:
        assert ids == minilm.tokenizer("unbelievable tokenizers")["input_ids"]
        rows = T.embedding_rows(minilm.model, ids)
    table = minilm.model.embeddings.word_embeddings.weight
    assert tuple(table.shape) == (minilm.model.config.vocab_size, minilm.model.config.hidden_size) == (
        len(minilm.tokenizer), config("all-MiniLM-L6-v2")["hidden_size"])
    assert rows.shape == (len(ids), table.shape[1])
    assert torch.equal(torch.from_numpy(rows), table[ids].detach())


# --- the Hub --------------------------------------------------------------------------------

def test_hub_ids_are_validated_and_offline_is_explained():
    with pytest.raises(model_registry.ModelUnavailable, match="not a valid"):
        T.load_hub_tokenizer("../etc/passwd")
    with pytest.raises(model_registry.ModelUnavailable, match="not reachable"):
        T.load_hub_tokenizer("google-t5/t5-small")  # tests run with HF_HUB_OFFLINE=1


def fake_hub(monkeypatch, files: dict):
    """A Hub that answers with `files` (name -> text, or an exception to raise)."""
    import huggingface_hub

    def download(repo_id, filename, **_):
        answer = files[filename]
        if isinstance(answer, Exception):
            raise answer
        path = fake_hub.folder / filename
        path.write_text(answer)
        return str(path)

    monkeypatch.setattr(hub, "hub_reachable", lambda *a, **k: True)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)


def test_hub_tokenizer_missing_repo_remote_code_and_success(monkeypatch, tmp_path):
    fake_hub.folder = tmp_path
    missing = RepositoryNotFoundError("404", response=httpx2.Response(404, request=httpx2.Request("GET", "https://hub")))
    fake_hub(monkeypatch, {"tokenizer_config.json": missing})
    with pytest.raises(model_registry.ModelUnavailable, match="does not exist"):
        T.load_hub_tokenizer("nobody/no-such-model")

    fake_hub(monkeypatch, {"tokenizer_config.json": json.dumps({"auto_map": {"AutoTokenizer": "x.Tok"}})})
    with pytest.raises(model_registry.ModelUnavailable, match="trust_remote_code"):
        T.load_hub_tokenizer("someone/custom-code")

    local = (model_registry.bundled_path("minilm") / "tokenizer.json").read_text()
    fake_hub(monkeypatch, {"tokenizer_config.json": "{}", "tokenizer.json": local})
    view = T.load_hub_tokenizer("sentence-transformers/all-MiniLM-L6-v2")
    assert view.name == "sentence-transformers/all-MiniLM-L6-v2" and view.algorithm == "WordPiece"
    assert view.encode("hello").ids == [101, 7592, 102]


def test_a_tokenizer_that_cannot_load_is_reported_not_fatal(monkeypatch):
    def not_here():
        raise model_registry.ModelUnavailable("SmolLM2 is not installed, and the HuggingFace Hub is not reachable")

    monkeypatch.setitem(T.BUNDLED, "smollm2", not_here)
    T.load.cache_clear()
    views, missing = T.load_all()
    assert "SmolLM2" not in [v.name for v in views] and len(views) == len(T.BUNDLED) - 1
    assert missing == ["SmolLM2 is not installed, and the HuggingFace Hub is not reachable"]
