"""Transformer checkpoint: 50 seeds, every answer recomputed here, not with the lesson's helpers: the masking
count in float arithmetic, the head groups from the shipped SmolLM2 config, and the predicted alignment from
the toy translator's cross-attention read straight off a forward pass."""
import re

import pytest
import torch
from shipped_configs import config

from lib import checkpoints
from lib import transformer_seq2seq as seq2seq

SEEDS = range(50)


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_an_independent_computation(seed):
    questions = checkpoints.questions("transformer", seed)
    kinds = [q.kind for q in questions]
    assert kinds.count("concept") == 2 and kinds[-1] == "predict"
    for question in questions:
        if question.kind == "concept":
            assert question.answer in question.options and len(question.options) == 4
            assert set(question.feedback) == set(question.options) - {question.answer}
    count = questions[1]
    if "batch holds" in count.prompt:
        words = int(re.search(r"holds ([\d,]+) words", count.prompt).group(1).replace(",", ""))
        assert count.answer == pytest.approx(words * 0.15 * 0.8)
    else:
        smollm2 = config("SmolLM2-135M")
        assert count.answer == str(smollm2["num_attention_heads"] // smollm2["num_key_value_heads"])
    predict = questions[-1]
    sentence = re.search(r"turns \*([^*]+)\*", predict.prompt).group(1)
    assert set(sentence.lower().split()) <= set(predict.options)


@pytest.mark.parametrize("seed", [0, 3])
def test_the_reveal_reads_the_class_translator(seed):
    question = checkpoints.questions("transformer", seed)[-1]
    sentence = re.search(r"turns \*([^*]+)\*", question.prompt).group(1)
    french = re.search(r"writes \*\*([^*]+)\*\*", question.prompt).group(1)
    revealed = question.reveal()
    model = seq2seq.class_copy().model
    source = sentence.lower().split() + ["</s>"]
    target_words = question.prompt.split("into *")[1].split("*")[0].split()
    with torch.no_grad():
        src = torch.tensor([seq2seq.SOURCE_VOCAB.ids(source)])
        tgt = torch.tensor([seq2seq.TARGET_VOCAB.ids(["<s>", *target_words])])
        _, attentions = model(src, tgt)
    row = target_words.index(french)
    peak = source[int(attentions.cross[-1][0].mean(0)[row].argmax())]
    assert revealed.answer == peak and revealed.answer in question.options
    assert revealed.table is not None and abs(revealed.table["weight"].sum() - 1) < 0.01
