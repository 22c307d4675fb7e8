import streamlit as st

from lessons.widgets import common
from lessons.widgets import tokenizers as widgets
from lib import tokenization

st.title("Tokenizers: how text becomes numbers")
common.shared_state("tokenizers", widgets.SHARED, widgets.PRESETS)
st.markdown("**Every tokenizer cuts the same text into different pieces**: the bars count them, the chips below "
            "show them. Type anything, an emoji or another language, and watch the counts move.")
text = widgets.capped(st.text_area("Your text", height=100, key="tokenizers_text"),
                  tokenization.MAX_TEXT_CHARS, "text")

tokenizers, missing = widgets.bundled_tokenizers()
for reason in missing:
    st.warning(reason, icon=":material/cloud_off:")
if not common.classroom():
    hub = widgets.hub_tokenizer(st.text_input("Add any tokenizer from the Hub (needs internet)", key="tokenizers_hub_id",
                                          placeholder="e.g. google-t5/t5-small or FacebookAI/xlm-roberta-base"))
    tokenizers = tokenizers + [hub] if hub else tokenizers
trained = st.session_state.get("tokenizers_trained")
tokenizers = tokenizers + [trained["view"]] if trained else tokenizers
encodings = tokenization.compare(text, tokenizers) if text.strip() else []
summary = tokenization.summary_table(encodings, tokenizers) if encodings else None
if summary is not None:
    st.plotly_chart(widgets.tokens_chart(summary), width="stretch", key="tokenizers_counts")
common.lesson_text("tokenizers", "intro")

compare_tab, languages_tab, algorithms_tab, train_tab, embeddings_tab = st.tabs(
    ["Side by side", "Across languages", "How the algorithms work", "Train your own", "Ids → embeddings"])

with compare_tab:
    common.lesson_text("tokenizers", "compare")
    if not encodings:
        st.warning("Type some text above to see how each tokenizer cuts it.")
    else:
        st.dataframe(summary, hide_index=True, width="stretch", key="tokenizers_summary")
        for view, encoding in zip(tokenizers, encodings):
            widgets.show_encoding(view, encoding)
    common.show_code("""
import tiktoken                      # OpenAI's BPE (downloads cl100k_base once when online)
from tokenizers import Tokenizer     # HuggingFace's fast tokenizers

enc = tiktoken.get_encoding("cl100k_base")
ids = enc.encode("unbelievable")
print(ids, [enc.decode_single_token_bytes(i) for i in ids])

bert = Tokenizer.from_pretrained("bert-base-uncased")
out = bert.encode("unbelievable")
print(out.ids, out.tokens)           # [CLS] and [SEP] are added for you
""")

with languages_tab:
    common.lesson_text("tokenizers", "languages")
    costs = tokenization.language_costs(widgets.SAMPLES["samples"], tokenizers, widgets.SAMPLES["baseline"])
    st.plotly_chart(widgets.language_chart(costs), width="stretch")
    st.markdown(widgets.gap_sentence(*tokenization.widest_gap(costs, widgets.SAMPLES["translations"])))
    ratios = costs.pivot(index="tokenizer", columns="sample", values="× English").reindex(costs["tokenizer"].unique())
    st.dataframe(ratios[widgets.SAMPLES["translations"]], width="stretch", key="tokenizers_fertility")
    if note := widgets.unknown_note(costs):
        st.info(note, icon=":material/help:")
    with st.expander("The sample sentences"):
        st.table(widgets.SAMPLES["samples"])

with algorithms_tab:
    st.subheader("BPE: merge the most frequent pair, again and again")
    common.lesson_text("tokenizers", "bpe")
    widgets.bpe_section()
    st.subheader("WordPiece: the longest piece that fits, with `##`")
    common.lesson_text("tokenizers", "wordpiece")
    widgets.wordpiece_section()
    st.subheader("SentencePiece: spaces become ▁")
    common.lesson_text("tokenizers", "sentencepiece")
    widgets.sentencepiece_section()

with train_tab:
    common.lesson_text("tokenizers", "train")
    widgets.train_section(text, trained)
    common.show_code("""
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers

tokenizer = Tokenizer(models.BPE())
tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tokenizer.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=2000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
tokenizer.train(["corpus.txt"], trainer)
tokenizer.save("tokenizer.json")
""")

with embeddings_tab:
    common.lesson_text("tokenizers", "embeddings")
    loaded = common.load_model("minilm", role="encoder")
    table = loaded.model.get_input_embeddings().weight
    st.metric("MiniLM's embedding matrix (vocabulary × hidden size)", " × ".join(f"{n:,}" for n in table.shape))
    if text.strip():
        with loaded.lock:
            every_id = loaded.tokenizer(text, truncation=True)["input_ids"]
            ids = every_id[:40]
            pieces = loaded.tokenizer.convert_ids_to_tokens(ids)
            rows = tokenization.embedding_rows(loaded.model, ids)  # (tokens, hidden_size)
        shown = f"{len(ids)} ids" + (f" (the first 40 of {len(every_id):,})" if len(every_id) > 40 else "")
        st.markdown(f"MiniLM's tokenizer turns your text into {shown}; for each, the embedding layer returns "
                    "row number *id* of the matrix:")
        st.dataframe(tokenization.lookup_table(pieces, ids, rows), hide_index=True, key="tokenizers_lookup")
        st.plotly_chart(widgets.embedding_heatmap(rows, pieces), width="stretch")
    common.show_code("""
from transformers import AutoModel, AutoTokenizer
tok = AutoTokenizer.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
model = AutoModel.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
ids = tok("unbelievable")["input_ids"]
table = model.get_input_embeddings().weight      # (vocab_size, hidden_size)
rows = table[ids]                                # (len(ids), hidden_size): one row per id
""")

common.checkpoint("tokenizers")
common.next_lesson("tokenizers")
