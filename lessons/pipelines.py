import pandas as pd
import plotly.express as px
import streamlit as st

from lessons.widgets import common
from lessons.widgets import pipelines as widgets
from lib import embeddings, model_registry, parameters, pipelines

K = "pipelines"
BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64]

st.title("HuggingFace pipelines")
common.shared_state(K, widgets.SHARED, widgets.PRESETS)
widgets.first_screen()
common.lesson_text(K, "intro")

# --- the playground ---------------------------------------------------------------
st.header("Pipeline playground")
task = pipelines.TASK_BY_KEY[st.selectbox("Task", list(pipelines.TASK_BY_KEY), key=f"{K}_task",
                                          format_func=lambda key: pipelines.TASK_BY_KEY[key].title)]
spec = model_registry.REGISTRY[task.model_key]
st.markdown(f"**Use it to:** {task.use_case}  \n**Model:** {spec.title} · "
            f"{'trained here, works offline' if spec.trained else 'bundled, works offline' if task.offline else 'from the Hub'} · {spec.license}")
if task.note:
    st.caption(task.note)
common.show_code(f"from transformers import pipeline\n{task.code}", label="The two-line pipeline")
widgets.run_task(task)

# --- the task table, from transformers -------------------------------------------
st.header("Every task pipeline() knows")
st.markdown("The table comes from transformers itself (`transformers.pipelines.SUPPORTED_TASKS` and its aliases), "
            "so it is the list your installed version accepts. Given no `model=`, `pipeline(task)` downloads the "
            "default model named here.")
widgets.task_table()

# --- under the hood ---------------------------------------------------------------
st.header("Under the hood")
common.lesson_text(K, "under_the_hood")
widgets.hood_section(task)
vocab_size = parameters.shipped_config("SmolLM2-135M")["vocab_size"]  # one score per token of the vocabulary
common.show_code(f"""
from transformers import AutoTokenizer, AutoModelForCausalLM
tokenizer = AutoTokenizer.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")
model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")
inputs = tokenizer("Paris is the capital of", return_tensors="pt")    # step 1
logits = model(**inputs).logits                                       # step 2: (1, seq, {vocab_size})
probs = logits[0, -1].softmax(-1)                                     # step 3
print([tokenizer.decode(i) for i in probs.topk(5).indices])
""")

# --- batching -----------------------------------------------------------------------
st.header("Why batching matters")
common.lesson_text(K, "batching")
sentences = (embeddings.bundled_sentences() * 3)[:BATCH_SIZES[-1]]
if st.button(f"Measure throughput for batch sizes {BATCH_SIZES[0]}…{BATCH_SIZES[-1]}",
             key=f"{K}_measure_batches"):
    encoder = common.load_model("minilm", "encoder")
    rows = st.session_state[f"{K}_batch_rows"] = []
    common.live_run(pipelines.batch_throughput(encoder, sentences, BATCH_SIZES), len(BATCH_SIZES),
                f"Embedding {len(sentences)} sentences", lambda i, row: rows.append(row))
rows = st.session_state.get(f"{K}_batch_rows")
if rows:
    table = pd.DataFrame(rows)
    fig = px.line(table, x="batch_size", y="sentences_per_s", markers=True, log_x=True,
                  title=f"MiniLM throughput on {common.device().upper()} ({len(sentences)} sentences)",
                  labels={"batch_size": "batch size", "sentences_per_s": "sentences per second"})
    st.plotly_chart(fig, width="stretch")
    best = table.loc[table["sentences_per_s"].idxmax()]
    st.markdown(f"Batch size **{int(best.batch_size)}** was the fastest: "
                f"**{best.sentences_per_s / table.sentences_per_s.iloc[0]:.1f}×** the throughput of one "
                "sentence at a time.")
common.show_code("""
extractor = pipeline("feature-extraction", model="sentence-transformers/all-MiniLM-L6-v2")
vectors = extractor(sentences, batch_size=32)   # 32 sentences per forward pass
""")

common.checkpoint(K)
common.next_lesson(K)
