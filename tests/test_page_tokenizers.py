"""AppTest of the tokenizers lesson: real counts for the default text, the
step-throughs, training, and every kind of bad input the issue lists."""
import json
import threading

import httpx2
import pytest
import sentencepiece
import streamlit as st
from accessibility import chart_problems, widget_label_problems
from huggingface_hub.errors import RepositoryNotFoundError
from shipped_configs import config
from test_tokenizers import fake_hub, markdown_inline
from tokenizers import Tokenizer

from lessons.widgets import tokenizers as tui
from lib import checkpoints, model_registry, progress, smollm2_conversion
from lib import tokenization as T
from lib import tokenization_algorithms as A

pytestmark = pytest.mark.slow
PAGE_TIMEOUT = 180


@pytest.fixture
def page(open_page):
    app = open_page("tokenizers", timeout=PAGE_TIMEOUT)
    assert not app.exception, app.exception
    return app


def reference_counts(text: str) -> dict[str, int]:
    """Token counts straight from each library, without lib.tokenization's views."""
    def hf(path):
        tokenizer = Tokenizer.from_file(str(path))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return len(tokenizer.encode(text).ids)

    unigram = sentencepiece.SentencePieceProcessor(model_file=str(T.glassbox_unigram_model()))
    return {"WordPiece (MiniLM/BERT)": hf(model_registry.bundled_path("minilm") / "tokenizer.json"),
            "GPT-2": len(T.tiktoken_encoding("gpt2").encode(text)),
            "cl100k_base": len(T.tiktoken_encoding("cl100k_base").encode(text)),
            "o200k_base": len(T.tiktoken_encoding("o200k_base").encode(text)),
            "SmolLM2": hf(smollm2_conversion.smollm2_dir() / "tokenizer.json"),
            "Whisper tiny.en": hf(model_registry.bundled_path("whisper-tiny.en") / "tokenizer.json"),
            "Glassbox unigram": len(unigram.encode(text))}


def table_with(app, column: str):
    """The first dataframe on the page that has `column` (AppTest dataframes carry no key)."""
    return next(d.value for d in app.dataframe if column in d.value.columns)


def summary(app):
    return table_with(app, "chars per token").set_index("tokenizer")


def test_default_text_shows_seven_tokenizers_with_correct_counts(page):
    text = page.text_area(key="tokenizers_text").value
    table = summary(page)
    assert len(table) >= 6
    assert table["tokens"].to_dict() == reference_counts(text)
    whisper = "<|startoftranscript|>, <|notimestamps|>, <|endoftext|>"
    assert table.loc["Whisper tiny.en", "special tokens added"] == whisper
    chips = [h.proto.body for h in page.get("html") if "gb-chips" in h.proto.body]
    assert len(chips) >= len(table)
    minilm = config("all-MiniLM-L6-v2")  # the shipped config of the encoder the page loads
    assert page.metric[0].value == f"{minilm['vocab_size']:,} × {minilm['hidden_size']:,}"


def test_ids_look_up_rows_of_minilms_embedding_matrix(page, minilm):
    lookup = table_with(page, "row = id")
    text = page.text_area(key="tokenizers_text").value
    bert = Tokenizer.from_file(str(model_registry.bundled_path("minilm") / "tokenizer.json"))
    bert.no_padding()  # the file pads to 128
    ids = bert.encode(text).ids
    assert lookup["row = id"].tolist() == ids[:40]
    assert lookup["token"].tolist()[:2] == ["[CLS]", "token"]
    weights = minilm.model.get_input_embeddings().weight.detach().numpy()  # (vocab_size, hidden_size)
    for row in lookup.itertuples(index=False):
        assert list(row[2:]) == pytest.approx(weights[row[1], :6], abs=6e-5)  # shown to 4 decimals


def test_bpe_and_wordpiece_step_throughs(page):
    page.slider(key="tokenizers_bpe_step").set_value(3).run()
    third = A.bpe_merge_steps(A.SAMPLE_BPE_CORPUS, 3)[2]
    merge_text = next(m.value for m in page.markdown if m.value.startswith("Merge 3"))
    assert f"`{third.pair[0]}` + `{third.pair[1]}`" in merge_text and f"**{third.count}**" in merge_text
    assert third.pair == ("l", "o") and "The pair `o` + `w` occurs just as often" in merge_text  # the tie is explained
    page.text_input(key="tokenizers_words").input("unaffable").run()
    row = table_with(page, "lookups").iloc[0]
    expected = T.load("wordpiece").tokenizer.encode("unaffable", add_special_tokens=False).tokens
    assert row["pieces"].split() == expected


