import streamlit as st

from lessons.widgets import common
from lessons.widgets import parameters as widgets
from lib import parameters

st.title("Where the parameters are")
common.shared_state("parameters", widgets.SHARED, widgets.PRESETS)
intro_model = parameters.KNOWN_BY_KEY["bert-base-uncased"]
common.lesson_text("parameters", "intro", quoted=f"{intro_model.published / 1e6:,.0f}-million", model=intro_model.title,
                   exact=f"{widgets.count(intro_model.key).total:,}")

# --- 1. a real model, block by block -------------------------------------------------
st.header("Count a real model")
common.lesson_text("parameters", "count")
titles = {k.key: f"{k.title} · {k.model_class}" for k in parameters.KNOWN}
if common.hub_enabled() and not common.classroom():
    titles["__hub__"] = "Any Hub model (config.json only)…"
choice = st.selectbox("Model", list(titles), format_func=titles.get, key="parameters_model")
if choice == "__hub__":
    choice = st.text_input("Hub model id", placeholder="organization/model-name", key="parameters_hub_id")
breakdown = widgets.count_or_warn(choice) if choice else None
if breakdown is not None:
    known = parameters.KNOWN_BY_KEY.get(choice)
    cols = st.columns(3)
    cols[0].metric("Exact parameters", f"{breakdown.total:,}")
    if known:
        cols[1].metric("The figure usually quoted", widgets.human(known.published),
                       f"{(breakdown.total - known.published) / known.published:+.1%} exact vs quoted",
                       delta_color="off")
    cols[2].metric("Counted on the meta device in", f"{breakdown.seconds:.2f} s")
    if breakdown.tied:
        st.info(f"Tied weights counted once: {', '.join(f'`{a}` is `{b}`' for a, b in breakdown.tied.items())}. "
                f"A count that ignores tying reports {breakdown.naive_total:,} "
                f"({breakdown.naive_total - breakdown.total:+,}).", icon=":material/link:")
    st.subheader("Block by block, with the formula")
    widgets.breakdown_table(breakdown)
    widgets.first_layer_table(breakdown)
    if breakdown.architecture is None:
        st.caption("Glassbox has no formulas for this family: the exact counts above come from the meta device.")
    st.plotly_chart(widgets.treemap(breakdown, f"{breakdown.title}: where the {widgets.human(breakdown.total)} "
                                           "parameters are (click a block to zoom)"),
                    width="stretch", key="parameters_treemap")
    st.subheader("Why the rounded figure is not the exact one")
    common.lesson_text("parameters", "rounding")
    parts = parameters.rounding_explained(breakdown)
    st.dataframe(parts.assign(share=parts["parameters"] / breakdown.total), hide_index=True,
                 column_config={"parameters": widgets.COUNT, "share": widgets.SHARE})
    if not common.classroom():
        with st.expander("Every tensor", icon=":material/table:"):
            st.dataframe(breakdown.tensors.astype({"shape": str}), hide_index=True, width="stretch",
                         column_config={"parameters": widgets.COUNT})
    hub_id = known.hub_id if known else choice
    common.show_code(f"""
import torch, transformers

config = transformers.AutoConfig.from_pretrained("{hub_id}")  # a few KB: no weights
with torch.device("meta"):  # shapes only, no memory
    model = transformers.{breakdown.model_class}(config)
print(model.num_parameters())  # tied weights are counted once
for name, p in model.named_parameters():
    print(name, tuple(p.shape), p.numel())""")

# --- 2. models side by side, and over time -----------------------------------------
st.header("Side by side")
picked = st.multiselect("Models to compare", list(parameters.KNOWN_BY_KEY), format_func=lambda k: titles[k],
                        key="parameters_compare")
if picked:
    st.plotly_chart(widgets.stacked_bar(picked), width="stretch", key="parameters_stacked")
else:
    st.warning("Pick at least one model to compare.")
common.lesson_text("parameters", "compare")

st.header("Sizes over time")
with st.spinner("Counting every shipped model…"):
    timeline = parameters.timeline()
st.plotly_chart(widgets.timeline_chart(timeline), width="stretch", key="parameters_timeline")
st.subheader("The BERT family")
st.dataframe(parameters.variants_table(), hide_index=True, width="stretch", column_config={
    "quoted": widgets.COUNT, "exact": widgets.COUNT, "difference": widgets.SHARE})
common.lesson_text("parameters", "variants")

# --- 3. build your own, 4. memory (one fragment: the memory panel follows the builder) ----
st.header("Build your own Transformer")
common.lesson_text("parameters", "builder", **parameters.doubling_facts())
widgets.builder_and_memory(titles)

common.checkpoint("parameters")
common.next_lesson("parameters")
