"""Streamlit and Plotly pieces of the parameters lesson; every number comes from lib.parameters."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from lessons.widgets import common
from lib import model_registry, parameters, urlstate

SAFE = px.colors.qualitative.Safe  # colour-blind-safe qualitative palette
GROUP_COLOURS = dict(zip(parameters.GROUPS, SAFE + ["#E69F00", "#0072B2", "#000000"]))  # Okabe-Ito colours extend it
VERDICT_COLOURS = {"fits": "#9ecae1", "tight": "#fdd0a2", "no": "#d9d9d9"}  # blue / orange / grey
COUNT = st.column_config.NumberColumn(format="localized")
SHARE = st.column_config.NumberColumn(format="percent")


def human(n: float) -> str:
    for size, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= size:
            return f"{n / size:.{1 if n / size < 100 else 0}f}{unit}"
    return f"{n:.0f}"


@st.cache_data(show_spinner="Building the model on the meta device…", max_entries=16, ttl=3600)
def count(choice: str) -> parameters.Breakdown:
    return parameters.count_parameters(choice)


def count_or_warn(choice: str) -> parameters.Breakdown | None:
    try:
        return count(choice)
    except (parameters.InvalidConfig, model_registry.ModelUnavailable) as err:
        st.error(str(err), icon=":material/error:")
        return None


def breakdown_table(breakdown: parameters.Breakdown) -> None:
    table = breakdown.table()
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "exact": COUNT, "formula value": COUNT, "share": SHARE})


def first_layer_table(breakdown: parameters.Breakdown) -> None:
    """The first layer tensor by tensor (Q, K, V, O, feed-forward, norms), and how it stacks up."""
    layer = parameters.first_layer(breakdown)
    if layer.empty:
        return
    arch, total = breakdown.architecture, int(layer["parameters"].sum())
    with st.expander(f"One layer, tensor by tensor: {total:,} parameters", icon=":material/layers:"):
        st.dataframe(layer, hide_index=True, width="stretch", key="parameters_first_layer",
                     column_config={"parameters": COUNT})
        if arch is None:
            return
        if arch.shared_layers:
            st.caption(f"ALBERT runs this one layer {arch.num_hidden_layers} times: its weights are stored once.")
        elif arch.kind == "encoder-decoder":
            st.caption(f"The first of {arch.num_hidden_layers} encoder layers; each of the "
                       f"{arch.num_decoder_layers} decoder layers also has cross-attention.")
        else:
            st.caption(f"{arch.num_hidden_layers} such layers: {arch.num_hidden_layers} × {total:,} = "
                       f"{arch.num_hidden_layers * total:,}, the attention, feed-forward and layer-norm rows above.")


def treemap(breakdown: parameters.Breakdown, title: str):
    frame = parameters.treemap_frame(breakdown)
    fig = px.treemap(frame, path=[px.Constant(breakdown.title), "block", "group", "tensor"], values="parameters",
                     color="block", color_discrete_sequence=SAFE, title=title)
    # two levels at a time (click a block for its tensors); a label too small to read is hidden, not squeezed
    fig.update_traces(texttemplate="%{label}<br>%{value:,}<br>%{percentRoot:.1%}", root_color="lightgrey", maxdepth=3)
    fig.update_layout(margin=dict(t=50, l=10, r=10, b=10), height=520, uniformtext=dict(minsize=12, mode="hide"))
    return fig


def sunburst(breakdown: parameters.Breakdown, title: str):
    frame = breakdown.tensors.groupby(["block", "group"], sort=False, as_index=False)["parameters"].sum()
    fig = px.sunburst(frame, path=["block", "group"], values="parameters", color="block",
                      color_discrete_sequence=SAFE, title=title)
    fig.update_traces(texttemplate="%{label}<br>%{percentRoot:.1%}")
    fig.update_layout(margin=dict(t=50, l=10, r=10, b=10), height=420)
    return fig


def stacked_bar(keys: list[str]):
    frame = pd.concat([parameters.count_known(k).by_group().rename("parameters").rename_axis("group").reset_index()
                       .assign(model=parameters.KNOWN_BY_KEY[k].title) for k in keys])
    fig = px.bar(frame, x="model", y="parameters", color="group", color_discrete_map=GROUP_COLOURS,
                 category_orders={"group": parameters.GROUPS, "model": [parameters.KNOWN_BY_KEY[k].title for k in keys]},
                 title="Where each model keeps its parameters",
                 labels={"parameters": "parameters (exact count)", "model": "model", "group": "block"})
    fig.update_layout(height=480, legend_traceorder="reversed")
    return fig


def timeline_chart(timeline: pd.DataFrame):
    """One bar per model in publication order, on a log axis: each step right is ×10."""
    frame = timeline.assign(label=timeline["model"] + " (" + timeline["year"].astype(str) + ")",
                            size=timeline["parameters"].map(human))
    fig = px.bar(frame, x="parameters", y="label", color="family", pattern_shape="counted by", text="size",
                 orientation="h", log_x=True, color_discrete_sequence=SAFE, hover_data={"parameters": ":,"},
                 category_orders={"label": frame["label"].tolist()}, title="Model sizes over time (log scale)",
                 labels={"parameters": "parameters (log scale)", "label": "model (year published)"})
    fig.update_traces(textposition="outside", cliponaxis=False)  # the largest bar's label runs past the axis end
    fig.update_layout(height=120 + 28 * len(frame), yaxis_autorange="reversed", margin=dict(r=60))
    return fig


def memory_panel(num_parameters: int, key: str) -> None:
    left, right = st.columns([2, 3])
    left.dataframe(parameters.memory_table(num_parameters), hide_index=True, width="stretch", key=f"{key}_memory",
                   column_config={"GiB": st.column_config.NumberColumn(format="%.2f")})
    parts = [("inference, bf16", "weights", num_parameters * parameters.BYTES_PER_PARAMETER["bf16"])]
    parts += [("training with Adam, fp32", part, num_parameters * b) for part, b in parameters.ADAM_STATE_BYTES.items()]
    frame = pd.DataFrame(parts, columns=["use", "part", "bytes"]).assign(GiB=lambda f: f["bytes"] / parameters.GIB)
    fig = px.bar(frame, x="GiB", y="use", color="part", orientation="h", color_discrete_sequence=SAFE,
                 title="Running vs training: what the memory holds", labels={"use": "what the memory is for", "part": "kept in memory"})
    fig.update_layout(height=300, legend=dict(orientation="h", y=-0.35))
    right.plotly_chart(fig, width="stretch", key=f"{key}_adam")
    fits = parameters.fits_table(num_parameters, parameters.local_gpu())
    st.dataframe(fits.style.map(lambda verdict: f"background-color: {VERDICT_COLOURS[verdict]}"),
                 width="stretch", key=f"{key}_fits")


# --- settings shared by link ------------------------------------------------------

BUILDER_DEFAULTS = parameters.PRESETS["GPT-2 small (2019)"][0]
COMPARED = ["bert-base-uncased", "bert-large-uncased", "distilbert-base-uncased", "albert-base-v2", "gpt2", "t5-small"]
BUILT = "__build__"  # the memory panel's choice for the builder's own model
MEMORY_CHOICES = [*parameters.KNOWN_BY_KEY, *parameters.PRESETS, BUILT]
SHARED = {
    "model": urlstate.Choice("parameters_model", "bert-base-uncased", list(parameters.KNOWN_BY_KEY)),
    "compare": urlstate.Choices("parameters_compare", COMPARED, list(parameters.KNOWN_BY_KEY)),
    "kind": urlstate.Choice("parameters_kind", BUILDER_DEFAULTS["kind"], ["encoder", "decoder", "encoder-decoder"]),
    "layers": urlstate.Int("parameters_layers", BUILDER_DEFAULTS["layers"], 0, 128),
    "hidden": urlstate.Int("parameters_hidden", BUILDER_DEFAULTS["hidden"], 64, 16_384),
    "heads": urlstate.Int("parameters_heads", BUILDER_DEFAULTS["heads"], 1, 128),
    "ffn": urlstate.Int("parameters_ffn", BUILDER_DEFAULTS["ffn"], 1, 10**7),
    "vocab": urlstate.Int("parameters_vocab", BUILDER_DEFAULTS["vocab"], 1, 10**9),
    "context": urlstate.Int("parameters_context", BUILDER_DEFAULTS["context"], 1, 10**6),
    "tied": urlstate.Bool("parameters_tied", BUILDER_DEFAULTS["tied"]),
    "memory": urlstate.Choice("parameters_memory_model", "llama-7b", MEMORY_CHOICES),
}
GPT3 = parameters.PRESETS["GPT-3 175B (2020)"][0]
PRESETS = {
    "BERT-base, block by block": {"model": "bert-base-uncased", "compare": ["bert-base-uncased", "distilbert-base-uncased",
                                                                           "albert-base-v2"]},
    "Build GPT-3": {**GPT3, "memory": BUILT},
    "Will LLaMA fit?": {"model": "llama-7b", "compare": ["llama-7b", "llama-13b", "llama-30b", "llama-65b"],
                        "memory": "llama-65b"},
}


# --- build your own ----------------------------------------------------------------

CUSTOM = "(your own settings)"


def _apply_preset() -> None:
    settings, _ = parameters.PRESETS.get(st.session_state["parameters_preset"], ({}, None))
    for name, value in settings.items():
        st.session_state[f"parameters_{name}"] = value


@st.cache_data(show_spinner="Counting…", max_entries=32)
def _count_architecture(arch: parameters.Architecture) -> parameters.Breakdown:
    return parameters.count_architecture(arch)


def _builder_settings() -> dict:
    st.selectbox("Start from", [CUSTOM, *parameters.PRESETS], key="parameters_preset", on_change=_apply_preset)
    left, right = st.columns(2)
    kind = left.segmented_control("Architecture", ["encoder", "decoder", "encoder-decoder"],
                                  key="parameters_kind") or "decoder"
    settings = {"kind": kind,
                "layers": left.slider("Layers L (per stack)", 0, 128, key="parameters_layers"),
                "hidden": left.slider("Hidden size H", 64, 16_384, step=64, key="parameters_hidden"),
                "heads": left.slider("Attention heads A", 1, 128, key="parameters_heads"),
                "ffn": right.number_input("Feed-forward size F", 1, 10**7, step=256, key="parameters_ffn"),
                "vocab": right.number_input("Vocabulary V", 1, 10**9, step=1000, key="parameters_vocab"),
                "context": right.number_input("Context length P (learned positions)", 1, 10**6, step=256,
                                              key="parameters_context", disabled=kind == "encoder-decoder",
                                              help="The encoder-decoder uses sinusoidal positions: no parameters."),
                "tied": right.toggle("Output layer tied to the token embeddings", key="parameters_tied",
                                     disabled=kind == "encoder", help="An encoder (BertModel) has no output layer.")}
    return settings


def builder() -> parameters.Breakdown | None:
    """The builder's table and chart; None, with the reason shown, when its settings are not a model."""
    settings = _builder_settings()
    arch = parameters.builder_architecture(**settings)
    try:
        breakdown = _count_architecture(arch)
    except parameters.InvalidConfig as err:
        st.error(str(err), icon=":material/error:")
        return None
    cols = st.columns(3)
    cols[0].metric("Parameters", f"{breakdown.total:,}", human(breakdown.total), delta_color="off",
                   delta_arrow="off")
    path = (f"meta device ({breakdown.model_class}, {breakdown.seconds:.2f} s)" if breakdown.path == "meta device"
            else "formula (no stock transformers class for this layout)")
    cols[1].metric("Counted by", path.split(" (")[0], path[path.find("(") + 1:-1], delta_color="off",
                   delta_arrow="off")
    chosen = st.session_state["parameters_preset"]
    if chosen in parameters.PRESETS and parameters.PRESETS[chosen][0] == settings:
        quoted = parameters.PRESETS[chosen][1]
        cols[2].metric("Quoted for this model", human(quoted),
                       f"{(breakdown.total - quoted) / quoted:+.1%} exact vs quoted", delta_color="off")
    left, right = st.columns([3, 2])
    with left:
        breakdown_table(breakdown)
    right.plotly_chart(sunburst(breakdown, "Your model by block"), width="stretch", key="parameters_sunburst")
    if settings["kind"] == "encoder-decoder":
        row = parameters.course_attention_row(settings["hidden"], settings["heads"])
        common.lesson_text("parameters", "course_row")
        st.dataframe(pd.DataFrame([row]), hide_index=True, width="stretch")
    return breakdown


