"""lib/sampling.py against independent references: a float64 softmax written
here, top-k and top-p masks from numpy sorting, argmax for greedy, and
transformers' own generate for the loop over a causal LM's key/value cache."""
import numpy as np
import pytest
import torch

from lib import sampling


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z[np.isfinite(z)].max())
    return e / e.sum()


def top_k_mask(logits: np.ndarray, k: int) -> np.ndarray:
    mask = np.zeros(len(logits), bool)
    mask[np.argsort(-logits)[:k]] = True
    return mask


def top_p_mask(probs: np.ndarray, p: float) -> np.ndarray:
    """The smallest set of most probable tokens whose probability reaches p."""
    order = np.argsort(-probs)
    count = int(np.searchsorted(np.cumsum(probs[order]), p)) + 1  # first prefix with mass >= p
    mask = np.zeros(len(probs), bool)
    mask[order[:count]] = True
    return mask


def restricted(logits: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return softmax(np.where(mask, logits, -np.inf))


def random_logits(seed: int, vocab: int = 50) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 2, vocab)


@pytest.mark.parametrize("temperature", [0.3, 1.0, 2.5])
def test_temperature_divides_the_logits(temperature):
    logits = random_logits(0)
    probs = sampling.distribution(torch.tensor(logits), temperature)
    np.testing.assert_allclose(probs.numpy(), softmax(logits / temperature), rtol=1e-12)


def test_top_k_off_and_top_p_one_keep_every_token():
    logits = random_logits(1, 1000) * 5  # some tokens far below the rest
    for top_k in (None, 0):
        probs = sampling.distribution(torch.tensor(logits), 1.0, top_k, top_p=1.0).numpy()
        assert (probs > 0).all()
        np.testing.assert_allclose(probs, softmax(logits), rtol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 7, 49, 50, 80])
def test_top_k_keeps_the_k_highest_logits(k):
    logits = random_logits(2)
    probs = sampling.distribution(torch.tensor(logits), 0.7, top_k=k).numpy()
    np.testing.assert_allclose(probs, restricted(logits / 0.7, top_k_mask(logits, k)), rtol=1e-12, atol=0)


@pytest.mark.parametrize("p", [1e-6, 0.1, 0.5, 0.9, 0.999])
def test_top_p_keeps_the_smallest_set_whose_mass_reaches_p(p):
    logits = random_logits(3)
    probs = sampling.distribution(torch.tensor(logits), 1.0, top_p=p).numpy()
    kept = top_p_mask(softmax(logits), p)
    np.testing.assert_allclose(probs, restricted(logits, kept), rtol=1e-12, atol=0)
    full = softmax(logits)
    assert kept.sum() >= 1 and full[kept].sum() >= p
    assert full[kept].sum() - full[kept].min() < p  # one token fewer would not reach p


def test_a_tiny_top_p_keeps_the_most_probable_token_alone():
    probs = sampling.distribution(torch.tensor([0.0, 3.0, 1.0]), 1.0, top_p=1e-9)
    assert probs.tolist() == [0.0, 1.0, 0.0]


def test_top_k_then_top_p_on_what_top_k_kept():
    logits = random_logits(4)
    probs = sampling.distribution(torch.tensor(logits), 1.5, top_k=10, top_p=0.6).numpy()
    after_k = restricted(logits / 1.5, top_k_mask(logits, 10))
    np.testing.assert_allclose(probs, restricted(logits / 1.5, top_p_mask(after_k, 0.6)), rtol=1e-12, atol=0)


