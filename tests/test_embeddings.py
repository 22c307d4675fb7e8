"""lib.embeddings against independent references: sklearn PCA, float64
cosines, the syllabus's bank sentence, and the separation of senses."""
import numpy as np
import pytest
import torch
from shipped_configs import config
from sklearn.decomposition import PCA

from lib import embeddings


def test_syllabus_bank_sentence_shape(minilm):
    encoded, states = embeddings.hidden_states(minilm, "He went to the bank to deposit money.")
    table = minilm.model.get_input_embeddings().weight  # (vocabulary, hidden size): the real tensor
    assert tuple(states.shape) == (1, 11, table.shape[1])
    course = config(embeddings.COURSE_MODEL)
    assert len(minilm.tokenizer) == course["vocab_size"] == table.shape[0]  # bert-base-uncased's WordPiece vocabulary
    assert minilm.tokenizer.do_lower_case  # uncased, as bert-base-uncased: the same tokens
    assert embeddings.course_model_shape(11) == (1, 11, course["hidden_size"])  # what the lesson says bert-base prints


def test_the_drift_wording_follows_the_measured_cosine(minilm):
    assert embeddings.drift_words(0.43) == "moved the word far from"
    assert embeddings.drift_words(0.5) == embeddings.drift_words(0.79) == "moved the word some way from"
    assert embeddings.drift_words(0.8) == embeddings.drift_words(1.0) == "barely moved the word from"
    _senses, _sentences, vectors = embeddings.sense_vectors(minilm, "bank", embeddings.BANK_SENTENCES)
    static = embeddings.static_vector(minilm, "bank")
    assert float(embeddings.cosine_matrix(torch.cat([static[None], vectors]))[0, 1:].mean()) < 0.5  # "far"


def test_contextual_vector_is_the_hidden_state_at_the_word(minilm):
    sentence = "She went to the bank to deposit her salary."
    word = embeddings.contextual_vector(minilm, sentence, "bank")
    encoded = minilm.tokenizer(sentence, return_tensors="pt")
    with torch.no_grad():
        states = minilm.model(**encoded).last_hidden_state[0]
    position = encoded["input_ids"][0].tolist().index(minilm.tokenizer.convert_tokens_to_ids("bank"))
    assert word.tokens == ["bank"]
    torch.testing.assert_close(word.vector, states[position])


def test_split_word_averages_its_pieces(minilm):
    word = embeddings.contextual_vector(minilm, "The embeddings are contextual.", "embeddings")
    assert len(word.tokens) > 1 and word.tokens[0] == "em"


def test_word_must_be_whole_word(minilm):
    with pytest.raises(ValueError):
        embeddings.contextual_vector(minilm, "The banker smiled.", "bank")


@pytest.mark.timeout(30)
def test_an_empty_word_is_refused_not_searched_forever(minilm):
    encoded, _ = embeddings.hidden_states(minilm, "We sat on the bank.")
    assert embeddings.word_token_positions(encoded["offset_mapping"][0], "We sat on the bank.", " ") == []
    with pytest.raises(ValueError, match="Type a word"):
        embeddings.contextual_vector(minilm, "We sat on the bank.", "")


def test_senses_separate(minilm):
    senses, _sentences, vectors = embeddings.sense_vectors(minilm, "bank", embeddings.BANK_SENTENCES)
    within, across = embeddings.within_and_across(embeddings.cosine_matrix(vectors), senses)
    assert within > across + 0.05
    coords, _ = embeddings.pca_2d(vectors)
    river, money = coords[:3, 0], coords[3:, 0]  # the first component splits the senses
    assert (river.max() < money.min()) or (money.max() < river.min())


def test_static_vector_is_the_embedding_row(minilm):
    row = minilm.model.get_input_embeddings().weight[minilm.tokenizer.convert_tokens_to_ids("bank")]
    torch.testing.assert_close(embeddings.static_vector(minilm, "bank"), row.detach())
    with pytest.raises(ValueError):
        embeddings.static_vector(minilm, "  ")


def test_cosine_matrix_float64_reference():
    vectors = torch.randn(5, 7, generator=torch.Generator().manual_seed(1))
    v = vectors.double().numpy()
    expected = (v @ v.T) / np.outer(np.linalg.norm(v, axis=1), np.linalg.norm(v, axis=1))
    np.testing.assert_allclose(embeddings.cosine_matrix(vectors).numpy(), expected, atol=1e-6)


def test_pca_matches_sklearn():
    vectors = torch.randn(20, 9, generator=torch.Generator().manual_seed(2))
    coords, explained = embeddings.pca_2d(vectors)
    reference = PCA(n_components=2).fit(vectors.double().numpy())
    expected = reference.transform(vectors.double().numpy())
    np.testing.assert_allclose(np.abs(coords.numpy()), np.abs(expected), atol=1e-4)  # signs are arbitrary
    np.testing.assert_allclose(explained.numpy(), reference.explained_variance_ratio_, atol=1e-5)


def test_sentence_embeddings_are_unit_and_batch_independent(minilm):
    sentences = embeddings.bundled_sentences()[:5]
    one_by_one = embeddings.sentence_embeddings(minilm, sentences, batch_size=1)
    batched = embeddings.sentence_embeddings(minilm, sentences, batch_size=5)
    torch.testing.assert_close(one_by_one, batched, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(batched.norm(dim=-1), torch.ones(5))


def test_semantic_search_finds_the_weather(minilm):
    corpus = embeddings.bundled_sentences()
    hits = embeddings.semantic_search(minilm, "Will I need an umbrella?", corpus, top_k=2)
    assert any("umbrella" in s or "rain" in s for s, _ in hits)
    assert hits[0][1] >= hits[1][1]
    with pytest.raises(ValueError):
        embeddings.semantic_search(minilm, " ", corpus)