def test_gap_sentence_names_every_tokenizer_that_ties():
    assert tui.gap_sentence(["GPT-2"], "Arabic", 3.22) == ("The widest gap: **`GPT-2`** needs **3.22×** as many "
                                                           "tokens for the Arabic sentence as for the English one.")
    assert tui.gap_sentence(["A", "B", "C"], "Chinese", 2.0).startswith("The widest gap: **`A`**, **`B`** and "
                                                                        "**`C`** need **2×**")


def test_pair_chart_marks_the_merge_and_the_pairs_that_lost_the_tie():
    first = A.bpe_merge_steps(A.SAMPLE_BPE_CORPUS, 1)[0]
    bars = {trace.name: list(trace.x) for trace in tui.pair_counts_chart(first).data}
    assert bars["merged"] == ["e + s"] and bars["as frequent, lost the tie"] == ["s + t"]
    assert "e + s" not in bars["not yet"] and len(bars["not yet"]) == min(15, len(first.pair_counts)) - 2


def test_html_in_text_is_escaped_and_empty_text_warns(page):
    page.text_area(key="tokenizers_text").input("<b>bold</b>").run()
    assert not page.exception
    chips = " ".join(h.proto.body for h in page.get("html"))
    assert "&lt;/" in chips and "&gt;" in chips  # GPT-2 cuts it as < b > bold </ b >
    assert "<b>" not in chips and "</b>" not in chips
    page.text_area(key="tokenizers_text").input("").run()
    assert any("Type some text" in w.value for w in page.warning)


def test_one_megabyte_paste_is_capped_with_a_message(page):
    page.text_area(key="tokenizers_text").input("word " * 200_000).run()
    assert not page.exception
    assert any("1,000,000 characters" in w.value and "10,000" in w.value for w in page.warning)
    assert summary(page).loc["GPT-2", "tokens"] == len(T.tiktoken_encoding("gpt2").encode(("word " * 2000)))
    assert len(table_with(page, "row = id")) == 40
    assert any("ids (the first 40 of 512)" in m.value for m in page.markdown)  # MiniLM reads at most 512


def test_bad_hub_ids_give_messages(page):
    page.text_input(key="tokenizers_hub_id").input("not a valid id!!").run()
    assert any("not a valid" in w.value for w in page.warning)
    page.text_input(key="tokenizers_hub_id").input("nobody-xyz/no-such-tokenizer").run()
    assert any("not reachable" in w.value for w in page.warning)
    page.text_input(key="tokenizers_hub_id").input("").run()
    assert not page.exception


def test_hub_ids_that_do_not_exist_or_need_remote_code_are_refused(page, monkeypatch, tmp_path):
    fake_hub.folder = tmp_path  # a Hub that answers, as when the server is online
    missing = RepositoryNotFoundError("404", response=httpx2.Response(404, request=httpx2.Request("GET", "https://hub")))
    fake_hub(monkeypatch, {"tokenizer_config.json": missing})
    page.text_input(key="tokenizers_hub_id").input("nobody-xyz/no-such-tokenizer").run()
    assert not page.exception, page.exception
    assert any("`nobody-xyz/no-such-tokenizer` does not exist on the Hub" in w.value for w in page.warning)
    assert len(summary(page)) == len(T.BUNDLED)  # the bundled ones are still compared

    fake_hub(monkeypatch, {"tokenizer_config.json": json.dumps({"auto_map": {"AutoTokenizer": ["x.Tok", None]}})})
    page.text_input(key="tokenizers_hub_id").input("someone/custom-code-tokenizer").run()
    assert not page.exception, page.exception
    assert any("refuses `trust_remote_code`" in w.value for w in page.warning)
    assert len(summary(page)) == len(T.BUNDLED)

    bert = (model_registry.bundled_path("minilm") / "tokenizer.json").read_text()
    fake_hub(monkeypatch, {"tokenizer_config.json": "{}", "tokenizer.json": bert})
    page.text_input(key="tokenizers_hub_id").input("someone/bert-tokenizer-copy").run()
    table = summary(page)
    assert table.loc["someone/bert-tokenizer-copy", "algorithm"] == "WordPiece"
    assert table.loc["someone/bert-tokenizer-copy", "tokens"] == table.loc["WordPiece (MiniLM/BERT)", "tokens"]


