"""AppTest of the recurrent-networks lesson: real outputs and bad inputs."""
import re

import numpy as np
import pytest

from lib import prose

TIMEOUT = 240  # the bracket-counting LSTM trains on first render (cached after)

pytestmark = pytest.mark.usefixtures("one_cpu_thread")


@pytest.fixture
def app(open_page):
    at = open_page("rnn", timeout=TIMEOUT)
    assert not at.exception, at.exception
    return at


def frame_with(at, column):
    return next(df.value for df in at.dataframe if column in df.value.columns)


@pytest.mark.slow
def test_unrolling_shows_the_equation_with_live_numbers(app):
    assert app.title[0].value == "Recurrent networks"
    assert any("are used at all 11 steps" in c.value for c in app.caption)
    table = frame_with(app, "h_t = tanh(sum)")
    np.testing.assert_allclose(table["h_t = tanh(sum)"], np.tanh(table["sum"]), atol=1e-6)
    np.testing.assert_allclose(table["sum"], table["W_x·x_t"] + table["W_h·h_{t-1}"] + table["b"], atol=1e-6)
    assert any("Step 3 reads **'l'**" in m.value for m in app.markdown)  # "hello world", step 3
    assert [x.value.strip("$\n") for x in app.latex] == [r"h_{3} = \tanh\left(W_x\,x_{3} + W_h\,h_{2} + b\right)"]
    units = table.shape[0]  # one row per hidden unit of the RNN the page ran
    assert any(f"({units} hidden units)" in m.value for m in app.markdown)
    assert any(f"hidden_size={units})" in c.value and f"torch.zeros({units})" in c.value for c in app.code)
    app.text_input(key="rnn_unroll_text").set_value("").run()
    assert any("at least one character" in w.value for w in app.warning)
    app.text_input(key="rnn_unroll_text").set_value("a" * 60).run()
    assert any("reads the first 40" in w.value for w in app.warning)


@pytest.mark.slow
def test_gradient_table_vanishes_explodes_and_clips(app):
    app.slider(key="rnn_bptt_scale").set_value(0.5).run()
    small = frame_with(app, "factor per step back")
    assert small.loc["vanilla RNN", "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖"] < 1e-6
    assert small.loc["vanilla RNN", "factor per step back"] < 0.55
    app.slider(key="rnn_bptt_scale").set_value(3.0).run()
    large = frame_with(app, "factor per step back")
    assert large.loc["vanilla RNN", "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖"] > 1e3
    assert large.loc["vanilla RNN", "‖∂L/∂θ‖ before clipping"] > 100
    assert large.loc["vanilla RNN", "after clipping"] == pytest.approx(1.0, rel=1e-4)
    caption = next(c.value for c in app.caption if c.value.startswith("Clipping at 1 "))
    shrink = large.loc["vanilla RNN", "‖∂L/∂θ‖ before clipping"] / large.loc["vanilla RNN", "after clipping"]
    assert shrink > 1000 and f"the vanilla RNN's gradient shrinks {shrink:,.0f}×" in caption


@pytest.mark.slow
def test_lstm_gates_find_the_counting_unit(app):
    from lib import rnn

    caption = next(c.value for c in app.caption if "follows the depth" in c.value)
    assert float(re.search(r"correlation (\d+\.\d+)", caption).group(1)) > 0.9
    model = rnn.train_depth_lstm()  # the page's model: trained once per process
    text = " ".join(m.value for m in app.markdown)
    assert f"({model.lstm.hidden_size} units) was trained on this machine in {model.training_seconds:.1f} s" in text
    assert not re.search(r"\{(units|seconds|window)\}", text)  # every placeholder filled in
    app.text_input(key="rnn_gates_text").set_value("no brackets here").run()
    assert any("depth stays at 0" in c.value for c in app.caption)
    assert not any("follows the depth" in c.value for c in app.caption)
    app.text_input(key="rnn_gates_text").set_value("").run()
    assert any("Type some brackets" in w.value for w in app.warning)


