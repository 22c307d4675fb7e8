"""The load tests' marker words (benchmarks/load_sessions.py): each student's sentence
carries its own word, and an answer that shows another student's word is a leak. That
check only means something if every marker is one token in both bundled models (so it
shows whole in the heatmap's labels) and no marker turns up in another's heatmap."""
import sys

import pytest

from lessons.widgets import attention as widgets
from lib import attention_models, course, model_loading

sys.path.insert(0, str(course.ROOT / "benchmarks"))
from load_sessions import MARKERS, TEMPLATES  # noqa: E402

MODELS = {"encoder": "minilm", "decoder": "smollm2-135m"}


@pytest.fixture(scope="module", params=sorted(MODELS))
def loaded(request):
    return model_loading.shared(MODELS[request.param], request.param, "cpu")


def test_there_are_markers_for_a_school_and_each_is_a_word_of_its_own():
    assert len(MARKERS) >= 150 and len(set(MARKERS)) == len(MARKERS)
    inside = [(a, b) for a in MARKERS for b in MARKERS if a != b and a in b]
    assert inside == []
    assert [m for m in MARKERS if any(m in t.lower() for t in TEMPLATES)] == []


def test_every_marker_is_one_token_in_both_models(loaded):
    split = [m for m in MARKERS if len(loaded.tokenizer(" " + m, add_special_tokens=False)["input_ids"]) != 1]
    assert split == []


def test_no_marker_shows_in_another_students_heatmap(loaded):
    """The heatmap the page sends (labels, title, Plotly's own keys such as hovertemplate), built
    by the page's own function."""
    for i, template in enumerate(TEMPLATES):
        own = MARKERS[i]
        real = attention_models.model_attention(loaded, template.format(m=own) + f" ({i})")
        labels = attention_models.readable_tokens(real)
        assert any(label.endswith(own) for label in labels)
        spec = widgets.real_heatmap_figure(real.attentions[0, 0], labels,
                                           f"{loaded.spec.title}: layer 1, head 1").to_json().lower()
        assert [m for m in MARKERS if m != own and m in spec] == []
