"""The glossary: every technical word a lesson's prose uses has an entry; its definition shows beside the
paragraph where the page first uses it; the home page lists and filters the whole glossary."""
import re

import pytest
from streamlit.testing.v1 import AppTest

from lib import glossary, prose

PROSE = sorted(prose.LESSON_DIR.glob("*/*.md"))
# Technical words a student may not know: wherever a lesson's prose uses one, the glossary must define it.
TECHNICAL = [
    "logit", "logits", "embedding", "embeddings", "residual", "residual stream", "LayerNorm", "layer norm", "RMSNorm",
    "perplexity", "real-time factor", "MFCC", "MFCCs", "softmax", "tokenizer", "attention head", "attention heads",
    "multi-head attention", "gradient", "gradients", "backpropagation", "backprop", "chain rule", "derivative",
    "cross-entropy", "loss function", "learning rate", "epoch", "epochs", "batch size", "optimizer", "Adam", "AdamW",
    "SGD", "overfitting", "underfitting", "ReLU", "GELU", "SiLU", "SwiGLU", "tanh", "sigmoid", "kernel",
    "convolution", "stride", "padding", "feature map", "pooling", "max pooling", "Grad-CAM", "transfer learning",
    "fine-tuning", "pretrained", "LSTM", "GRU", "RNN", "hidden state", "vanishing gradient", "exploding gradient",
    "singular value", "singular values", "BPTT", "forget gate", "causal mask", "attention mask", "bidirectional",
    "positional encoding", "position embeddings", "RoPE", "BPE", "byte-pair encoding", "WordPiece", "SentencePiece",
    "unigram", "vocabulary", "token", "parameter", "float32", "float16", "fp16", "bfloat16", "bf16", "int8",
    "quantization", "quantized", "GGUF", "FLOPs", "roofline", "arithmetic intensity", "Tensor Core", "CUDA",
    "CUDA context", "GiB", "MiB", "dtype", "meta device", "diarization", "voice activity detection", "VAD",
    "word error rate", "WER", "spectrogram", "mel spectrogram", "log-mel", "encoder", "decoder", "encoder-decoder",
    "decoder-only", "encoder-only", "sequence-to-sequence", "pipeline", "MLM", "masked language modelling", "CLS",
    "cosine similarity", "dot product", "bias", "activation function", "neuron", "inference", "forward pass",
    "backward pass", "temperature", "top-k", "top-p", "greedy decoding", "autoregressive", "Transformer",
    "feed-forward", "FFN", "MLP", "context window", "throughput", "latency", "recall", "F1", "hyperparameter",
    "tensor", "KV cache", "logit lens", "LoRA", "beam search", "distillation", "distilled", "cross-attention",
    "self-attention", "teacher forcing", "dropout", "weight decay", "regularization", "batch norm",
    "batch normalization", "receptive field", "ImageNet", "MNIST", "speaker embedding", "semantic search",
    "static embedding", "word2vec", "nucleus sampling", "byte fallback", "mixed precision", "memory bandwidth",
]


def uses(word: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", glossary.prose_only(text), re.IGNORECASE) is not None


def defined_forms() -> set[str]:
    return {form.lower() for term in glossary.terms() for form in term.forms}


def test_the_glossary_is_well_formed():
    terms = glossary.terms()
    assert len(terms) >= 100
    forms = [form.lower() for term in terms for form in term.forms]
    assert len(forms) == len(set(forms)), "a form belongs to one term only"
    for term in terms:
        assert term.definition.endswith(".") and len(term.definition) < 300, term.term
        assert term.term.lower() not in term.definition.lower()[:len(term.term) + 2], f"{term.term}: circular"


@pytest.mark.parametrize("path", PROSE, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_technical_word_in_the_prose_has_an_entry(path):
    text = path.read_text(encoding="utf-8")
    missing = [word for word in TECHNICAL if uses(word, text) and word.lower() not in defined_forms()]
    assert not missing, f"{path.parent.name}/{path.name} uses {missing}: add them to assets/glossary.md"


def test_terms_are_found_in_prose_only():
    text = ("A `softmax` in code, $\\text{logit}$ in math, [tanh](https://x) in a link,\n# ReLU heading\n"
            "then the LOGITS, an embedding and the CUDA context in words; re-embedding is not one.")
    assert [t.term for t in glossary.used_terms(text)] == ["logit", "embedding", "CUDA context"]


def two_parts_page():
    from lessons.widgets import common

    common.lesson_text("attention", "dot_product")
    common.lesson_text("attention", "steps")


def test_a_definition_shows_where_the_page_first_uses_the_term():
    at = AppTest.from_function(two_parts_page, default_timeout=30)
    at.run()
    first, second = (glossary.used_terms(prose.lesson_markdown("attention", part)) for part in ("dot_product", "steps"))
    shared = {t.term for t in first} & {t.term for t in second}
    assert shared, "the two parts share a term"
    shown = [m.value for m in at.markdown]
    assert shown[0] == prose.lesson_markdown("attention", "dot_product").strip()  # the prose itself is unchanged
    assert shown[1] == glossary.definitions_markdown(first)  # in the popover after it
    assert shown[3] == glossary.definitions_markdown([t for t in second if t.term not in shared])
    popovers = [block.proto.popover.label for block in at.main.children.values()
                if type(block.proto).__name__ == "Block" and block.proto.HasField("popover")]
    assert popovers == [f"Terms first used here ({len(first)})", f"Terms first used here ({len(second) - len(shared)})"]
    at.run()
    assert [m.value for m in at.markdown] == shown  # the same on every rerun


def glossary_page():
    from lessons.widgets import home

    home.glossary_list()


def test_the_home_page_lists_and_filters_the_glossary():
    at = AppTest.from_function(glossary_page)
    at.run()
    listed = at.markdown[0].value.splitlines()
    assert len(listed) == len(glossary.terms()) and at.expander[0].label == f"All {len(glossary.terms())} terms"
    at.text_input(key="home_glossary_filter").input("mfcc").run()
    assert at.markdown[0].value.startswith("- **MFCC** (MFCCs): Mel-frequency cepstral coefficients")
    at.text_input(key="home_glossary_filter").input("<script>zzz").run()
    assert at.caption[0].value == "No term matches “<script>zzz”."


def test_the_home_page_links_the_glossary():
    source = (prose.LESSON_DIR.parent.parent / "lessons" / "home.py").read_text(encoding="utf-8")
    assert "(#glossary)" in source and 'anchor="glossary"' in source
