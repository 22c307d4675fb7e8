"""Scores: word error rate for speech recognition, and how many ground-truth
action items a writer found with the right owner."""
from __future__ import annotations

import re

from lib.meeting_minutes.conversation import soundex
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


def same_name(found: str, truth: str) -> bool:
    """The same person's name as speech recognition spelled it ("Taric" for "Tariq", "Asia" for
    "Aisha", "Uki" for "Yuki"): equal ignoring case, alike in spelling (difflib ratio ≥ 0.85, or
    ≥ 0.75 with the same first letter), or alike in sound (the same Soundex code)."""
    import difflib

    a, b = found.strip().lower(), truth.strip().lower()
    if not a or not b:
        return False
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    return a == b or ratio >= 0.85 or (a[0] == b[0] and ratio >= 0.75) or soundex(a) == soundex(b)


def attendees_found(found: list[str], truth: list[str]) -> int:
    return sum(any(same_name(f, t) for f in found) for t in truth)


def _overlap(found: str, truth: str) -> float:
    words = _content_words(truth)
    return len(_content_words(found) & words) / max(len(words), 1)


def match_actions(found: list[ActionItem], truth: list[dict], overlap: float = 0.5) -> list[ActionItem | None]:
    """For each true action item, the found item whose task shares the most of its content words
    (at least `overlap`), each found item used once."""
    pairs = sorted(((_overlap(f.task, t["task"]), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)),
                   reverse=True)
    matched: list[ActionItem | None] = [None] * len(truth)
    used: set[int] = set()
    for score, i, j in pairs:
        if score >= overlap and matched[i] is None and j not in used:
            matched[i] = found[j]
            used.add(j)
    return matched


def score_minutes(minutes, truth: dict) -> dict:
    """Counts against a meeting's ground truth: attendees, action items found (by task),
    with the right owner, with the right due date (of those that have one), decisions found."""
    matched = match_actions(minutes.action_items, truth["action_items"])
    dated = [(m, t) for m, t in zip(matched, truth["action_items"]) if t["due_date"]]
    return {
        "attendees": attendees_found(minutes.attendees, truth["attendees"]), "attendees_total": len(truth["attendees"]),
        "actions": len(truth["action_items"]), "found": sum(m is not None for m in matched),
        "extra": len(minutes.action_items) - sum(m is not None for m in matched),
        "owner": sum(m is not None and same_name(m.owner, t["owner"]) for m, t in zip(matched, truth["action_items"])),
        "dated": len(dated), "due": sum(m is not None and m.due_date == t["due_date"] for m, t in dated),
        "decisions": sum(any(_overlap(d.text, t) >= 0.5 for d in minutes.decisions) for t in truth["decisions"]),
        "decisions_total": len(truth["decisions"])}


def diarisation_error_rate(reference: list[dict], hypothesis, step: float = 0.01) -> float:
    """DER on `step`-second frames: (missed speech + false alarm + speaker confusion) / reference
    speech, after mapping hypothesis speakers to reference speakers one-to-one to agree most
    (Hungarian assignment). `reference`: {"speaker", "start", "end"} turns (may overlap);
    `hypothesis`: segments with .speaker, .start, .end. Overlapped frames count each voice."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    end = max([t["end"] for t in reference] + [s.end for s in hypothesis] + [0.0])
    frames = int(np.ceil(end / step)) + 1
    ref_names = sorted({t["speaker"] for t in reference})
    hyp_names = sorted({s.speaker for s in hypothesis})
    ref = np.zeros((len(ref_names), frames), bool)
    hyp = np.zeros((max(len(hyp_names), 1), frames), bool)
    for t in reference:
        ref[ref_names.index(t["speaker"]), int(t["start"] / step):int(t["end"] / step)] = True
    for s in hypothesis:
        hyp[hyp_names.index(s.speaker), int(s.start / step):int(s.end / step)] = True
    agree = ref.astype(np.int64) @ hyp.T.astype(np.int64)  # (ref speakers, hyp speakers) frames in common
    rows, cols = linear_sum_assignment(-agree)
    ref_count, hyp_count = ref.sum(0), hyp.sum(0)
    errors = np.maximum(ref_count, hyp_count).sum() - agree[rows, cols].sum()
    return float(errors / max(ref_count.sum(), 1))
