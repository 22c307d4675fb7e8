"""Model cards: for each model a lesson runs, its licence, what it was trained on, what it
is meant for and where it fails — summarised from the card its authors published on the
Hub (linked), or, for a model trained here, read from the README.md saved with it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from lib import model_registry


@dataclass(frozen=True)
class Card:
    licence: str
    training_data: str
    intended_use: str
    limits: str
    source: str  # where the full card is: a Hub address, or the saved folder's README.md


_PUBLISHED = {  # key -> (training data, intended use, limits), from the card at the model's Hub address
    "minilm": ("Started from MiniLM-L6-H384-uncased, then trained contrastively on over a billion sentence pairs "
               "(Reddit comments, S2ORC citation pairs, WikiAnswers, PAQ, Stack Exchange, MS MARCO and others).",
               "Sentence and short-paragraph embeddings: semantic search, clustering, similarity.",
               "Text longer than 256 word pieces is cut off; English only; no masked-LM head, so no fill-mask."),
    "smollm2-135m": ("Pretrained on about 2 trillion tokens (FineWeb-Edu, DCLM, The Stack and others), then "
                     "instruction-tuned on SmolTalk and aligned with preference data.",
                     "A small English chat and text-generation model that runs on a laptop.",
                     "135M parameters: facts are often wrong, reasoning is weak, and it can repeat biases "
                     "of web text; here it is a 4-bit GGUF dequantized, so outputs differ slightly from the original."),
    "whisper-tiny.en": ("OpenAI's Whisper tiny.en: about 680,000 hours of weakly supervised audio from the web "
                        "(the English-only models use its English part).",
                        "English speech recognition (research use, accessibility tools).",
                        "The smallest Whisper: more errors on accents, noise and names; can invent text in "
                        "silence (hallucination); English only."),
    "efficientnet-lite0": ("ImageNet-1k: about 1.28 million photos in 1,000 classes.",
                           "Image classification on mobile and edge devices; a backbone for other vision tasks.",
                           "Knows only ImageNet's 1,000 classes (many dog breeds, no 'person'); inherits ImageNet's "
                           "biases in who and what is photographed."),
    "sst2-distilbert": ("DistilBERT-base-uncased fine-tuned on SST-2: about 67,000 sentences from movie reviews "
                        "labelled positive or negative.",
                        "Binary English sentiment classification.",
                        "Movie-review language; its card reports biased predictions for sentences that differ "
                        "only in a country's name."),
}


def _front_matter(text: str) -> dict[str, str]:
    """The flat `key: value` lines of a README.md's YAML header (what a card's metadata starts with)."""
    header = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    return dict(re.findall(r"^([\w-]+): (.+)$", header.group(1), re.M)) if header else {}


def _section(text: str, title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}[^\n]*\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    return " ".join(found.group(1).split()) if found else ""


def card(key: str) -> Card | None:
    """The card of a registry model; None where Glassbox has none to show (a Hub id typed by hand)."""
    spec = model_registry.REGISTRY.get(key)
    if spec is None:
        return None
    if spec.trained:
        try:
            readme = (model_registry.trained_path(key) / "README.md").read_text(encoding="utf-8")
        except (model_registry.ModelUnavailable, OSError):
            return None
        meta = _front_matter(readme)
        procedure = _section(readme, "Training procedure")
        return Card(meta.get("license", spec.license), f"{_section(readme, 'Training data')} {procedure}".strip(),
                    _section(readme, "Intended use and limits"), _section(readme, "Evaluation"),
                    f"{model_registry.trained_path(key) / 'README.md'} (written when it was trained here)")
    if key not in _PUBLISHED:
        return None
    training_data, intended_use, limits = _PUBLISHED[key]
    hub_id = spec.hub_id or spec.location
    return Card(spec.license, training_data, intended_use, limits, f"https://huggingface.co/{hub_id}"
                if "/" in hub_id else "the package's documentation")
