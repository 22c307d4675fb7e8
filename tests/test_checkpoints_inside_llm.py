"""Inside-a-language-model checkpoint: answers recomputed by hand, the bands cover every layer once,
and the predict question's reveal runs the real logit lens."""
import json
import re

import pytest

from lib import checkpoints, model_registry
from lib.checkpoints import inside_llm as questions_module

RAW = json.loads((model_registry.CONFIG_DIR / "SmolLM2-135M.json").read_text())


@pytest.mark.parametrize("layers", [6, 12, 30, 32])
def test_the_answer_bands_cover_every_lens_row_exactly_once(layers):
    bands = questions_module.layer_bands(layers)
    rows = [r for _, first, last in bands for r in range(first, last + 1)]
    assert rows == list(range(layers + 1))
    assert bands[-1][0] == f"only at the last layer ({layers})"
    assert questions_module.band_of(layers, layers) == bands[-1][0] and questions_module.band_of(0, layers) == bands[0][0]


@pytest.mark.parametrize("seed", range(20))
def test_computed_answers_match_hand_arithmetic(seed):
    drawn = checkpoints.questions("inside_llm", seed)
    cache = next(q for q in drawn if "bytes does its KV cache" in q.prompt)
    found = re.search(r"has (\d+) layers, (\d+) key-value heads of head_dim (\d+).*\((\d) bytes\).* of ([\d,]+) "
                      r"tokens", cache.prompt)
    layers, kv, head_dim, width, tokens = (int(n.replace(",", "")) for n in found.groups())
    assert cache.answer == 2 * layers * kv * head_dim * tokens * width
    gqa = next(q for q in drawn if "grouped-query" in q.prompt)
    assert gqa.answer.startswith(f"{RAW['num_attention_heads'] // RAW['num_key_value_heads']}× smaller")
    predict = next(q for q in drawn if q.kind == "predict")
    assert len(predict.options) == 4 and f"({RAW['num_hidden_layers']})" in predict.options[-1]


def test_the_reveal_runs_the_lens_and_names_one_of_the_options():
    predict = next(q for q in checkpoints.questions("inside_llm", 3) if q.kind == "predict")
    revealed = predict.reveal()
    assert revealed.answer in predict.options
    assert len(revealed.table) == RAW["num_hidden_layers"] + 1
    assert revealed.table["rank"].iloc[-1] == 1  # the model's own answer tops the last layer
    first = revealed.table["rank"].tolist().index(1)
    assert revealed.answer == questions_module.band_of(first, RAW["num_hidden_layers"])
    assert predict.check(revealed.answer, revealed.answer)