# --- memory ---------------------------------------------------------------------------

def memory_total(choice: str, built: parameters.Breakdown | None) -> int | None:
    """Parameters of the model picked for the memory panel; for the builder's model, the count
    the builder shows in this same run (None when its settings are not a model)."""
    if choice == BUILT:
        return built.total if built else None
    if choice in parameters.PRESETS:
        return parameters.formula_total(parameters.preset(choice)[0])
    return parameters.count_known(choice).total


def memory_section(titles: dict, built: parameters.Breakdown | None) -> None:
    options = {**{k: titles[k] for k in parameters.KNOWN_BY_KEY}, **{p: p for p in parameters.PRESETS},
               BUILT: "Your model (from the builder above)"}
    choice = st.selectbox("Model", list(options), format_func=options.get, key="parameters_memory_model")
    total = memory_total(choice, built)
    if total is None:
        st.warning("The builder's settings above are not a model (its message says why): fix them to see "
                   "your model's memory.", icon=":material/error:")
        return
    st.markdown(f"**{options[choice]}: {total:,} parameters.** Weights only; activations, the KV cache and "
                "the framework need more, so *fits* keeps 20% spare.")
    memory_panel(total, "parameters_memory")


@common.fragment
def builder_and_memory(titles: dict) -> None:
    """Sections 3 and 4 in one fragment: a builder slider reruns both, so the memory panel's "Your
    model" is always the model the builder shows (two fragments kept the old count)."""
    built = builder()
    st.header("How much memory?")
    common.lesson_text("parameters", "memory")
    memory_section(titles, built)
