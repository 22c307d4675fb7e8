"""Checkpoint: inside a language model. The predict question runs the logit lens
on the class's SmolLM2 (lib.inside_llm); the cache sizes come from
inside_llm.cache_bytes_formula and SmolLM2's own config."""
from __future__ import annotations

import json
import random
from functools import lru_cache
from types import SimpleNamespace

import pandas as pd

from lib import device_policy, inside_llm, model_loading, model_registry
from lib.checkpoints import Question, Reveal

PROMPTS = ["The capital of France is", "Monday, Tuesday, Wednesday,", "One, two, three, four,",
           "The opposite of hot is", "Water freezes at zero degrees", "The cat sat on the"]


def smollm2_config() -> SimpleNamespace:
    """SmolLM2's shipped config (the registry's), without loading the model."""
    path = model_registry.CONFIG_DIR / f"{model_registry.REGISTRY['smollm2-135m'].config}.json"
    return SimpleNamespace(**json.loads(path.read_text(encoding="utf-8")))


def layer_bands(num_layers: int) -> list[tuple[str, int, int]]:
    """Four answer bands over the lens's rows 0 (embeddings) to num_layers: three
    thirds below the last layer, then the last layer alone. (name, first row, last row)"""
    third = (num_layers - 1) // 3
    cuts = [(0, third), (third + 1, 2 * third), (2 * third + 1, num_layers - 1)]
    bands = [(f"{'embeddings' if a == 0 else f'layer {a}'} to layer {b}", a, b) for a, b in cuts]
    return bands + [(f"only at the last layer ({num_layers})", num_layers, num_layers)]


def band_of(row: int, num_layers: int) -> str:
    return next(name for name, first, last in layer_bands(num_layers) if first <= row <= last)


@lru_cache(maxsize=len(PROMPTS))
def prompt_lens(prompt: str, device: str) -> inside_llm.Lens:
    """The class's SmolLM2 read through the lens; the shared model never changes, so one run per prompt serves all."""
    return inside_llm.logit_lens(model_loading.shared("smollm2-135m", "decoder", device), prompt)


def _predict_first_layer(rng: random.Random) -> Question:
    prompt = rng.choice(PROMPTS)
    layers = smollm2_config().num_hidden_layers

    def reveal() -> Reveal:
        lens = prompt_lens(prompt, device_policy.best_device())
        answer_id = int(lens.top_ids[-1, -1])
        first = lens.first_top_layer(answer_id)
        word = lens.top_tokens[-1][-1]
        track = inside_llm.token_track(lens, answer_id)
        table = pd.DataFrame([{**row, "top token here": lens.top_tokens[i][-1]} for i, row in enumerate(track)])
        return Reveal(band_of(first, layers),
                      f"SmolLM2's answer is **{word}** (probability {track[-1]['probability']:.2f} at the last "
                      f"layer). Read through the final norm and LM head, it first tops the list at "
                      f"**{lens.layer_names[first]}**; before that its rank was "
                      f"{track[max(first - 1, 0)]['rank']:,}.", table)

    return Question(
        f"SmolLM2 reads *{prompt}* and predicts the next token. Run the logit lens: at which layer does the "
        "model's final answer **first** become the top token at the last position?",
        None,
        "The logit lens reads each layer's residual stream through the model's final norm and LM head. Early "
        "layers mostly still predict generic tokens (spaces, punctuation, 'the'); the specific answer tends to "
        "appear late, in the last third of the stack — but the exact layer depends on the prompt, which is why "
        "the lens is worth running.",
        options=tuple(name for name, _, _ in layer_bands(layers)), kind="predict", reveal=reveal)


def _lens_concept(rng: random.Random) -> Question:
    layer = rng.randint(3, smollm2_config().num_hidden_layers - 3)
    right = f"layer {layer}'s residual stream, passed through the final norm and the LM head"
    feedback = {
        f"the attention weights of layer {layer}":
            "Attention weights say where a token looks, not what the model would predict; the lens reads the "
            "residual stream (the running sum every layer adds to).",
        f"a small classifier trained to read layer {layer}":
            "That is a tuned lens or a probe. The logit lens trains nothing: it reuses the model's own final "
            "norm and LM head, which is also why early layers read badly.",
        f"the model's output after layers {layer + 1} onwards are deleted and the model is retrained":
            "Nothing is retrained or deleted: one ordinary forward pass is run, and each layer's intermediate "
            "stream is read off on the side.",
    }
    options = [right, *feedback]
    rng.shuffle(options)
    return Question(f"The logit lens's row for layer {layer} is computed from…", right,
                    f"The lens takes {right}, exactly the two steps the model applies after its last layer. The "
                    "last row is therefore the model's own prediction.", options=tuple(options), kind="concept",
                    feedback=feedback)