def test_page_defaults_are_the_library_defaults():
    """The 60 s budget and settings the issue's criterion names are what the page starts with."""
    import inspect

    from lessons.widgets import rnn as widgets
    from lib import rnn

    defaults = inspect.signature(rnn.train_char_model).parameters
    assert widgets.SHARED["budget"].default == defaults["time_budget_s"].default == 60
    assert widgets.SHARED["max_steps"].default == defaults["steps"].default
    assert widgets.SHARED["seq"].default == defaults["seq_len"].default
    assert widgets.SHARED["cell"].default == defaults["kind"].default
    assert widgets.SHARED["source"].default == widgets.SOURCES[0]  # Python's help texts


def test_lesson_text_takes_its_numbers_from_the_code():
    import inspect

    from lib import rnn

    unroll = prose.lesson_markdown("rnn", "unroll", units=rnn.UNROLL_HIDDEN_SIZE)
    assert f"({rnn.unroll_text('ab').hidden.shape[1]} hidden units)" in unroll
    assert r"h_{t-1}" in unroll  # LaTeX braces are not placeholders
    window = inspect.signature(rnn.train_forecasters).parameters["window"].default  # what the page trains with
    assert f"sees the last {window} values" in prose.lesson_markdown("rnn", "train_series", window=rnn.FORECAST_WINDOW)


def test_counter_caption_says_when_there_is_no_depth_to_follow():
    from lessons.widgets import rnn as widgets
    from lib import rnn

    model = rnn.DepthLSTM()
    for text, depth in [("hello", 0), (")))", 0), ("(xx", 1)]:
        caption = widgets.counter_caption(rnn.lstm_gate_trace(model, text), text)
        assert f"depth stays at {depth} all through" in caption and "correlation" not in caption
    trace = rnn.lstm_gate_trace(model, "(()x)")
    assert widgets.counter_caption(trace, "(()x)") == (f"Cell unit {trace.counter_unit} follows the depth with "
                                                      f"correlation {trace.counter_correlation:.3f}.")


@pytest.mark.slow
def test_classroom_mode_keeps_the_linked_sequence_length(open_page):
    """The sequence-length slider is hidden in classroom mode; a link's length is still used."""
    at = open_page("rnn", timeout=TIMEOUT, query={"seq": "64", "source": "Type your own text", "corpus": "too short"})
    at.sidebar.toggle(key="classroom").set_value(True).run()
    assert not at.exception and not any(s.key == "rnn_char_seq_len" for s in at.slider)
    at.button(key="rnn_char_train").click().run()
    assert any("fewer than the sequence length (64)" in e.value for e in at.error), [e.value for e in at.error]


def shown_sample(at):
    return at.session_state["rnn_char_shown"]


@pytest.mark.slow
def test_char_model_trains_with_a_tiny_budget_and_samples(app):
    app.slider(key="rnn_char_steps").set_value(10).run()
    app.slider(key="rnn_char_budget").set_value(5).run()
    app.button(key="rnn_char_train").click().run()
    assert not app.exception, app.exception
    history = app.session_state["rnn_char_history"]
    assert history and history[-1]["step"] <= 10 and np.isfinite(history[-1]["val_loss"])
    summary = next(m.value for m in app.markdown if m.value.startswith("After **"))
    assert f"After **{history[-1]['step']} steps**" in summary
    assert any(e.label == "Samples during training (every 5 steps)" for e in app.expander)
    sample = next(c.value for c in app.code if c.value.startswith("The "))
    assert sample == "The " + history[-1]["sample"] and len(sample) > len("The ") + 50
    first_model = app.session_state["rnn_char_model"]

    app.button(key="rnn_char_generate").click().run()
    fresh = shown_sample(app)
    assert fresh.startswith("The ") and fresh != sample and any(c.value == fresh for c in app.code)
    app.button(key="rnn_char_generate").click().run()
    assert shown_sample(app) != fresh  # every click draws a new sample
    app.text_input(key="rnn_char_prompt").input("def ").run()
    assert shown_sample(app).startswith("The ")  # the text shown is the one the model wrote after "The "
    app.button(key="rnn_char_generate").click().run()
    assert shown_sample(app).startswith("def ")

    app.button(key="rnn_char_train").click().run()  # a new model: its own sample, not the old model's
    assert app.session_state["rnn_char_model"] is not first_model
    assert shown_sample(app) == "def " + app.session_state["rnn_char_history"][-1]["sample"]


