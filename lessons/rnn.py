import pandas as pd
import streamlit as st

from lessons.widgets import common
from lessons.widgets import rnn as widgets
from lib import rnn

st.title("Recurrent networks")
common.shared_state("rnn", widgets.SHARED, widgets.PRESETS)
common.lesson_text("rnn", "intro")

st.header("1. One cell, unrolled over time")
common.lesson_text("rnn", "unroll", units=rnn.UNROLL_HIDDEN_SIZE)


@common.fragment
def unrolling():
    limit = widgets.UNROLL_MAX_CHARS
    text = st.text_input(f"Text for the RNN to read (up to {limit} characters)", key="rnn_unroll_text")
    if not text:
        st.warning("Type at least one character.")
        return
    if len(text) > limit:
        st.warning(f"Your text has {len(text)} characters; the RNN reads the first {limit}.")
        text = text[:limit]
    run = rnn.unroll_text(text)
    st.plotly_chart(widgets.hidden_heatmap(run), width="stretch")
    step = widgets.unroll_step_slider(len(text))
    widgets.step_equation(text, step)
    st.dataframe(widgets.equation_table(run, step - 1).style.format("{:+.3f}"))
    st.caption(f"The same W_x {run.weights['weight_ih'].shape} and W_h {run.weights['weight_hh'].shape} "
               f"are used at all {len(text)} steps.")


unrolling()
common.show_code(f"""
import torch
rnn = torch.nn.RNN(input_size=vocab_size, hidden_size={rnn.UNROLL_HIDDEN_SIZE})
w_x, w_h, b = rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0 + rnn.bias_hh_l0
h = torch.zeros({rnn.UNROLL_HIDDEN_SIZE})
for x_t in one_hot_chars:                 # the same weights at every step
    h = torch.tanh(w_x @ x_t + w_h @ h + b)
""")

st.header("2. Backpropagation through time: vanishing and exploding gradients")
common.lesson_text("rnn", "bptt", **widgets.bptt_facts())


@common.fragment
def gradients():
    left, right = st.columns(2)
    seq_len = left.slider("Sequence length", 5, 100, key="rnn_bptt_len")
    scale = left.slider("Recurrent weight scale (singular values of W_h)", 0.25, 4.0, step=0.25, key="rnn_bptt_scale")
    gate_bias = right.slider("Keep-memory gate bias (LSTM forget, GRU update)", 0.0, 5.0, step=0.5,
                             key="rnn_bptt_gate_bias")
    max_norm = right.select_slider("Clip gradient norm at", widgets.CLIP_NORMS, key="rnn_bptt_clip")
    reports = {kind: rnn.gradient_norms(kind, seq_len, scale, max_norm, gate_bias) for kind in rnn.KINDS}
    st.plotly_chart(widgets.gradient_figure({k: r.norms for k, r in reports.items()}, scale), width="stretch")
    st.dataframe(pd.DataFrame({
        "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖": [r.norms[0] / r.norms[-1] for r in reports.values()],
        "factor per step back": [rnn.decay_rate(r.norms) for r in reports.values()],
        "‖∂L/∂θ‖ before clipping": [r.weight_grad_norm for r in reports.values()],
        "after clipping": [r.clipped_grad_norm for r in reports.values()],
    }, index=[widgets.KIND_NAMES[k] for k in reports]).style.format("{:.3g}"))
    st.caption(widgets.clipping_caption(reports, max_norm))


gradients()
common.show_code(f"""
states = []                                   # keep every h_t
for x_t in inputs:
    h = torch.tanh(x_t @ W_x.T + h @ W_h.T + b); states.append(h)
loss = states[-1] @ readout
grads = torch.autograd.grad(loss, states, retain_graph=True)   # ∂L/∂h_t for every t
loss.backward()
torch.nn.utils.clip_grad_norm_(params, max_norm={widgets.SHARED["clip"].default})  # gradient clipping
""")

st.header("3. Inside an LSTM: the gates at work")
model = widgets.depth_lstm()
common.lesson_text("rnn", "gates", units=model.lstm.hidden_size, seconds=f"{model.training_seconds:.1f}")


@common.fragment
def gates():
    text = st.text_input("Brackets for the LSTM", key="rnn_gates_text", max_chars=widgets.BRACKETS_MAX_CHARS)
    if not text:
        st.warning("Type some brackets, for example (()(()))")
        return
    trace = rnn.lstm_gate_trace(model, text)
    st.plotly_chart(widgets.depth_figure(trace, text), width="stretch")
    st.caption(widgets.counter_caption(trace, text))
    st.plotly_chart(widgets.gates_figure(trace, text), width="stretch")


gates()

st.header("4. Train live")
st.subheader("a. A character-level language model")
common.lesson_text("rnn", "train_text")
widgets.char_model_section()

st.subheader("b. Forecasting a time series")
common.lesson_text("rnn", "train_series", window=rnn.FORECAST_WINDOW)
widgets.forecast_section()

st.header("5. Where RNNs went: attention")
common.lesson_text("rnn", "attention")
widgets.timing_section()

common.checkpoint("rnn")
common.next_lesson("rnn")
