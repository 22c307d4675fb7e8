"""Students who ask a shared model at the same moment share one forward pass
(lib/attention_models.model_attention): each must still get their own text's weights."""
import threading

import numpy as np
import pytest
import torch

from lib import attention_models

TEXTS = ["The cat sat on the mat.",
         "My teacher said the volcano was the best example in the whole chapter.",
         "Why?",
         "A small lantern can change how the sentence is read by the model, she said quietly."]


def alone(loaded, text: str) -> np.ndarray:
    """One pass over `text` by itself, straight through the model: (layers, heads, seq, seq)."""
    with torch.inference_mode():
        out = loaded.model.base_model(**loaded.tokenizer(text, return_tensors="pt"), output_attentions=True)
    return torch.stack(out.attentions)[:, 0].numpy()


def ask_at_once(loaded, texts: list[str]) -> tuple[list, list[int]]:
    """Every text asked from its own thread while the model's lock is held, so all of them wait;
    returns each thread's answer and the batch sizes of the passes that ran."""
    sizes, answers = [], [None] * len(texts)
    forward = attention_models.forward_together

    def counted(loaded_, encoded):
        sizes.append(len(encoded))
        return forward(loaded_, encoded)

    def ask(i):
        try:
            answers[i] = attention_models.model_attention(loaded, texts[i])
        except Exception as err:  # noqa: BLE001 - the test looks at what each student got
            answers[i] = err

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(texts))]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(attention_models, "forward_together", counted)
        with loaded.lock:
            for t in threads:
                t.start()
            while len(attention_models._waiting.get(id(loaded), [])) < len(texts):
                threading.Event().wait(0.01)
        for t in threads:
            t.join(60)
    return answers, sizes


@pytest.mark.slow
@pytest.mark.parametrize("model", ["minilm", "smollm2"])
def test_texts_asked_together_share_a_pass_and_each_gets_its_own_weights(model, request):
    loaded = request.getfixturevalue(model)
    answers, sizes = ask_at_once(loaded, TEXTS)
    assert sizes == [len(TEXTS)]  # one padded pass for all four
    for text, answer in zip(TEXTS, answers):
        expected = alone(loaded, text)
        assert answer.attentions.shape == expected.shape
        np.testing.assert_allclose(answer.attentions, expected, atol=1e-5)  # 30 layers of float32 sums in another order
        assert answer.tokens == loaded.tokenizer.convert_ids_to_tokens(loaded.tokenizer(text)["input_ids"])
        np.testing.assert_allclose(answer.attentions.sum(-1), 1, atol=1e-5)  # padding took no weight


@pytest.mark.slow
def test_a_long_text_runs_alone_and_a_failed_pass_fails_only_its_own_students(minilm, monkeypatch):
    long_text = "The cat sat on the mat. " * 20  # beyond BATCH_TOKEN_LIMIT
    assert len(minilm.tokenizer(long_text)["input_ids"]) > attention_models.BATCH_TOKEN_LIMIT
    answers, sizes = ask_at_once(minilm, [TEXTS[0], long_text, TEXTS[1]])
    assert sorted(sizes) == [1, 2]
    np.testing.assert_allclose(answers[1].attentions, alone(minilm, long_text), atol=1e-5)

    forward = attention_models.forward_together

    def fails_on_long(loaded, encoded):
        if any(e["input_ids"].shape[1] > attention_models.BATCH_TOKEN_LIMIT for e in encoded):
            raise MemoryError("out of memory")
        return forward(loaded, encoded)

    monkeypatch.setattr(attention_models, "forward_together", fails_on_long)
    answers, _ = ask_at_once(minilm, [TEXTS[0], long_text, TEXTS[1]])
    assert isinstance(answers[1], MemoryError)
    assert [type(answers[i]).__name__ for i in (0, 2)] == ["ModelAttention", "ModelAttention"]
