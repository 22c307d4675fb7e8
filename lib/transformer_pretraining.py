"""Pretraining objectives side by side: a tiny BERT learns masked-language
modelling, the tiny GPT of lib/tiny_gpt.py learns next-token prediction, on the
same generated text with the same budget (steps, batch, layers, width).

The text is generated here from a small world of animals with their habits
("the cat is very cute", "the dog chased the cat"), so what the models can
learn from it is known. The tiny BERT is transformers' own `BertForMaskedLM`
built from a `BertConfig` (no pretrained weights), reading whole words. No Streamlit.
"""
from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from lib import tiny_gpt

COURSE_MASKED = "The [MASK] is very cute"
NSP_PAIR = ("It is raining heavily.", "I need an umbrella.")
MASK_SHARE, MASK_TOKEN_SHARE, RANDOM_TOKEN_SHARE = 0.15, 0.8, 0.1  # BERT's 15%, then 80% / 10% / 10% kept

# noun -> (what it is like, what it chases, what it eats, where it sleeps)
WORLD = {
    "cat": (["cute", "soft"], ["mouse", "bird"], ["fish"], ["sofa", "bed"]),
    "dog": (["loyal", "friendly"], ["cat", "ball"], ["meat"], ["floor", "mat"]),
    "mouse": (["small", "shy"], ["crumb"], ["cheese"], ["hole"]),
    "bird": (["loud", "bright"], ["fly"], ["seeds"], ["tree", "nest"]),
    "horse": (["fast", "strong"], ["dog"], ["hay", "grass"], ["barn"]),
    "cow": (["calm", "slow"], ["fly"], ["grass"], ["field", "barn"]),
}
DETERMINERS = ["the", "my", "your", "a"]
WARMUP_STEPS = 30
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def world_sentence(rng: random.Random) -> str:
    noun = rng.choice(list(WORLD))
    traits, chases, eats, sleeps = WORLD[noun]
    det = rng.choice(DETERMINERS)
    template = rng.randrange(6)
    if template <= 1:
        return f"{det} {noun} is very {rng.choice(traits)}"
    if template == 2:
        return f"{det} {noun} chased the {rng.choice(chases)}"
    if template == 3:
        return f"{det} {noun} eats {rng.choice(eats)}"
    if template == 4:
        return f"{det} {noun} sleeps on the {rng.choice(sleeps)}"
    return f"{det} {rng.choice(traits)} {noun} is here"


def pretraining_text(seed: int = 0, sentences: int = 4000) -> str:
    """The shared training text: one generated sentence per line."""
    rng = random.Random(seed)
    return "\n".join(world_sentence(rng) for _ in range(sentences))


@dataclass(frozen=True)
class WordTokenizer:
    words: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> "WordTokenizer":
        return cls((*SPECIALS, *sorted(set(words(text)) - set(SPECIALS))))

    def id(self, word: str) -> int:
        return self.index.get(word, self.index["[UNK]"])

    @property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def encode(self, text: str) -> list[int]:
        index = self.index
        return [index.get(w, index["[UNK]"]) for w in words(text)]


def words(text: str) -> list[str]:
    """The words the tiny models read: lower case, [MASK] kept, punctuation dropped (their text has none)."""
    return [w if w in SPECIALS else w.lower() for w in re.findall(r"\[[A-Z]+\]|[\w']+", text)]


@dataclass
class PretrainConfig:
    """Sizes and budget shared by both models."""
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    hidden_size: int = 64
    block_size: int = 32
    batch_size: int = 32
    learning_rate: float = 5e-3
    max_steps: int = 400
    eval_every: int = 50
    seed: int = 0

    def bert_config(self, vocab_size: int):
        from transformers import BertConfig

        return BertConfig(vocab_size=vocab_size, hidden_size=self.hidden_size,
                          num_hidden_layers=self.num_hidden_layers, num_attention_heads=self.num_attention_heads,
                          intermediate_size=4 * self.hidden_size, max_position_embeddings=self.block_size,
                          hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=0)

    def gpt_config(self) -> tiny_gpt.TinyGPTConfig:
        """The tiny GPT with the same layers, width, steps, batch and learning rate (it reads characters,
        so its window holds block_size·4 characters: about as many words as the BERT's)."""
        return tiny_gpt.TinyGPTConfig(n_layer=self.num_hidden_layers, n_head=self.num_attention_heads,
                                      n_embd=self.hidden_size, block_size=4 * self.block_size,
                                      batch_size=self.batch_size, learning_rate=self.learning_rate,
                                      max_steps=self.max_steps, eval_every=self.eval_every, seed=self.seed)


