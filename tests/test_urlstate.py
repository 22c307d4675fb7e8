"""URL settings: what a link may carry, and what is ignored with a notice."""
from lib import urlstate as u

PARAMS = {
    "seed": u.Int("page_seed", 0, 0, 1000),
    "lr": u.Float("page_lr", 0.1, 1e-4, 1.0),
    "causal": u.Bool("page_causal", False),
    "model": u.Choice("page_model", "minilm", ["minilm", "smollm2"]),
    "layers": u.Choices("page_layers", [0], [0, 1, 2, 3]),
    "text": u.Text("page_text", "Your cat is a lovely cat", max_chars=20),
}


def test_round_trip_of_every_kind():
    state = {"page_seed": 7, "page_lr": 0.003, "page_causal": True, "page_model": "smollm2",
             "page_layers": [1, 3], "page_text": "the bank of the river"}
    query, notices = u.encode(PARAMS, state)
    assert query == {"seed": "7", "lr": "0.003", "causal": "1", "model": "smollm2", "layers": "1,3",
                     "text": "the bank of the rive"}
    assert notices == ["The link keeps the first 20 characters of the text."]
    decoded = u.decode(PARAMS, query)
    assert decoded.notices == []
    assert decoded.values == {**state, "page_text": "the bank of the rive"}


def test_defaults_stay_out_of_the_link():
    defaults = {p.key: p.default for p in PARAMS.values()}
    assert u.encode(PARAMS, defaults) == ({}, [])
    assert u.encode(PARAMS, {}) == ({}, [])


def test_bad_values_are_ignored_with_one_notice_each():
    decoded = u.decode(PARAMS, {"seed": "abc", "lr": "nan", "causal": "maybe", "model": "../../etc/passwd",
                                "layers": "1,9", "unknown": "1", "text": "x" * 10_000})
    assert decoded.values == {}
    assert len(decoded.notices) == 7
    joined = " ".join(decoded.notices)
    for reason in ("not a whole number", "outside", "not on/off", "not one of the choices", "unknown choice '9'",
                   "not a setting of this page", "too long (10,000 characters)"):
        assert reason in joined


def test_out_of_range_and_overlong_names():
    decoded = u.decode(PARAMS, {"seed": "1001", "lr": "2", "n" * 500: "1"})
    assert decoded.values == {}
    assert all(len(notice) < 120 for notice in decoded.notices)


def test_long_text_in_a_link_is_cut_with_a_notice():
    decoded = u.decode(PARAMS, {"text": "y" * 50})
    assert decoded.values == {"page_text": "y" * 20}
    assert decoded.notices == ["`text` was cut to 20 characters"]


def test_choice_options_can_depend_on_the_machine():
    hub = {"on": False}
    param = u.Choice("k", "a", lambda: ["a", "b"] + (["hub"] if hub["on"] else []))
    assert u.decode({"m": param}, {"m": "hub"}).values == {}
    hub["on"] = True
    assert u.decode({"m": param}, {"m": "hub"}).values == {"k": "hub"}


def test_names_and_values_from_a_link_stay_code_in_the_notices():
    from markdown_it import MarkdownIt

    decoded = u.decode(PARAMS, {"`[x](https://evil.example)`": "1", "seed": "`[y](https://evil.example)"})
    for notice in decoded.notices:
        (inline,) = [block for block in MarkdownIt("commonmark").parse(notice) if block.type == "inline"]
        assert [t.type for t in inline.children] == ["code_inline", "text"]  # no link, the name is code
