"""AppTest: trained models live in lessons.widgets.trained's capped store, one session
cannot reach another's, and an evicted model is announced with "train again"."""
import pytest

from lessons.widgets import trained

CLEARED = "cleared to keep the server's memory bounded"
FINETUNED = "Your fine-tuned classifier"


def offers_finetuned(app) -> bool:
    """Whether the pipelines page's "under the hood" offers this session's fine-tuned model."""
    return any(label.startswith(FINETUNED) for label in app.radio(key="pipelines_hood_model").options)


def owner(at) -> str:
    return at.session_state[trained.OWNER_KEY].session_id


def headers(at) -> list[str]:
    return [h.value for h in at.header]


def train_tiny_gpt(at):
    at.select_slider(key="gpt_embd").set_value(32)
    at.slider(key="gpt_layers").set_value(1)
    at.slider(key="gpt_steps").set_value(50)
    at.select_slider(key="gpt_every").set_value(25)
    return at.button(key="gpt_train").click().run()


@pytest.mark.slow
def test_a_tiny_gpt_is_kept_for_its_session_only_then_evicted_with_a_notice(open_page, one_cpu_thread):
    alice = train_tiny_gpt(open_page("tiny_gpt", timeout=600))
    assert not alice.exception, alice.exception
    assert "3 · The generation loop" in headers(alice)
    assert "gpt_run" not in alice.session_state  # only a flag and the store's key stay in the session
    store = trained.store()
    assert store.get(owner(alice), "gpt_run").model is not None

    bob = open_page("tiny_gpt")
    assert owner(bob) != owner(alice)
    assert "3 · The generation loop" not in headers(bob) and not any(CLEARED in i.value for i in bob.info)

    others = [f"other student {i}" for i in range(store.max_models)]
    try:
        for other in others:  # a class's worth of newer models pushes Alice's out
            store.put(other, "gpt_run", object(), nbytes=1)
        alice.run()
        assert not alice.exception
        assert any(CLEARED in i.value and "train again" in i.value for i in alice.info)
        assert "3 · The generation loop" not in headers(alice)
    finally:
        for other in others:
            store.drop_session(other)


def test_the_pipelines_page_offers_a_fine_tuned_model_to_its_own_session_only(open_page, minilm):
    alice, bob = open_page("pipelines"), open_page("pipelines")
    trained.store().put(owner(alice), "finetune_model", minilm, nbytes=1)
    alice.session_state["_trained_finetune_model"] = True
    try:
        alice.run()
        bob.run()
        assert offers_finetuned(alice) and not offers_finetuned(bob)
        assert not any(CLEARED in i.value for i in bob.info)
    finally:
        trained.store().drop_session(owner(alice))
    alice.run()
    assert not offers_finetuned(alice)
    assert any(CLEARED in i.value for i in alice.info)


@pytest.mark.slow
def test_a_trained_tokenizer_joins_its_own_sessions_comparison_only(open_page):
    """The seven bundled tokenizers are one cached list for the whole server: a student's own
    tokenizer must be added to a copy of it, never to the shared list."""
    alice = open_page("tokenizers")
    alice.text_area(key="tokenizers_text").set_value("Tokenizers cut text into pieces.").run()
    bundled = len(alice.dataframe[0].value)
    alice.radio(key="tokenizers_corpus_source").set_value("Paste text").run()
    alice.text_area(key="tokenizers_corpus_text").set_value("the quick brown fox jumps over the lazy dog " * 200).run()
    alice.slider(key="tokenizers_vocab_size").set_value(300)
    alice.button(key="tokenizers_train").click().run()
    assert not alice.exception, alice.exception
    assert len(alice.dataframe[0].value) == bundled + 1
    bob = open_page("tokenizers")
    bob.text_area(key="tokenizers_text").set_value("Tokenizers cut text into pieces.").run()
    assert len(bob.dataframe[0].value) == bundled