def test_training_progress_bar_follows_the_trainer(monkeypatch):
    """The bar shows the share of lines read, then the seconds spent learning (Streamlit in bare mode).
    The fake trainer waits until the page has shown each stage, so no timing can make this flaky."""
    shown, stages = [], {"4 of 10 lines": threading.Event(), "learning the vocabulary": threading.Event()}

    class Bar:
        def progress(self, value, text):
            shown.append((value, text))
            for words, seen in stages.items():
                if words in text:
                    seen.set()

    def staged_train(corpus, algorithm, vocab_size, progress):
        progress.lines = 10
        for read, stage in zip((4, 10), stages.values()):
            progress.read = read
            assert stage.wait(timeout=30)
        return "trained"

    monkeypatch.setattr(st, "progress", lambda value, text: Bar())
    monkeypatch.setattr(T, "train", staged_train)
    tokenizer, seconds = tui.train_with_progress("corpus", "BPE", 500)
    assert tokenizer == "trained" and seconds > 0
    assert (0.4, "Reading the corpus: 4 of 10 lines") in shown
    assert any(v == 1.0 and t.startswith("All 10 lines read; learning the vocabulary…") for v, t in shown)

    def broken(*_args):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(T, "train", broken)
    assert tui.train_with_progress("corpus", "BPE", 500)[0] is None


def test_invalid_utf8_upload_is_refused(page):
    page.radio(key="tokenizers_corpus_source").set_value("Upload a text file").run()
    page.file_uploader(key="tokenizers_upload").upload("latin1.txt", "café".encode("latin-1"), "text/plain")
    page.run()
    assert any("not UTF-8" in e.value for e in page.error)
    assert "tokenizers_train" not in [b.key for b in page.button]


def test_train_on_pasted_text_and_compare(page):
    page.text_area(key="tokenizers_text").input("def tokenize(text): return text.split()").run()
    page.radio(key="tokenizers_corpus_source").set_value("Paste text").run()
    corpus = T.bundled_corpus()[:40_000]
    page.text_area(key="tokenizers_corpus_text").input(corpus).run()
    page.radio(key="tokenizers_algorithm").set_value("BPE").run()
    page.slider(key="tokenizers_vocab_size").set_value(500).run()
    page.button(key="tokenizers_train").click().run()
    assert not page.exception, page.exception
    trained = page.session_state["tokenizers_trained"]
    table = summary(page)
    assert "Your BPE" in table.index and table.loc["Your BPE", "vocabulary"] <= 500
    reference = Tokenizer.from_str(trained["json"]).encode("def tokenize(text): return text.split()")
    assert table.loc["Your BPE", "tokens"] == len(reference.ids)
    assert page.get("download_button")


def test_language_gap_is_computed_and_classroom_mode_hides_the_hub_box(page):
    from lessons.widgets.tokenizers import SAMPLES

    costs = T.language_costs(SAMPLES["samples"], T.load_all()[0], SAMPLES["baseline"])
    translated = costs[costs["sample"].isin(SAMPLES["translations"])]
    widest = translated["× English"].max()
    sentence = next(m.value for m in page.markdown if m.value.startswith("The widest gap"))
    assert f"**{widest:g}×**" in sentence and widest > 1
    tied = translated[translated["× English"] == widest]
    for name in tied["tokenizer"]:  # GPT-2 and Whisper share a vocabulary, so they tie
        assert f"**`{name}`**" in sentence
    assert f"the {tied['sample'].iloc[0]} sentence" in sentence
    order = list(dict.fromkeys(costs["tokenizer"]))
    assert list(table_with(page, "Arabic").index) == order  # the table lists tokenizers as the chart does
    wordpiece = costs[(costs["tokenizer"] == "WordPiece (MiniLM/BERT)") & (costs["unknown"] > 0)]
    note = next(i.value for i in page.info if i.value.startswith("Unknown tokens in the samples"))
    for row in wordpiece.itertuples():
        assert f"{row.unknown} of {row.tokens} for {row.sample}" in note
    assert not wordpiece.empty and "GPT-2" not in note
    page.sidebar.toggle(key="classroom").set_value(True).run()
    assert not page.exception
    assert "tokenizers_hub_id" not in [t.key for t in page.text_input]


def test_a_corpus_with_a_single_merge_needs_no_slider(page):
    page.text_area(key="tokenizers_bpe_corpus").input("ab ab").run()
    assert not page.exception, page.exception
    assert any(m.value.startswith("Merge 1: the pair **`a` + `b`**") for m in page.markdown)
    assert "tokenizers_bpe_step" not in [s.key for s in page.slider]
    page.text_area(key="tokenizers_bpe_corpus").input("a b c").run()
    assert any("at least one word of two or more characters" in w.value for w in page.warning)


# --- the classroom layer: links, presets, checkpoint, accessibility ----------------------

