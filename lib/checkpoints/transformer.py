"""Checkpoint: the Transformer, whole. Concept questions on the block, the encoder–decoder and
pretraining; one count from BERT's masking rule; one prediction checked against the class's toy translator."""
from __future__ import annotations

import random

import pandas as pd

from lib import transformer
from lib import transformer_pretraining as pretraining
from lib import transformer_seq2seq as seq2seq
from lib.checkpoints import Question, Reveal

# English sentences with an adjective, and the French adjective whose cross-attention the student predicts.
ADJECTIVE_SENTENCES = ["Your cat is a lovely cat", "The cat chased the black mouse", "My dog saw a red car",
                       "This girl likes the white horse", "A happy boy found your green ball"]


def _concept(rng: random.Random, prompt: str, right: str, wrong: dict[str, str], solution: str) -> Question:
    options = [right, *wrong]
    rng.shuffle(options)
    return Question(prompt, right, solution, options=tuple(options), kind="concept", feedback=wrong)


def _norm_placement(rng: random.Random) -> Question:
    return _concept(
        rng, "In the block walk, where do MiniLM (BERT) and SmolLM2 (Llama) put their normalisation?",
        "MiniLM normalises after each residual add; SmolLM2 normalises each sub-layer's input and never the "
        "residual stream",
        {"Both normalise after each residual add, as the 2017 paper did":
             "Only the post-norm BERT block does. SmolLM2's walk shows RMSNorm *before* attention and before the "
             "feed-forward, and its last step is a plain residual add.",
         "Neither normalises: the residual connections keep the numbers in range":
             "Residual adds make the vectors grow layer after layer; both blocks normalise, at different places.",
         "MiniLM normalises before each sub-layer; SmolLM2 after each residual add":
             "It is the other way round: MiniLM's steps read add → LayerNorm, SmolLM2's RMSNorm → attention."},
        "Post-norm (BERT, 2017 paper): `LayerNorm(x + Sublayer(x))`. Pre-norm (Llama, GPT-2 on): "
        "`x + Sublayer(RMSNorm(x))`, which keeps a clean residual path and trains more stably in deep stacks.")


def _cross_attention(rng: random.Random) -> Question:
    return _concept(
        rng, "In the translator's cross-attention, where do the queries, keys and values come from?",
        "Queries from the decoder (the French so far); keys and values from the encoder's output (the English)",
        {"Queries, keys and values all from the encoder's output":
             "Then the French written so far could not steer what is looked up: that is encoder self-attention.",
         "Queries from the encoder, keys and values from the decoder":
             "Each row of the cross-attention heatmap is one *French* word asking: the questions come from the "
             "decoder, the answers from the English.",
         "Queries, keys and values all from the decoder, with a causal mask":
             "That is the decoder's masked self-attention, the middle heatmap; cross-attention is rectangular, "
             "French × English."},
        "Cross-attention is `softmax(Q_dec·K_encᵀ/√d)·V_enc`: one row per French position, one column per English "
        "word, so the matrix is target × source and each row sums to 1.")


def _masking_reason(rng: random.Random) -> Question:
    return _concept(
        rng, "BERT replaces only 80% of the chosen words with [MASK], 10% with a random word, and keeps 10%. Why?",
        "At fine-tuning there is no [MASK], so the model must learn to represent every word, not only blanks",
        {"To make training faster: fewer [MASK] tokens means less to predict":
             "All 15% chosen words are predicted either way; the 80/10/10 split changes only what the model *sees*.",
         "Random words make the model robust to typos, which is the main goal":
             "Robustness is a side effect; the reason is the mismatch between pretraining (with [MASK]) and use "
             "(without).",
         "The 10% kept words are not predicted, so they act as context":
             "They are predicted too: the label is there for all chosen words, kept or not."},
        "If every chosen word became [MASK], the model could learn that only [MASK] positions need a good "
        "prediction. Random and kept words force it to check every position, as it must when fine-tuned.")