def _cache_size(rng: random.Random) -> Question:
    layers, kv_heads = rng.choice([12, 24, 30, 32]), rng.choice([2, 4, 8])
    head_dim, tokens, width = rng.choice([64, 128]), rng.choice([512, 1024, 2048, 4096]), rng.choice([2, 4])
    config = SimpleNamespace(num_hidden_layers=layers, num_attention_heads=kv_heads * 4, num_key_value_heads=kv_heads,
                             head_dim=head_dim, hidden_size=kv_heads * 4 * head_dim, vocab_size=1)
    size = inside_llm.cache_bytes_formula(config, tokens, width)
    kind = {2: "16-bit (2 bytes)", 4: "32-bit (4 bytes)"}[width]
    return Question(
        f"A decoder has {layers} layers, {kv_heads} key-value heads of head_dim {head_dim}, and stores its cache "
        f"in {kind} floats. How many bytes does its KV cache hold for one sequence of {tokens:,} tokens?",
        size,
        f"2 (keys and values) × {layers} layers × {kv_heads} kv heads × {head_dim} × {tokens:,} tokens × {width} "
        f"bytes = **{size:,}** bytes ({size / 2**20:,.1f} MiB). The query heads do not appear: queries are "
        "never cached.")


def _gqa_concept(_rng: random.Random) -> Question:
    config = smollm2_config()
    heads, kv = config.num_attention_heads, config.num_key_value_heads
    ratio = heads // kv
    right = f"{ratio}× smaller: {kv} key-value heads are cached instead of {heads}"
    feedback = {
        "the same size: the cache stores the queries too":
            "Queries are used once, for the newest token, and never cached; only keys and values are.",
        f"{heads}× smaller: only one head is cached":
            f"Grouped-query attention keeps {kv} key-value heads, each shared by {ratio} query heads; "
            "one shared head would be multi-query attention.",
        "larger: more heads share each key, so more must be stored":
            "Sharing means fewer distinct keys and values, so less is stored, not more.",
    }
    options = [right, *feedback]
    _rng.shuffle(options)
    return Question(f"SmolLM2 has {heads} query heads but {kv} key-value heads (grouped-query attention). "
                    "Compared with full multi-head attention of the same size, its KV cache is…", right,
                    f"The cache holds 2 × layers × **kv heads** × head_dim × tokens values; with {kv} instead of "
                    f"{heads} kv heads that is {heads}/{kv} = **{ratio}× smaller**.", options=tuple(options),
                    kind="concept", feedback=feedback)


def _ablation_concept(rng: random.Random) -> Question:
    layer, head = rng.randint(1, 30), rng.randint(0, 8)
    right = "this head is not needed for this prediction; it may matter for other prompts"
    feedback = {
        "the head does nothing in any prompt, so it can be deleted from the model":
            "One prompt tests one behaviour. A head that is idle here can be essential elsewhere, and other "
            "heads may cover for it (redundancy).",
        "the head's weights are now zero, so the model has changed for everyone":
            "The ablation is a forward hook for this one request: the weights never change, and removing the "
            "hook gives back exactly the original output.",
        "zeroing can never change the output, because the residual stream skips around attention":
            "The residual stream adds each head's output to the sum; removing a head removes its term, and "
            "some heads (see the scan) change the prediction a lot.",
    }
    options = [right, *feedback]
    rng.shuffle(options)
    return Question(f"You zero-ablate layer {layer} head {head} of SmolLM2 and the next-token distribution barely "
                    "moves (KL ≈ 0). What can you conclude?", right,
                    "Ablation shows what a part contributes **to this output**. Small change: not needed here "
                    "(or compensated). A scan over many prompts is needed before calling a head useless.",
                    options=tuple(options), kind="concept", feedback=feedback)


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_predict_first_layer, _lens_concept, _cache_size, _gqa_concept,
                                   _ablation_concept)]
