"""Scores: word error rate for speech recognition, and how many ground-truth
action items a writer found with the right owner."""
from __future__ import annotations

import re

from lib.meeting_minutes.schema import ActionItem

FILLER = {"the", "a", "an", "to", "for", "all", "of"}


def normalise_words(text: str) -> list[str]:
    """Lower case, hyphens split, punctuation dropped: the usual normalisation before scoring."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance."""
    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / max(len(ref), 1)


def _content_words(text: str) -> set[str]:
    return set(normalise_words(text)) - FILLER


def action_items_found(found: list[ActionItem], truth: list[dict], overlap: float = 0.6) -> int:
    """Ground-truth items matched by a found item with the same owner whose task
    shares at least `overlap` of the true task's content words."""
    return sum(any(f.owner == t["owner"] and
                   len(_content_words(f.task) & _content_words(t["task"])) >= overlap * len(_content_words(t["task"]))
                   for f in found) for t in truth)


def unsupported(minutes, segments, support: float = 0.5) -> list[str]:
    """Bullets of generated minutes that the transcript does not back: fewer than
    `support` of their content words occur anywhere in it, or an owner whose name
    is never said or shown as a speaker. A cheap check against invented facts:
    it cannot catch a wrong claim made of the transcript's own words."""
    said = set(normalise_words(" ".join(f"{s.speaker} {s.text}" for s in segments)))

    def backed(text: str) -> bool:
        words = _content_words(text)
        return not words or len(words & said) >= support * len(words)

    found = [f"{name.replace('_', ' ')}: {p.text}" for name in ("summary", "discussion_points", "decisions",
                                                               "open_questions")
             for p in getattr(minutes, name) if not backed(p.text)]
    for a in minutes.action_items:
        if not backed(a.task) or not set(normalise_words(a.owner)) <= said:
            found.append(f"action item: {a.owner or '?'}: {a.task}")
    return found