def mask_tokens(ids: torch.Tensor, vocab_size: int, generator: torch.Generator,
                mask_share: float = MASK_SHARE) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking: choose `mask_share` of the words ([CLS], [SEP] and padding never); of those 80%
    become [MASK], 10% a random word, 10% stay. Returns the corrupted inputs and the labels (-100 where
    nothing is predicted)."""
    chosen = (torch.rand(ids.shape, generator=generator) < mask_share) & (ids >= len(SPECIALS))
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    roll = torch.rand(ids.shape, generator=generator)
    inputs = ids.clone()
    inputs[chosen & (roll < MASK_TOKEN_SHARE)] = SPECIALS.index("[MASK]")
    random_words = chosen & (roll >= MASK_TOKEN_SHARE) & (roll < MASK_TOKEN_SHARE + RANDOM_TOKEN_SHARE)
    inputs[random_words] = torch.randint(len(SPECIALS), vocab_size, ids.shape, generator=generator)[random_words]
    return inputs, labels


@dataclass
class Progress:
    step: int
    loss: float
    accuracy: float | None = None   # held-out masked-token accuracy


@dataclass
class BertRun:
    config: PretrainConfig
    tokenizer: WordTokenizer
    model: torch.nn.Module
    train_rows: torch.Tensor     # (rows, width): [CLS] sentence [SEP] next sentence [SEP], padded
    val_rows: torch.Tensor
    train_ids: torch.Tensor      # the training words in order, for the unigram baseline
    history: list[Progress] = field(default_factory=list)


def new_bert(text: str, config: PretrainConfig) -> BertRun:
    from transformers import BertForMaskedLM

    tokenizer = WordTokenizer.from_text(text)
    lines = [line for line in text.splitlines() if line.strip()]
    cut = int(len(lines) * 0.9)
    torch.manual_seed(config.seed)
    model = BertForMaskedLM(config.bert_config(len(tokenizer.words)))
    train_ids = torch.tensor(tokenizer.encode(" ".join(lines[:cut])))
    return BertRun(config, tokenizer, model, sentence_pairs(tokenizer, lines[:cut], config.block_size),
                   sentence_pairs(tokenizer, lines[cut:], config.block_size), train_ids)


def sentence_pairs(tokenizer: WordTokenizer, lines: list[str], width: int) -> torch.Tensor:
    """Consecutive sentences as BERT reads them, [CLS] A [SEP] B [SEP], padded to `width` (cut if longer)."""
    cls, sep = tokenizer.id("[CLS]"), tokenizer.id("[SEP]")
    rows = []
    for first, second in zip(lines[0::2], lines[1::2]):
        row = [cls, *tokenizer.encode(first), sep, *tokenizer.encode(second), sep][:width]
        rows.append(row + [0] * (width - len(row)))
    return torch.tensor(rows)  # (rows, width)


def row_batch(rows: torch.Tensor, batch_size: int, generator: torch.Generator) -> torch.Tensor:
    return rows[torch.randint(len(rows), (batch_size,), generator=generator)]  # (batch, width)


def train_bert(run: BertRun) -> Iterator[Progress]:
    """AdamW on the masked-LM loss (cross-entropy on the chosen 15% only); every eval_every steps the
    held-out masked-token accuracy. Yields one Progress per step."""
    cfg, model = run.config, run.model
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=0.01)
    generator = torch.Generator().manual_seed(cfg.seed)
    vocab = len(run.tokenizer.words)
    model.train()
    for step in range(len(run.history) + 1, cfg.max_steps + 1):
        warm = min(1.0, step / WARMUP_STEPS)  # a post-norm BERT needs warm-up, or it stalls at the unigram guess
        lr = cfg.learning_rate * warm * 0.5 * (1 + np.cos(np.pi * step / cfg.max_steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        x = row_batch(run.train_rows, cfg.batch_size, generator)  # (batch, block)
        inputs, labels = mask_tokens(x, vocab, generator)
        loss = model(input_ids=inputs, attention_mask=(x != 0).long(), labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        progress = Progress(step, loss.item())
        if step % cfg.eval_every == 0 or step == cfg.max_steps:
            progress.accuracy = masked_accuracy(run)["model"]
            model.train()
        run.history.append(progress)
        yield progress
    model.eval()


@torch.no_grad()
def masked_accuracy(run: BertRun, batches: int = 8) -> dict[str, float]:
    """On fixed held-out windows with 15% of the words replaced by [MASK]: the share the model restores,
    and the share a unigram baseline restores (always the most frequent training word)."""
    model, cfg = run.model, run.config
    model.eval()
    generator = torch.Generator().manual_seed(1234)
    counts = torch.bincount(run.train_ids, minlength=len(run.tokenizer.words))
    most_frequent = int(counts.argmax())
    hits = baseline = total = 0
    for _ in range(batches):
        x = row_batch(run.val_rows, cfg.batch_size, generator)
        chosen = (torch.rand(x.shape, generator=generator) < MASK_SHARE) & (x >= len(SPECIALS))
        inputs = x.masked_fill(chosen, SPECIALS.index("[MASK]"))
        predicted = model(input_ids=inputs, attention_mask=(x != 0).long()).logits.argmax(-1)  # (batch, block)
        hits += int((predicted[chosen] == x[chosen]).sum())
        baseline += int((x[chosen] == most_frequent).sum())
        total += int(chosen.sum())
    return {"model": hits / total, "unigram": baseline / total, "unigram word": run.tokenizer.words[most_frequent]}


@torch.no_grad()
def fill_mask(run: BertRun, text: str, top: int = 5) -> list[dict]:
    """The top words for each [MASK] in `text`: [{"position", "word", "probability"}, …]."""
    if "[MASK]" not in text:
        raise ValueError("Put [MASK] where the missing word goes, e.g. 'The [MASK] is very cute'.")
    ids = [run.tokenizer.id("[CLS]"), *run.tokenizer.encode(text), run.tokenizer.id("[SEP]")]
    if len(ids) > run.config.block_size:
        raise ValueError(f"The tiny BERT reads at most {run.config.block_size} words.")
    run.model.eval()
    probabilities = torch.softmax(run.model(input_ids=torch.tensor([ids])).logits[0], dim=-1)  # (seq, vocab)
    rows = []
    for position in [i for i, t in enumerate(ids) if t == SPECIALS.index("[MASK]")]:
        top_p = probabilities[position].topk(top)
        rows += [{"position": position, "word": run.tokenizer.words[i], "probability": float(p)}
                 for p, i in zip(top_p.values.tolist(), top_p.indices.tolist())]
    return rows


def unknown_words(run: BertRun, text: str) -> list[str]:
    """Words of `text` the tiny BERT never saw (it reads them as [UNK])."""
    return [w for w in words(text) if w not in SPECIALS and w not in run.tokenizer.index]


def attention_masks(length: int) -> dict[str, np.ndarray]:
    """1 where a query token may look at a key token: both ways for an encoder, only left for a decoder."""
    return {"bidirectional (BERT)": np.ones((length, length)), "causal (GPT)": np.tril(np.ones((length, length)))}


def nsp_input(tokenizer, first: str = NSP_PAIR[0], second: str = NSP_PAIR[1]) -> dict[str, list]:
    """The two sentences as BERT reads them for next-sentence prediction: tokens and segment ids."""
    encoded = tokenizer(first, second)
    return {"token": tokenizer.convert_ids_to_tokens(encoded["input_ids"]), "segment": encoded["token_type_ids"]}


@dataclass
class Pretrained:
    bert: BertRun
    gpt: tiny_gpt.TinyGPTRun


def trained_bert(config: PretrainConfig | None = None) -> BertRun:
    """The tiny BERT trained to the end of its budget on the generated text (the pipelines lesson's
    offline masked LM)."""
    config = config or PretrainConfig()
    bert = new_bert(pretraining_text(config.seed), config)
    for _ in train_bert(bert):
        pass
    return bert


@functools.lru_cache(maxsize=1)
def class_bert() -> BertRun:
    """The one trained tiny BERT this process shares (the pipelines lesson's offline masked LM); never mutated."""
    return trained_bert()


def pipeline_fill_mask(run: BertRun, text: str, top_k: int = 5) -> list[dict]:
    """fill_mask in the fill-mask pipeline's format: token_str, score, sequence (one [MASK] only)."""
    if text.count("[MASK]") != 1:
        raise ValueError("Put exactly one [MASK] in the sentence.")
    return [{"token_str": row["word"], "score": row["probability"], "sequence": text.replace("[MASK]", row["word"])}
            for row in fill_mask(run, text, top_k)]


@torch.no_grad()
def hub_fill_mask(loaded, text: str, top_k: int = 5) -> list[dict]:
    """A real masked LM (bert-base-uncased from the Hub) fills the one [MASK] in `text`."""
    tokenizer = loaded.tokenizer
    text = text.replace("[MASK]", tokenizer.mask_token)
    with loaded.lock:
        encoded = tokenizer(text, return_tensors="pt").to(loaded.device)
        positions = (encoded["input_ids"][0] == tokenizer.mask_token_id).nonzero().flatten()
        if len(positions) != 1:
            raise ValueError("Put exactly one [MASK] in the sentence.")
        logits = loaded.model(**encoded).logits[0, positions[0]].float()  # (vocab,)
    top = logits.softmax(-1).topk(top_k)
    return [{"token_str": tokenizer.decode([i]).strip(), "score": float(p)}
            for p, i in zip(top.values.tolist(), top.indices.tolist())]


def lesson_numbers(config: PretrainConfig | None = None) -> dict:
    config = config or PretrainConfig()
    text = pretraining_text(config.seed)
    return {"mask_share": f"{MASK_SHARE:.0%}", "mask_token_share": f"{MASK_TOKEN_SHARE:.0%}",
            "random_share": f"{RANDOM_TOKEN_SHARE:.0%}", "kept_share": f"{1 - MASK_TOKEN_SHARE - RANDOM_TOKEN_SHARE:.0%}",
            "bert_layers": config.num_hidden_layers, "bert_width": config.hidden_size,
            "sentences": f"{len(text.splitlines()):,}", "vocab": len(WordTokenizer.from_text(text).words) - len(SPECIALS)}
