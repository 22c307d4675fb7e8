"""The extractive writer: offline and instant. Nothing is generated; every
bullet is a sentence (or a piece of one) from the transcript.

- summary: TextRank. Sentences are nodes, MiniLM cosine similarities are
  edge weights, PageRank finds the most central ones.
- discussion points: topics start at agenda cues ("Next topic: …") and,
  by TextTiling, where the similarity between the sentences before and
  after a point dips; each topic contributes its most central sentence.
- decisions and open questions: rules; action items, owners, due dates,
  attendees, place and next meeting: rules on the conversation
  (conversation.py, dates.py).
"""
from __future__ import annotations

import bisect
import re

import numpy as np

from lib import device_policy
from lib.meeting_minutes import conversation
from lib.meeting_minutes.conversation import Sentence, sentences
from lib.meeting_minutes.schema import Minutes, Point, Segment

DECISION = re.compile(r"\b(?:we (?:have )?(?:agreed|decided)|agreed to|decided to|decided that|"
                      r"the decision is|let's go with|we(?:'ll| will) go with)\b", re.I)
UNRESOLVED = re.compile(r"\b(?:not sure|not decided|haven't decided|leave (?:that|it|this) open|"
                        r"don't know|no idea|to be decided|not (?:\w+ )?yet|depends on|open question)\b", re.I)
AGENDA_CUE = re.compile(r"\b(?:next|last|first|final|another) (?:topic|item|point)\b|"
                        r"\blet's (?:start|move on|turn) (?:with|to)\b", re.I)