def _causal_training(rng: random.Random) -> Question:
    return _concept(
        rng, "With teacher forcing, the decoder reads the whole right French sentence at once. What stops it from "
             "simply copying the word it must predict?",
        "The causal mask: position t may attend only to positions ≤ t, and its input is the answer shifted right",
        {"Nothing: teacher forcing lets it copy, which is why it is only used at inference":
             "Teacher forcing is the training method; inference decodes step by step.",
         "Dropout hides the next word at random":
             "Dropout is noise, not a guarantee; the mask removes the future from every row (−∞ before softmax).",
         "The encoder's cross-attention blocks the French words":
             "Cross-attention looks at the English; the French future is hidden by the decoder's own causal mask."},
        "Decoder input `<s> y1 … yn`, targets `y1 … yn </s>`: the row predicting y_t sees only `<s> … y_(t−1)`. "
        "That is why the teacher-forced predictions and the step-by-step ones agree on a trained model.")


def _masked_count(rng: random.Random) -> Question:
    words = rng.randrange(20, 200) * 10
    chosen = words * pretraining.MASK_SHARE
    masked = chosen * pretraining.MASK_TOKEN_SHARE
    return Question(
        f"A batch holds {words:,} words. On average, how many of them does BERT's masking replace with `[MASK]`?",
        masked,
        f"{pretraining.MASK_SHARE:.0%} are chosen: {chosen:,.0f}; {pretraining.MASK_TOKEN_SHARE:.0%} of those become "
        f"`[MASK]`: **{masked:,.0f}** (the rest: {chosen * pretraining.RANDOM_TOKEN_SHARE:,.0f} random words and "
        f"{chosen * (1 - pretraining.MASK_TOKEN_SHARE - pretraining.RANDOM_TOKEN_SHARE):,.0f} kept). All "
        f"{chosen:,.0f} are predicted.", tolerance=0.01)


def _gqa_groups(rng: random.Random) -> Question:
    shapes = transformer.block_shapes()
    groups = shapes["decoder_heads"] // shapes["decoder_kv_heads"]
    options = tuple(str(n) for n in sorted({1, groups, shapes["decoder_heads"], shapes["decoder_kv_heads"] + 1}))
    return Question(
        f"SmolLM2 has {shapes['decoder_heads']} query heads and {shapes['decoder_kv_heads']} key/value heads "
        "(grouped-query attention). How many query heads share each key/value head?",
        str(groups), f"{shapes['decoder_heads']} ÷ {shapes['decoder_kv_heads']} = **{groups}**: the walk's step "
        "*Keys shared across heads* repeats each key/value head that many times.", options=options)


def _predict_alignment(rng: random.Random) -> Question:
    sentence = rng.choice(ADJECTIVE_SENTENCES)
    pair = seq2seq.translate_words(sentence.split())
    adjective = next(i for i, a in enumerate(pair.alignment) if pair.source[a] in seq2seq.ADJECTIVES)
    french = pair.target[adjective]
    options = tuple(dict.fromkeys([*pair.source, seq2seq.EOS]))

    def reveal() -> Reveal:
        translation = seq2seq.translate(seq2seq.class_copy().model, sentence)
        weights = seq2seq.cross_weights(translation)  # (French produced, English)
        produced = translation.target[1:]
        row = produced.index(french) if french in produced else adjective
        peak = translation.source[int(weights[row].argmax())]
        table = pd.DataFrame({"English word": translation.source, "weight": weights[row].round(3)})
        said = " ".join(w for w in produced if w != seq2seq.EOS)
        return Reveal(peak, f"The toy translated *{sentence}* as *{said}*. In its last decoder layer (mean over heads) "
                            f"the row that wrote **{produced[row]}** puts {weights[row].max():.2f} of its weight on "
                            f"**{peak}**. The grammar's alignment says *{pair.source[pair.alignment[adjective]]}*.",
                      table)

    return Question(
        f"The toy translator turns *{sentence}* into *{' '.join(pair.target)}*. When it writes **{french}**, which "
        "English word will its cross-attention (last layer, mean over heads) weigh most? Predict, then reveal.",
        None, f"French puts the adjective after the noun, but cross-attention is free to look anywhere: a trained "
        f"translator looks back at the English adjective, *{pair.source[pair.alignment[adjective]]}*, even though it "
        "stood before the noun.", options=options, kind="predict", reveal=reveal)


CONCEPTS = [_norm_placement, _cross_attention, _masking_reason, _causal_training]


def questions(rng: random.Random) -> list[Question]:
    concepts = rng.sample(CONCEPTS, 2)
    numbers = rng.choice([_masked_count, _gqa_groups])
    return [concepts[0](rng), numbers(rng), concepts[1](rng), _predict_alignment(rng)]
