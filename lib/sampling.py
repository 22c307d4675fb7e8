"""How next-token logits become the next token, for every generation loop in
Glassbox: the character RNN, the tiny GPT, the attention lesson's decoder, the
pipelines' text generation and the local LLM that writes meeting minutes.

`distribution` gives the probabilities a token is drawn from (temperature,
then top-k, then top-p, in the order transformers applies them), `choose`
draws from it, and `generate` runs the loop: predict, choose, append, repeat.
A lesson that shows the probabilities shows the very ones the token came from.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import torch

NextLogits = Callable[[list[int]], torch.Tensor]  # every id so far -> the next token's logits (vocab,)
Decode = Callable[[list[int]], str]


def check_settings(temperature: float, top_k: int | None, top_p: float) -> None:
    """Refuse settings that define no distribution, saying which and why."""
    if not temperature >= 0:  # also refuses NaN
        raise ValueError(f"The temperature must be 0 (greedy) or more, not {temperature}.")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 0):
        raise ValueError(f"Top-k must be a whole number of tokens, 0 or None for off, not {top_k!r}.")
    if not 0 < top_p <= 1:
        raise ValueError(f"Top-p must be a share of the probability in (0, 1], 1 for off, not {top_p}.")


def distribution(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float = 1.0) -> torch.Tensor:
    """The probabilities the next token is drawn from, in float64 (vocab,):
    softmax(logits / temperature) over the tokens that top-k and top-p keep,
    zero for the rest.

    top_k keeps the k highest logits (ties with the k-th too); top_p keeps the
    smallest set of most probable tokens whose probability reaches p (at least
    one). Temperature 0 is greedy decoding: `choose` takes the most probable
    token, and the distribution is the model's own, at temperature 1."""
    check_settings(temperature, top_k, top_p)
    scaled = logits.double() / (temperature or 1.0)  # (vocab,)
    return torch.softmax(_keep_top_p(_keep_top_k(scaled, top_k), top_p), dim=-1)


def _keep_top_k(scaled: torch.Tensor, top_k: int | None) -> torch.Tensor:
    if not top_k or top_k >= scaled.numel():
        return scaled
    cutoff = torch.topk(scaled, top_k).values[-1]
    return scaled.masked_fill(scaled < cutoff, -torch.inf)  # (vocab,)


def _keep_top_p(scaled: torch.Tensor, top_p: float) -> torch.Tensor:
    if top_p >= 1:  # rounding could make the running sum reach 1 before the last token
        return scaled
    probs, order = torch.softmax(scaled, dim=-1).sort(descending=True)  # (vocab,) each
    mass_before = probs.cumsum(-1) - probs  # probability of the tokens ranked above each one
    dropped = order[mass_before >= top_p]  # the first token, with none above it, always stays
    return scaled.index_fill(0, dropped, -torch.inf)  # (vocab,)


def choose(logits: torch.Tensor, temperature: float = 0.0, top_k: int | None = None, top_p: float = 1.0,
           generator: torch.Generator | None = None) -> tuple[int, torch.Tensor]:
    """The next token id, and the distribution (vocab,) it was chosen from:
    its most probable token at temperature 0, otherwise a draw with `generator`
    (a seeded CPU generator, so the same seed gives the same tokens)."""
    probs = distribution(logits.cpu(), temperature, top_k, top_p)  # (vocab,)
    if temperature == 0:
        return int(probs.argmax()), probs
    if generator is None:
        raise ValueError("Sampling needs a seeded torch.Generator: the same seed must give the same tokens.")
    return int(torch.multinomial(probs, 1, generator=generator)), probs


@dataclass
class GenerationStep:
    token_id: int               # the token chosen at this step
    token: str                  # its text
    candidates: list[str]       # the most probable next tokens, most probable first
    probabilities: list[float]  # their probabilities in the distribution the token was drawn from
    chosen_probability: float


def generate(next_logits: NextLogits, prompt_ids: list[int], max_new_tokens: int, decode: Decode,
             temperature: float = 0.0, top_k: int | None = None, top_p: float = 1.0, seed: int = 0,
             stop_ids: Iterable[int] = (), shown: int = 5) -> Iterator[GenerationStep]:
    """The generation loop: predict, choose, append, repeat. Yields a step per
    new token with its `shown` most probable candidates; ends after
    `max_new_tokens` or once a token of `stop_ids` was chosen (its step is the last)."""
    generator, ids, stop_ids = torch.Generator().manual_seed(seed), list(prompt_ids), set(stop_ids)
    for _ in range(max_new_tokens):
        token_id, probs = choose(next_logits(ids), temperature, top_k, top_p, generator)
        ids.append(token_id)
        top = torch.topk(probs, min(shown, probs.numel()))
        yield GenerationStep(token_id, decode([token_id]), [decode([i]) for i in top.indices.tolist()],
                             top.values.tolist(), float(probs[token_id]))
        if token_id in stop_ids:
            return


def text_pieces(steps: Iterable[GenerationStep], decode: Decode) -> Iterator[str]:
    """The text the steps add, piece by piece, each piece once its characters
    are complete (a byte-level token can hold part of a character)."""
    ids, shown = [], ""
    for step in steps:
        ids.append(step.token_id)
        text = decode(ids)
        if len(text) > len(shown) and not text.endswith("\ufffd"):
            yield text[len(shown):]
            shown = text


# --- transformers causal language models ------------------------------------------------

def causal_lm_logits(model, device, lock=None) -> NextLogits:
    """Next-token logits (vocab,) from a transformers causal LM that keeps its
    key/value cache between calls, so each call runs the model on the ids it
    has not seen yet only. `lock`, when given, is held for each model call."""
    past, seen = None, 0

    def next_logits(ids: list[int]) -> torch.Tensor:
        nonlocal past, seen
        fresh = torch.tensor([ids[seen:]], device=device)  # (1, new ids)
        with lock if lock is not None else nullcontext(), torch.inference_mode():
            output = model(input_ids=fresh, past_key_values=past, use_cache=True)
        past, seen = output.past_key_values, len(ids)
        return output.logits[0, -1].float()  # (vocab,) float32, as transformers' generate scores
    return next_logits


def end_of_text_ids(model, tokenizer) -> set[int]:
    """The ids transformers' generate stops at: the generation config's
    eos_token_id (one id or several), else the tokenizer's."""
    config = getattr(model, "generation_config", None)
    ids = getattr(config, "eos_token_id", None)
    ids = tokenizer.eos_token_id if ids is None else ids
    return {ids} if isinstance(ids, int) else set(ids or ())


def with_repetition_penalty(next_logits: NextLogits, penalty: float) -> NextLogits:
    """`next_logits` with the repetition penalty as transformers applies it
    (CTRL, Keskar et al. 2019): the logit of every token already in the ids is
    divided by `penalty` when positive and multiplied by it when negative."""
    def penalised(ids: list[int]) -> torch.Tensor:
        logits = next_logits(ids)  # (vocab,)
        seen = torch.tensor(sorted(set(ids)), dtype=torch.long, device=logits.device)  # (distinct ids,)
        picked = logits[seen]
        return logits.index_put((seen,), torch.where(picked < 0, picked * penalty, picked / penalty))
    return penalised