def embed(loaded, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """(len(texts), hidden_size) unit-length MiniLM sentence embeddings (mean
    pooling), on one CPU thread: 3x faster than two on a shared, busy CPU (measured)."""
    import torch

    parts = []
    for i in range(0, len(texts), batch_size):
        with loaded.lock, device_policy.cpu_threads(loaded.device):
            batch = loaded.tokenizer(texts[i:i + batch_size], padding=True, truncation=True,
                                     max_length=128, return_tensors="pt").to(loaded.device)
            with torch.inference_mode():
                hidden = loaded.model(**batch).last_hidden_state  # (batch, seq, hidden)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (batch, seq, 1)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)  # (batch, hidden)
        parts.append(torch.nn.functional.normalize(mean.float(), dim=-1).cpu().numpy())
    return np.concatenate(parts) if parts else np.zeros((0, loaded.model.config.hidden_size), np.float32)


def pagerank(weights: np.ndarray, damping: float = 0.85, iterations: int = 100) -> np.ndarray:
    """PageRank scores of a weighted graph given as a (n, n) non-negative matrix."""
    n = len(weights)
    if n == 0:
        return np.zeros(0)
    weights = np.asarray(weights, dtype=np.float64)  # float32 would be cast at every step
    out_weight = weights.sum(axis=1, keepdims=True)
    transition = np.divide(weights, out_weight, out=np.full_like(weights, 1.0 / n), where=out_weight > 0)
    scores = np.full(n, 1.0 / n)
    for _ in range(iterations):
        scores = (1 - damping) / n + damping * (transition.T @ scores)  # matrix @ vector first
    return scores


def textrank(embeddings: np.ndarray) -> np.ndarray:
    similarity = np.clip(embeddings @ embeddings.T, 0, None)  # (n, n) cosine, negatives cut
    np.fill_diagonal(similarity, 0)
    return pagerank(similarity)


def topic_boundaries(embeddings: np.ndarray, window: int = 3, min_topic: int = 4) -> list[int]:
    """TextTiling: indices where a new topic starts. A gap is a boundary when its
    depth (how far the before/after similarity dips below the peaks on either
    side) is more than half a standard deviation above the mean depth."""
    n = len(embeddings)
    if n < 2 * min_topic:
        return []
    gaps = range(1, n)
    cohesion = np.array([embeddings[max(0, g - window):g].mean(0) @ embeddings[g:g + window].mean(0)
                         for g in gaps])
    depth = np.array([(cohesion[:i + 1].max() - c) + (cohesion[i:].max() - c) for i, c in enumerate(cohesion)])
    threshold = depth.mean() + 0.5 * depth.std()
    boundaries: list[int] = []
    for i in np.argsort(-depth):
        gap = i + 1
        if depth[i] > threshold and min_topic <= gap <= n - min_topic and \
                all(abs(gap - b) >= min_topic for b in boundaries):
            boundaries.append(gap)
    return sorted(boundaries)


def agenda_boundaries(sents: list[Sentence], kept: list[Sentence]) -> list[int]:
    """Indices into `kept` (a subset of `sents`) where an agenda cue ("Next topic: …") starts a topic."""
    position = {id(s): i for i, s in enumerate(sents)}
    kept_at = [position[id(s)] for s in kept]  # increasing
    starts = (bisect.bisect_left(kept_at, i) for i, s in enumerate(sents) if AGENDA_CUE.search(s.text))
    return [k for k in starts if 0 < k < len(kept)]


def decisions(sents: list[Sentence]) -> list[Point]:
    return [Point(s.text, [s.segment]) for s in sents if DECISION.search(s.text)]


def open_questions(sents: list[Sentence], lookahead: int = 3) -> list[Point]:
    """Questions followed by doubt ("I'm not sure", "we have not decided"), and
    statements of something still pending ("not approved yet")."""
    points = []
    for i, s in enumerate(sents):
        if s.text.endswith("?") and not conversation.addressed(s.text):
            if any(UNRESOLVED.search(later.text) for later in sents[i + 1:i + 1 + lookahead]):
                points.append(Point(s.text, [s.segment]))
        elif UNRESOLVED.search(s.text) and re.search(r"\bnot (?:\w+ )?yet\b", s.text, re.I):
            points.append(Point(s.text, [s.segment]))
    return points


def voice_names(segments: list[Segment]) -> dict[str, str]:
    """Names for the voices still labelled "Speaker N", from what was said (conversation.name_voices)."""
    return {label: name for label, (name, _) in conversation.name_voices(segments).items()
            if conversation.UNNAMED_VOICE.fullmatch(label)}


def attendees_of(segments: list[Segment], names: dict[str, str]) -> list[str]:
    """The voices (by name where known) and every name heard as someone addressed, thanked or introduced."""
    voices = [names.get(s.speaker, s.speaker) for s in segments if s.speaker]
    people = list(dict.fromkeys(voices + conversation.candidate_attendees(segments)))
    named = [p for p in people if not conversation.UNNAMED_VOICE.fullmatch(p)]
    return named or people  # voices nobody named are left out once anyone is named


def write(loaded, segments: list[Segment], title: str = "Meeting minutes", date: str = "",
          summary_sentences: int = 3, min_words: int = 5) -> Minutes:
    """Minutes from a transcript with `loaded` = the MiniLM encoder."""
    sents = sentences(segments)
    long_enough = [s for s in sents if len(s.text.split()) >= min_words] or sents
    vectors = embed(loaded, [s.text for s in long_enough])
    scores = textrank(vectors)
    content = [i for i, s in enumerate(long_enough) if not AGENDA_CUE.search(s.text)] or list(range(len(scores)))
    top = sorted(sorted(content, key=lambda i: -scores[i])[:summary_sentences])
    topics = np.split(np.arange(len(long_enough)), sorted(set(topic_boundaries(vectors)) |
                                                          set(agenda_boundaries(sents, long_enough))))
    # each topic's most central sentence that the summary does not already say
    central = [max(set(t) & set(content) - set(top), key=scores.__getitem__)
               for t in topics if set(t) & set(content) - set(top)]
    names = voice_names(segments)
    return Minutes(
        title=title, date=date, attendees=attendees_of(segments, names),
        summary=[Point(long_enough[i].text, [long_enough[i].segment]) for i in top],
        discussion_points=[Point(long_enough[i].text, [long_enough[i].segment]) for i in central],
        decisions=decisions(sents), action_items=conversation.action_items(segments, names, date),
        open_questions=open_questions(sents), location=conversation.location(segments),
        next_meeting=conversation.next_meeting(segments, date))
