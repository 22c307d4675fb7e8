"""lib/tiny_gpt.py: the data pipeline, the baseline and that training learns."""
import inspect
import math
from collections import Counter

import numpy as np
import pytest
import torch
from shipped_configs import config, transformers_total

from lib import parameters, tiny_gpt


def test_gpt2_small_is_described_from_its_config():
    c = config("gpt2")
    assert tiny_gpt.describe(parameters.count_known("gpt2").architecture) == (
        f"{c['n_layer']} layers, {c['n_embd']} hidden, {c['n_head']} heads, {c['vocab_size']:,} tokens, "
        f"{c['n_positions']:,} positions; LM head tied to the token embedding.")


def test_char_tokenizer_round_trips():
    tok = tiny_gpt.CharTokenizer.from_text("hello, world")
    assert tok.decode(tok.encode("world, hello")) == "world, hello"
    assert tok.vocab_size == len(set("hello, world"))


def test_batches_are_shifted_by_one():
    data = torch.arange(100)
    x, y = tiny_gpt.get_batch(data, 8, 4, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (4, 8)
    assert torch.equal(y[:, :-1], x[:, 1:]) and torch.equal(y[:, -1], x[:, -1] + 1)


def test_unigram_baseline_is_the_cross_entropy_of_train_frequencies():
    train, val = torch.tensor([0, 0, 1, 2, 2, 2]), torch.tensor([0, 2, 2, 1])
    counts = Counter(train.tolist())
    p = {c: (counts.get(c, 0) + 1) / (len(train) + 3) for c in range(3)}
    expected = -sum(math.log(p[c]) for c in val.tolist()) / len(val)
    assert tiny_gpt.unigram_baseline(train, val, 3) == pytest.approx(expected)


@pytest.mark.parametrize("text, message", [("", "empty"), ("   \n", "empty"), ("short text " * 20, "at least")])
def test_unusable_corpus_gives_a_message(text, message):
    with pytest.raises(tiny_gpt.CorpusError, match=message):
        tiny_gpt.prepare_corpus(text, 64)


def test_a_huge_corpus_is_cut_to_the_limit():
    assert len(tiny_gpt.prepare_corpus("ab\r\n" * 200_000, 64)) == tiny_gpt.MAX_CORPUS_CHARS


def test_a_few_hundred_steps_beat_the_unigram_baseline():
    config = tiny_gpt.TinyGPTConfig(n_layer=1, n_head=2, n_embd=64, block_size=32, max_steps=200, eval_every=200)
    run, train, val = tiny_gpt.new_run(tiny_gpt.bundled_corpus(100_000), config)
    progress = list(tiny_gpt.train(run, train, val))
    assert progress[-1].val_loss < run.baseline
    assert progress[-1].sample.startswith("The ")


def test_greedy_generation_is_top_1_sampling():
    config = tiny_gpt.TinyGPTConfig(n_layer=1, n_head=2, n_embd=32, block_size=16)
    run, _, _ = tiny_gpt.new_run(tiny_gpt.bundled_corpus(20_000), config)
    greedy = [s.token for s in tiny_gpt.generate(run, "def ", 10, temperature=0)]
    top1 = [s.token for s in tiny_gpt.generate(run, "def ", 10, temperature=1.0, top_k=1, seed=5)]
    assert greedy == top1
    step = next(tiny_gpt.generate(run, "def ", 1, temperature=0))
    assert step.token == step.candidates[0] and sum(step.probabilities) <= 1 + 1e-6


def test_parameter_count_of_the_tiny_model_is_exact():
    config = tiny_gpt.TinyGPTConfig()
    run, _, _ = tiny_gpt.new_run(tiny_gpt.bundled_corpus(50_000), config)
    counted = parameters.count_parameters(config.gpt2_config(run.tokenizer.vocab_size).to_dict(), "GPT2LMHeadModel")
    assert counted.total == run.model.num_parameters()
    assert parameters.count_known("gpt2").total == transformers_total("gpt2", "GPT2LMHeadModel")


def test_snapshots_while_training_show_the_models_own_attention_lens_and_embeddings(one_cpu_thread):
    config = tiny_gpt.TinyGPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=16, max_steps=12, eval_every=12)
    run, train, val = tiny_gpt.new_run(tiny_gpt.bundled_corpus(20_000), config)
    list(tiny_gpt.train(run, train, val, snapshots=True))
    steps = [s.step for s in run.snapshots]
    assert steps[0] == 0 and steps[-1] == 12 and steps == sorted(set(steps))
    assert len(steps) <= tiny_gpt.SNAPSHOTS + 1 and run.model.config._attn_implementation == "sdpa"
    last = run.snapshots[-1]
    seq = len(last.prompt)
    assert "".join(last.prompt) == tiny_gpt.SNAPSHOT_PROMPT[-seq:] and seq == config.block_size
    assert last.attentions.shape == (2, 2, seq, seq)
    assert np.allclose(last.attentions.sum(-1), 1, atol=1e-5) and np.all(np.triu(last.attentions, 1) == 0)
    ids = torch.tensor([run.tokenizer.encode("".join(last.prompt))])
    with torch.no_grad():
        out = run.model(input_ids=ids, output_hidden_states=True)
        probs = out.logits[0].softmax(-1)  # (seq, vocab): the last lens row is the model's own prediction
        first = run.model.lm_head(run.model.transformer.ln_f(out.hidden_states[0]))[0].softmax(-1)
    assert last.lens_top[-1] == [run.tokenizer.chars[i] for i in probs.argmax(-1).tolist()]
    assert np.allclose(last.lens_probs[-1], probs.max(-1).values.numpy(), atol=1e-5)
    assert last.lens_top[0] == [run.tokenizer.chars[i] for i in first.argmax(-1).tolist()]  # wte + wpe read out
    weights = run.model.transformer.wte.weight.detach().double()
    centred = weights - weights.mean(0)
    axes = np.linalg.svd(centred.numpy(), full_matrices=False)[2][:2]
    assert np.allclose(np.abs(last.embedding_xy), np.abs(centred.numpy() @ axes.T), atol=1e-4)
    assert inspect.signature(tiny_gpt.train).parameters["snapshots"].default is False  # other callers unchanged


@pytest.mark.parametrize("char, kind", [("a", "vowel"), ("E", "vowel"), ("7", "digit"), (",", "punctuation"),
                                        ("\n", "space or newline"), ("x", "consonant"), ("é", "consonant")])
def test_character_classes(char, kind):
    assert tiny_gpt.char_class(char) == kind