def test_a_shared_link_restores_the_view(page, open_page):
    page.text_area(key="tokenizers_text").input("The cat sat on the mat, 42 times.")
    page.text_input(key="tokenizers_words").input("unaffable cats")
    page.slider(key="tokenizers_bpe_step").set_value(5)
    page.radio(key="tokenizers_algorithm").set_value("WordPiece")
    page.slider(key="tokenizers_vocab_size").set_value(800).run()
    link = dict(page.query_params)
    assert link == {"text": "The cat sat on the mat, 42 times.", "words": "unaffable cats", "merge": "5",
                    "algo": "WordPiece", "vocab": "800"}
    opened = open_page("tokenizers", timeout=PAGE_TIMEOUT, query=link)
    assert not opened.exception and not [i for i in opened.info if "ignored" in i.value]  # no link notice
    for kind, key in [("text_area", "tokenizers_text"), ("text_input", "tokenizers_words"),
                      ("slider", "tokenizers_bpe_step"), ("radio", "tokenizers_algorithm"),
                      ("slider", "tokenizers_vocab_size")]:
        assert getattr(opened, kind)(key=key).value == getattr(page, kind)(key=key).value, key
    assert summary(opened).equals(summary(page))
    assert table_with(opened, "lookups").equals(table_with(page, "lookups"))
    assert dict(opened.query_params) == link


def test_malformed_and_hostile_links_are_ignored_with_a_notice(open_page):
    at = open_page("tokenizers", timeout=PAGE_TIMEOUT, query={
        "seed": "abc", "merge": "999", "text": "x" * 10_240, "vocab": "-5", "hub": "../../etc/passwd"})
    assert not at.exception, at.exception
    notices = [i.value for i in at.info if "ignored" in i.value]
    assert len(notices) == 1
    for reason in ("`seed` is not a setting", "`merge=999` is outside 1–20", "`text` is too long (10,240",
                   "`vocab=-5` is outside 300–30000"):
        assert reason in notices[0]
    assert at.text_area(key="tokenizers_text").value == tui.DEFAULT_TEXT
    assert at.slider(key="tokenizers_bpe_step").value == 1
    assert at.slider(key="tokenizers_vocab_size").value == 2_000
    assert any("not a valid" in w.value for w in at.warning)  # the path-like Hub id is refused, never fetched
    assert dict(at.query_params) == {"hub": "../../etc/passwd"}  # the link keeps only what it showed


def test_link_text_is_never_markdown(open_page):
    """A link's Hub id, text and phrase reach Markdown (warnings, captions) only inside code spans:
    no masked link, and no bare URL for Streamlit to turn into one."""
    link = "[click](https://evil.example)"
    at = open_page("tokenizers", timeout=PAGE_TIMEOUT, query={
        "hub": link, "text": f"Hi  {link} `x``", "phrase": f"`{link}"})
    assert not at.exception, at.exception
    shown = [e.value for kind in ("markdown", "caption", "warning", "info", "error") for e in getattr(at, kind)
             if "evil.example" in e.value]
    assert any("not a valid" in v for v in shown) and any("round trip: changed" in v for v in shown)
    assert any(v.startswith("SentencePiece sees") for v in shown)
    for value in shown:
        inline = markdown_inline(value)
        assert not [t for t in inline if t.type == "link_open"], value
        assert not [t for t in inline if t.type == "text" and "evil.example" in t.content], value


def test_a_merge_past_this_corpus_shows_its_last_merge(open_page):
    at = open_page("tokenizers", timeout=PAGE_TIMEOUT, query={"corpus": "hug hug pug pun", "merge": "20"})
    assert not at.exception, at.exception
    last = len(A.bpe_merge_steps("hug hug pug pun", tui.MAX_MERGES))
    assert at.slider(key="tokenizers_bpe_step").value == last
    assert dict(at.query_params)["merge"] == str(last)


def test_preset_checkpoint_and_accessibility(page):
    next(b for b in page.button if b.label == "Python code").click().run()
    assert page.text_area(key="tokenizers_text").value == tui.PRESETS["Python code"]["text"]
    assert dict(page.query_params) == {"text": tui.PRESETS["Python code"]["text"], "vocab": "1000"}
    assert summary(page)["tokens"].to_dict() == reference_counts(tui.PRESETS["Python code"]["text"])

    first = checkpoints.questions("tokenizers", 1)[0]
    page.text_input(key="tokenizers_a1_1").input(str(first.answer))
    next(b for b in page.button if b.label == "Check").click().run()
    assert [s.value for s in page.success][-1] == "Correct."
    total = len(checkpoints.questions("tokenizers", 1))
    assert page.session_state["progress"]["tokenizers"] == progress.record(1, total, 1)

    assert chart_problems(page) == []
    assert widget_label_problems(page) == []
