import pandas as pd
import streamlit as st

from lessons.widgets import common, trained
from lessons.widgets import finetuning as widgets
from lib import finetuning as ft

st.title("Fine-tuning a pretrained model")
common.shared_state("finetuning", widgets.SHARED, widgets.PRESETS)
widgets.first_screen()
common.lesson_text("finetuning", "intro")

st.header("1 · The data")
sources = {"bundled": "Bundled product reviews", "upload": "Upload a CSV (text,label)"}
if common.hub_enabled():
    sources |= {key: f"Hub: {spec.title}" for key, spec in ft.HUB_DATASETS.items()}
source = st.radio("Data set", list(sources), format_func=sources.get, horizontal=True, key="ft_source")
if source == "bundled":
    splits = ft.bundled_reviews()
    st.caption(f"{sum(map(len, splits.values()))} reviews written for Glassbox (scripts/make_reviews.py), "
               "balanced, already split into train / validation / test. The validation and test reviews are "
               "about products no training review mentions, and each has at least one sentence no training "
               "review contains; their openings and closings are the stock phrases the training reviews use.")
elif source == "upload":
    upload = st.file_uploader("CSV with columns text,label", type=["csv"], key="ft_upload")
    if upload is None:
        st.info("Upload a CSV to continue, or pick the bundled reviews.")
        st.stop()
    try:
        splits = ft.split_dataset(ft.parse_labelled_csv(upload.getvalue()))
    except ft.DataError as err:
        st.error(str(err))
        st.stop()
else:
    try:
        splits = widgets.hub_reviews(source)
    except ft.DataError as err:
        st.error(str(err))
        st.stop()
    st.caption(f"The first {ft.HUB_PER_LABEL} examples of each label in `{ft.HUB_DATASETS[source].repo}`, "
               "split 70/10/20 into train / validation / test.")
train_set, val_set, test_set = splits["train"], splits["validation"], splits["test"]
label_names = train_set.label_names
counts = pd.DataFrame({name: [data.labels.count(i) for i in range(len(label_names))]
                       for name, data in splits.items()}, index=label_names)
left, right = st.columns([2, 1])
left.dataframe(pd.DataFrame({"text": train_set.texts[:6], "label": [label_names[y] for y in train_set.labels[:6]]}),
               hide_index=True, width="stretch")
right.table(counts)

st.header("2 · Model and hyperparameters")
common.lesson_text("finetuning", "hyperparameters")
base = common.model_picker("encoder", "Pretrained encoder", key="ft_base")
common.model_card(base)
c1, c2, c3, c4 = st.columns(4)
cfg = ft.TrainConfig(
    learning_rate=c1.select_slider("Learning rate", widgets.LEARNING_RATES, key="ft_lr"),
    batch_size=c2.select_slider("Batch size", widgets.BATCH_SIZES, key="ft_bs"),
    epochs=c3.slider("Epochs", 1, 6, key="ft_epochs"),
    max_length=c4.select_slider("Max length (tokens)", widgets.MAX_LENGTHS, key="ft_maxlen"),
    warmup_ratio=c1.slider("Warm-up (share of steps)", 0.0, 0.5, step=0.05, key="ft_warmup"),
    schedule=c2.selectbox("Schedule", widgets.SCHEDULES, key="ft_schedule"),
    early_stopping_patience=c3.number_input("Early stopping patience (epochs, 0 = off)", 0, 5, key="ft_patience"),
    seed=c4.number_input("Seed", 0, 10_000, key="ft_seed"),
    freeze_encoder=st.toggle("Freeze the encoder (train only the new head)", key="ft_freeze"),
)
fewest = min(20, len(train_set))
st.session_state["ft_limit"] = min(max(st.session_state["ft_limit"], fewest), len(train_set))  # fits this data set
limit = st.slider("Training examples to use", fewest, len(train_set), key="ft_limit",
                  help="Fewer examples train faster; the test set stays the same.")
widgets.training_plan(base, limit, len(label_names), cfg)
common.show_code(ft.TRAINER_CODE)

st.header("3 · Train")
if st.button("Fine-tune", type="primary", icon=":material/play_arrow:", key="ft_train"):
    subset = train_set.subset(limit, cfg.seed) if limit < len(train_set) else train_set
    widgets.fine_tune(base, subset, val_set, test_set, cfg)
widgets.finish_run()  # the run just trained, or one a Stop ended part-way on the run before

result = st.session_state.get("ft_result")
if result:
    st.caption("Your run's curves and confusion matrix are now the pictures at the top of the page.")
    widgets.run_notes(result["run"])
st.header("4 · Evaluate")
if not result:
    st.caption("Fine-tune above first: this section then scores the model on the held-out test set.")
else:
    common.lesson_text("finetuning", "evaluate")
    widgets.evaluation(result)
    st.success("The fine-tuned model is saved in this session: the pipelines lesson offers it for "
               "sentiment analysis.", icon=":material/check_circle:")

st.header("5 · Attention before and after fine-tuning")
if not result:
    st.caption("Fine-tune above first: this section then compares MiniLM's attention before and after.")
else:
    sentence = st.text_input("Sentence", max_chars=300, key="ft_attention_text")
    finetuned = trained.kept("finetune_model", "fine-tuned model")
    if sentence.strip() and finetuned is not None:
        widgets.attention_section(result, sentence, finetuned)

    if finetuned is not None:
        st.header("6 · Save, reload, share")
        common.lesson_text("finetuning", "save")
        widgets.save_section(result, finetuned)

        st.header("7 · Making the model smaller")
        common.lesson_text("finetuning", "smaller")
        widgets.smaller_section(result, finetuned)
        st.subheader("Memory while training: bf16 autocast and gradient checkpointing")
        common.lesson_text("finetuning", "memory")
        widgets.memory_section(finetuned, result["test"])

saved_sections = bool(result) and finetuned is not None
st.header(f"{8 if saved_sections else 6} · A small hyperparameter sweep")  # 6 and 7 need a fine-tuned model
small = train_set.subset(ft.SWEEP_EXAMPLES, 0)
st.write(f"Each cell of the grid is a full fine-tuning run on {len(small)} training examples, one after another.")
rates = st.multiselect("Learning rates", [1e-5, 3e-5, 1e-4, 3e-4], [3e-5, 1e-4, 3e-4], key="ft_sweep_lrs")
epochs = st.multiselect("Epochs", [1, 2, 3], [1, 2], key="ft_sweep_epochs")
if st.button("Run the sweep", icon=":material/grid_view:", key="ft_sweep"):
    grid = [(lr, ep) for lr in rates for ep in epochs]
    rows = st.session_state["ft_sweep_rows"] = []

    def record(i, row):
        rows.append(row)

    with widgets.training_slot():
        common.live_run(ft.sweep(base, small, val_set, grid, common.device()), len(grid), "Sweep", record)
if st.session_state.get("ft_sweep_rows"):
    table = pd.DataFrame(st.session_state["ft_sweep_rows"])
    st.dataframe(table, hide_index=True, width="stretch")
    st.plotly_chart(widgets.sweep_chart(table), width="stretch")

common.checkpoint("finetuning")
common.next_lesson("finetuning")