BAD_CORPORA = {  # the bad inputs: what the student does, and the message they must see
    "empty text": ("Type your own text", "   \n", None, "The corpus is empty"),
    "text shorter than the sequence": ("Type your own text", "too short", None, "fewer than the sequence length"),
    "binary upload": ("Upload a .txt file", None, ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
                      "looks binary"),
    "empty file": ("Upload a .txt file", None, ("empty.txt", b"", "text/plain"), "The corpus is empty"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", BAD_CORPORA)
def test_char_model_bad_inputs_give_messages(app, case):
    source, text, upload, message = BAD_CORPORA[case]
    app.radio(key="rnn_char_source").set_value(source).run()
    if text is not None:
        app.text_area(key="rnn_char_text").set_value(text).run()
    if upload is not None:
        app.file_uploader(key="rnn_char_upload").upload(*upload)
        app.run()
    app.button(key="rnn_char_train").click().run()
    assert not app.exception, app.exception
    assert [e.value for e in app.error if message in e.value], [e.value for e in app.error]
    assert "rnn_char_history" not in app.session_state  # nothing trained, nothing half-shown


@pytest.mark.slow
def test_an_upload_in_utf16_with_a_path_for_a_name_trains(app):
    app.radio(key="rnn_char_source").set_value("Upload a .txt file").run()
    app.slider(key="rnn_char_steps").set_value(10).run()
    app.slider(key="rnn_char_budget").set_value(5).run()
    text = "Le café est très chaud. " * 20  # what Windows Notepad saves as "Unicode"
    # the file name is never used (the bytes are read in memory), so a path in it reaches nothing
    app.file_uploader(key="rnn_char_upload").upload("../../../etc/passwd.txt", text.encode("utf-16"), "text/plain")
    app.run()
    app.button(key="rnn_char_train").click().run()
    assert not app.error and not app.exception
    assert "é" in app.session_state["rnn_char_corpus"].vocab and app.session_state["rnn_char_history"]


@pytest.mark.slow
def test_forecasters_train_and_report_mse(app):
    app.slider(key="rnn_fc_steps").set_value(20).run()
    app.button(key="rnn_fc_train").click().run()
    assert not app.exception, app.exception
    table = frame_with(app, "test MSE")
    assert set(table.index) == {"vanilla RNN", "LSTM", "GRU", "last value"}
    assert (table["test MSE"] > 0).all()
    assert table.loc["last value", "vs last value"] == "1.00×"
    mse = app.session_state["rnn_fc_report"].test_mse
    verdict = next(m.value for m in app.markdown if "tomorrow = today" in m.value and m.value.startswith("**"))
    winners = [name for kind, name in (("rnn", "vanilla RNN"), ("lstm", "LSTM"), ("gru", "GRU"))
               if mse[kind] < mse["last value"]]
    assert verdict.startswith("**No model beats") if not winners else verdict.endswith(
        f"** {', '.join(winners)} (a ratio below 1.00× in the table).")


def test_forecast_verdict_names_the_models_that_beat_the_last_value():
    from lessons.widgets import rnn as widgets

    assert widgets.forecast_verdict({"rnn": 2.0, "lstm": 0.5, "gru": 0.9, "last value": 1.0}).endswith(
        "** LSTM, GRU (a ratio below 1.00× in the table).")
    assert widgets.forecast_verdict({"rnn": 1.4, "lstm": 1.5, "gru": 1.0, "last value": 1.0}).startswith(
        "**No model beats")


@pytest.mark.slow
def test_a_shared_link_restores_the_view(app, open_page):
    from accessibility import chart_problems, widget_label_problems

    app.text_input(key="rnn_unroll_text").input("to be or not").run()  # a new length gives a new step slider
    app.slider(key="rnn_unroll_step").set_value(5)
    app.slider(key="rnn_bptt_len").set_value(60)
    app.slider(key="rnn_bptt_scale").set_value(2.0)
    app.select_slider(key="rnn_bptt_clip").set_value(5.0)
    app.text_input(key="rnn_gates_text").input("((x))(")
    app.radio(key="rnn_fc_series").set_value("random walk")
    app.select_slider(key="rnn_path_len").set_value(64).run()
    link = dict(app.query_params)
    assert link == {"text": "to be or not", "step": "5", "len": "60", "scale": "2.0", "clip": "5.0",
                    "brackets": "((x))(", "series": "random walk", "distance": "64"}
    opened = open_page("rnn", timeout=TIMEOUT, query=link)
    assert not opened.exception and not opened.info
    for kind, key, value in [("text_input", "rnn_unroll_text", "to be or not"), ("slider", "rnn_unroll_step", 5),
                             ("slider", "rnn_bptt_len", 60), ("slider", "rnn_bptt_scale", 2.0),
                             ("select_slider", "rnn_bptt_clip", 5.0), ("text_input", "rnn_gates_text", "((x))("),
                             ("radio", "rnn_fc_series", "random walk"), ("select_slider", "rnn_path_len", 64)]:
        assert getattr(opened, kind)(key=key).value == value, key
    assert any("Step 5 reads **'e'**" in m.value for m in opened.markdown)
    for column in ("h_t = tanh(sum)", "factor per step back", "steps the signal crosses"):
        assert frame_with(opened, column).equals(frame_with(app, column)), column
    assert frame_with(opened, "factor per step back").loc["vanilla RNN", "after clipping"] == pytest.approx(5.0, rel=1e-4)
    assert dict(opened.query_params) == link
    assert chart_problems(opened) == [] and widget_label_problems(opened) == []


@pytest.mark.slow
def test_malformed_links_and_presets(open_page):
    at = open_page("rnn", timeout=TIMEOUT, query={"seed": "abc", "len": "999", "step": "40", "text": "x" * 10_240})
    assert not at.exception
    notice = at.info[0].value
    assert "`seed` is not a setting" in notice and "outside 5–100" in notice and "`text` is too long" in notice
    assert at.text_input(key="rnn_unroll_text").value == "hello world" and at.slider(key="rnn_bptt_len").value == 40
    assert at.slider(key="rnn_unroll_step").value == 11  # step 40 is kept inside the 11 characters
    assert dict(at.query_params) == {"step": "11"}
    next(b for b in at.button if b.label == "Vanishing gradients").click().run()
    assert dict(at.query_params) == {"scale": "0.5", "len": "100"}
    vanishing = frame_with(at, "factor per step back").loc["vanilla RNN"]
    assert vanishing["‖∂L/∂h_1‖ / ‖∂L/∂h_T‖"] < 1e-6 and 0 < vanishing["factor per step back"] < 0.55


@pytest.mark.slow
def test_unroll_text_hostile_input_and_checkpoint(app):
    from lib import checkpoints

    app.text_input(key="rnn_unroll_text").input("<script>alert(1)</script>").run()
    assert not app.exception
    assert not any("<script" in m.value for m in app.markdown)  # only one quoted character is shown as markdown
    assert any("are used at all 25 steps" in c.value for c in app.caption)
    app.text_input(key="rnn_unroll_text").input("a*`b").run()
    app.slider(key="rnn_unroll_step").set_value(2).run()
    assert any(m.value.startswith(r"Step 2 reads **'\*'**.") for m in app.markdown)  # a star, not bold markup
    app.slider(key="rnn_unroll_step").set_value(3).run()
    assert any(m.value.startswith(r"Step 3 reads **'\`'**.") for m in app.markdown)
    app.text_input(key="rnn_unroll_text").input("a").run()  # one character: nothing to slide over
    assert not app.exception and any("are used at all 1 steps" in c.value for c in app.caption)
    first = checkpoints.questions("rnn", 1)[0]
    app.text_input(key="rnn_a1_1").input(f"{first.answer:,}")
    next(b for b in app.button if b.label == "Check").click().run()
    assert [s.value for s in app.success] == ["Correct."]
