"""The contextual-embeddings lesson's widgets: one vector per token, 'bank' in
context against its static vector, and semantic search. The numbers come from lib/embeddings.py."""
import pandas as pd
import plotly.express as px
import streamlit as st
import torch

from lessons.widgets import charts, common
from lib import embeddings, urlstate

K = "embeddings"
SHAPE_SENTENCE = "He went to the bank to deposit money."
MAX_CHARS = 500  # longer sentences and queries are cut: MiniLM was trained on short texts
SHARED = {
    "word": urlstate.Text(f"{K}_word", "bank", max_chars=40),
    "mine": urlstate.Text(f"{K}_sentence", "I left my bike outside the bank and went in to pay a cheque.",
                          max_chars=MAX_CHARS),
    "q": urlstate.Text(f"{K}_query", "Will I need an umbrella?", max_chars=MAX_CHARS),
}
PRESETS = {
    "A river bank of my own": {"mine": "We had a picnic on the grassy bank of the stream.",
                               "q": "Where can we walk by the water?"},
    "A money bank of my own": {"mine": "I asked the bank for a loan to buy a car.", "q": "How do I pay my rent?"},
    "Meaning, not shared words": {"q": "Is it going to be wet outside tonight?"},
}


def token_vectors(encoder) -> None:
    """The shape sentence's tokens and the (batch, tokens, hidden_size) tensor they become."""
    config = encoder.model.config
    encoded, states = embeddings.hidden_states(encoder, SHAPE_SENTENCE)
    tokens = encoder.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())
    st.markdown(f"`{SHAPE_SENTENCE}` becomes {len(tokens)} tokens: " + " ".join(f"`{t}`" for t in tokens))
    st.metric("last_hidden_state.shape (batch, tokens, hidden_size)", str(tuple(states.shape)))
    course_shape = embeddings.course_model_shape(len(tokens))
    common.lesson_text(K, "shape", hidden=config.hidden_size, tokens=len(tokens),
                       vocab=f"{len(encoder.tokenizer):,}", course_hidden=course_shape[-1], course_shape=course_shape)
    common.show_code(f"""
inputs = tokenizer("{SHAPE_SENTENCE}", return_tensors="pt")
outputs = model(**inputs)
outputs.last_hidden_state.shape   # {tuple(states.shape)} with MiniLM; {course_shape} with {embeddings.COURSE_MODEL}
""")


@common.fragment
def bank_section(encoder) -> None:
    config = encoder.model.config
    st.markdown(f"**The same word gets a different vector in every sentence**: each point is the word in one "
                f"sentence, its {config.hidden_size} numbers squeezed to 2. Do the river sentences and the money "
                "sentences form two groups? Add a sentence of your own and see where it lands.")
    controls, picture = st.columns([1, 2])
    word = controls.text_input("Word to follow", key=f"{K}_word")
    yours = controls.text_input("Your own sentence using that word", key=f"{K}_sentence")
    groups = {sense: list(group) for sense, group in embeddings.BANK_SENTENCES.items()}
    if yours.strip():
        groups["yours"] = [yours.strip()[:MAX_CHARS]]
    try:
        senses, sentences, vectors = embeddings.sense_vectors(encoder, word, groups)
        static = embeddings.static_vector(encoder, word)
    except ValueError as err:
        st.warning(f"{err} Use a word that appears in every sentence (the example sentences use 'bank').")
        return
    labels = [f"{i + 1}. {sense}" for i, sense in enumerate(senses)]
    similarity = embeddings.cosine_matrix(vectors)
    fig = charts.heatmap(similarity.numpy(), labels, labels, zrange=(0, 1), cell_text=".2f", colorbar_title="cosine",
                         title=f"Cosine similarity of the contextual '{word}' vectors", x_title="sentence",
                         y_title="sentence", height=450, line_chars=charts.LINE_CHARS["half"])
    coords, explained = embeddings.pca_2d(vectors)
    points = pd.DataFrame({"PC1": coords[:, 0], "PC2": coords[:, 1], "sense": senses, "sentence": sentences})
    scatter = px.scatter(points, x="PC1", y="PC2", color="sense", hover_data=["sentence"], symbol="sense",
                         color_discrete_sequence=px.colors.qualitative.Safe,
                         title=f"PCA of the '{word}' vectors ({100 * float(explained.sum()):.0f}% of variance)")
    scatter.update_traces(marker_size=14)
    picture.plotly_chart(scatter, width="stretch")
    st.header("'bank' by the river, 'bank' for money")
    common.lesson_text(K, "bank", river=len(embeddings.BANK_SENTENCES["river"]),
                       money=len(embeddings.BANK_SENTENCES["money"]), hidden=config.hidden_size)
    left, right = st.columns(2)
    left.plotly_chart(fig, width="stretch")
    right.dataframe(pd.DataFrame({"sentence": sentences, "sense": senses}, index=labels), width="stretch")
    within, across = embeddings.within_and_across(similarity, senses)
    to_static = embeddings.cosine_matrix(torch.cat([static[None], vectors]))[0, 1:]
    cols = st.columns(3)
    cols[0].metric("Same sense: mean cosine", f"{within:.2f}")
    cols[1].metric("Different senses: mean cosine", f"{across:.2f}")
    cols[2].metric("Static vs contextual: mean cosine", f"{float(to_static.mean()):.2f}")
    st.markdown(f"The static row of the input embedding matrix for '{word}' is one vector, the same in every "
                f"sentence. Its cosine with the contextual vectors above ranges from {float(to_static.min()):.2f}"
                f" to {float(to_static.max()):.2f}: {config.num_hidden_layers} layers of attention have "
                f"{embeddings.drift_words(float(to_static.mean()))} where it started.")
    common.show_code("""
static = model.get_input_embeddings().weight[tokenizer.convert_tokens_to_ids("bank")]  # same in every sentence
contextual = model(**tokenizer(sentence, return_tensors="pt")).last_hidden_state[0, position]
""")


@st.cache_data(show_spinner="Embedding the sentence collection…")
def corpus_vectors(_encoder, device: str) -> torch.Tensor:
    """The bundled sentences' embeddings, once per device (the encoder is the class's shared copy)."""
    return embeddings.sentence_embeddings(_encoder, embeddings.bundled_sentences())


@common.fragment
def search_section(encoder) -> None:
    st.header("Semantic search")
    corpus = embeddings.bundled_sentences()
    common.lesson_text(K, "search", count=len(corpus))
    query = st.text_input("Search the sentence collection", key=f"{K}_query")
    try:
        hits = embeddings.semantic_search(encoder, query[:MAX_CHARS], corpus, top_k=5,
                                          corpus_vectors=corpus_vectors(encoder, encoder.device))
    except ValueError as err:
        st.warning(str(err))
        return
    st.dataframe(pd.DataFrame(hits, columns=["sentence", "cosine similarity"]).round(3), width="stretch",
                 hide_index=True)
    with st.expander(f"The {len(corpus)} sentences searched"):
        st.markdown("\n".join(f"- {s}" for s in corpus))