def test_temperature_and_top_k_on_four_logits():
    """The checks the attention and tiny-GPT lessons had on their own distributions."""
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0], dtype=torch.float64)
    torch.testing.assert_close(sampling.distribution(logits, 1.0), torch.softmax(logits, -1))
    top_two = torch.cat([torch.softmax(logits[:2] / 0.5, -1), torch.zeros(2, dtype=torch.float64)])
    torch.testing.assert_close(sampling.distribution(logits, 0.5, top_k=2), top_two)
    expected = np.exp([2.0, 1.0]) / np.exp([2.0, 1.0]).sum()
    np.testing.assert_allclose(sampling.distribution(logits.float(), 1.0, 2).numpy(), [*expected, 0, 0], atol=1e-12)
    cold, hot = sampling.distribution(logits, 0.1, 0), sampling.distribution(logits, 10.0, 0)
    assert cold[0] > 0.99 and hot.max() < 0.3


def test_greedy_is_the_argmax_and_shows_the_models_own_distribution():
    for seed in range(20):
        logits = random_logits(seed)
        token, probs = sampling.choose(torch.tensor(logits, dtype=torch.float32), temperature=0)
        assert token == int(np.argmax(logits))
        np.testing.assert_allclose(probs.numpy(), softmax(logits.astype(np.float32).astype(np.float64)), rtol=1e-12)


def test_draws_follow_the_distribution_and_the_seed():
    logits = torch.tensor([1.0, 2.0, 0.5, -1.0])
    generator = torch.Generator().manual_seed(0)
    draws = [sampling.choose(logits, 1.2, top_k=3, generator=generator)[0] for _ in range(20_000)]
    counts = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(counts, restricted(logits.numpy() / 1.2, top_k_mask(logits.numpy(), 3)), atol=0.015)

    def tokens(seed):
        return [s.token_id for s in sampling.generate(fixed_table, [0], 40, str, 1.0, seed=seed)]
    assert tokens(3) == tokens(3) and tokens(3) != tokens(4)


def fixed_table(ids: list[int]) -> torch.Tensor:
    """A stand-in model: logits that depend only on the last id."""
    return torch.from_numpy(random_logits(ids[-1], 8))


def test_the_loop_feeds_back_each_choice_and_reports_its_candidates():
    seen = []

    def next_logits(ids):
        seen.append(list(ids))
        return fixed_table(ids)

    steps = list(sampling.generate(next_logits, [5, 1], 6, lambda ids: f"<{ids[0]}>", shown=3))
    assert [len(ids) for ids in seen] == [2, 3, 4, 5, 6, 7]
    assert [s.token_id for s in steps] == [ids[-1] for ids in seen[1:]] + [steps[-1].token_id]
    for ids, step in zip(seen, steps):
        probs = softmax(random_logits(ids[-1], 8))
        assert step.token_id == int(np.argmax(probs)) and step.token == f"<{step.token_id}>"
        assert step.candidates == [f"<{i}>" for i in np.argsort(-probs)[:3]]
        np.testing.assert_allclose(step.probabilities, np.sort(probs)[::-1][:3], rtol=1e-12)
        assert step.chosen_probability == step.probabilities[0]


def test_the_loop_stops_after_a_stop_token_it_reports():
    greedy = [s.token_id for s in sampling.generate(fixed_table, [0], 10, str)]
    stop = greedy[3]
    stopped = [s.token_id for s in sampling.generate(fixed_table, [0], 10, str, stop_ids={stop})]
    assert stopped == greedy[:greedy.index(stop) + 1]


def test_text_waits_for_whole_characters():
    steps = [sampling.GenerationStep(b, "", [], [], 0.0) for b in "aé€".encode()]
    pieces = list(sampling.text_pieces(steps, lambda ids: bytes(ids).decode("utf-8", errors="replace")))
    assert pieces == ["a", "é", "€"]


@pytest.mark.parametrize("settings, message", [
    ({"temperature": -0.1}, "temperature"), ({"temperature": float("nan")}, "temperature"),
    ({"top_k": -1}, "Top-k"), ({"top_k": 2.5}, "Top-k"),
    ({"top_p": 0.0}, "Top-p"), ({"top_p": 1.5}, "Top-p"), ({"top_p": float("nan")}, "Top-p")])
def test_settings_that_define_no_distribution_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        sampling.distribution(torch.zeros(5), **{"temperature": 1.0, **settings})
    with pytest.raises(ValueError, match=message):
        next(sampling.generate(fixed_table, [0], 3, str, **{"temperature": 1.0, **settings}))


def test_sampling_without_a_seeded_generator_is_refused():
    with pytest.raises(ValueError, match="seeded torch.Generator"):
        sampling.choose(torch.zeros(5), temperature=1.0)


def test_repetition_penalty_matches_its_definition():
    logits = random_logits(5, 10).astype(np.float32)
    ids = [3, 7, 3, 0]
    penalised = sampling.with_repetition_penalty(lambda _: torch.from_numpy(logits.copy()), 1.3)(ids).numpy()
    expected = logits.copy()
    for i in set(ids):
        expected[i] = logits[i] * 1.3 if logits[i] < 0 else logits[i] / 1.3
    np.testing.assert_array_equal(penalised, expected)


def test_end_of_text_ids_are_generates_own():
    class Config:
        eos_token_id = [5, 9]

    class Model:
        generation_config = Config()

    class Tokenizer:
        eos_token_id = 2

    assert sampling.end_of_text_ids(Model(), Tokenizer()) == {5, 9}
    Config.eos_token_id = 4
    assert sampling.end_of_text_ids(Model(), Tokenizer()) == {4}
    assert sampling.end_of_text_ids(object(), Tokenizer()) == {2}


# --- a transformers causal LM through its key/value cache ----------------------------------

@pytest.fixture(scope="module")
def tiny_lm():
    """A randomly initialised two-layer GPT-2: transformers' generate with no download."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=64, n_positions=64, n_embd=32, n_layer=2, n_head=2)
    return GPT2LMHeadModel(config).eval()


def hf_greedy(model, prompt: list[int], new_tokens: int, **kwargs) -> list[int]:
    ids = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens, do_sample=False,
                             **kwargs)
    return out[0, len(prompt):].tolist()


def test_the_cached_loop_is_greedy_generate(tiny_lm):
    prompt = [3, 14, 15, 9, 26]
    ours = [s.token_id for s in sampling.generate(sampling.causal_lm_logits(tiny_lm, "cpu"), prompt, 12, str)]
    assert ours == hf_greedy(tiny_lm, prompt, 12, eos_token_id=None, pad_token_id=0)

    penalised = sampling.with_repetition_penalty(sampling.causal_lm_logits(tiny_lm, "cpu"), 1.5)
    ours = [s.token_id for s in sampling.generate(penalised, prompt, 12, str)]
    assert ours == hf_greedy(tiny_lm, prompt, 12, eos_token_id=None, pad_token_id=0, repetition_penalty=1.5)

    stop = ours[4]
    stopped = [s.token_id for s in sampling.generate(
        sampling.with_repetition_penalty(sampling.causal_lm_logits(tiny_lm, "cpu"), 1.5), prompt, 12, str,
        stop_ids={stop})]
    assert stopped == hf_greedy(tiny_lm, prompt, 12, eos_token_id=stop, pad_token_id=0, repetition_penalty=1.5)


def test_the_cache_feeds_only_new_ids_and_gives_the_full_forward_logits(tiny_lm):
    fed = []

    def model(input_ids, **kwargs):
        fed.append(input_ids.shape[1])
        return tiny_lm(input_ids=input_ids, **kwargs)

    next_logits = sampling.causal_lm_logits(model, "cpu")
    ids = [1, 2, 3]
    for new in (4, 5):
        logits = next_logits(ids)
        with torch.no_grad():
            full = tiny_lm(input_ids=torch.tensor([ids])).logits[0, -1]
        torch.testing.assert_close(logits, full, atol=1e-5, rtol=1e-5)
        ids.append(new)
    assert fed == [3, 1]
