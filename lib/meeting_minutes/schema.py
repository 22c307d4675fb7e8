"""The one structure every minutes writer produces, its validation and repair
from loose JSON, and its renderings (Markdown, JSON, a table of actions)."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace


@dataclass
class Segment:
    """A stretch of the transcript: seconds from the start, the words, who spoke."""
    start: float
    end: float
    text: str
    speaker: str = ""


@dataclass
class Point:
    """A bullet of the minutes, linked to the transcript segments it came from."""
    text: str
    segments: list[int] = field(default_factory=list)


@dataclass
class ActionItem:
    owner: str
    task: str
    due: str = ""  # as said: "Friday", "the end of next week"
    segments: list[int] = field(default_factory=list)
    due_date: str = ""  # ISO date it means, counted from the meeting's date; "" when unclear


@dataclass
class Minutes:
    title: str = "Meeting minutes"
    date: str = ""
    attendees: list[str] = field(default_factory=list)
    summary: list[Point] = field(default_factory=list)
    discussion_points: list[Point] = field(default_factory=list)
    decisions: list[Point] = field(default_factory=list)
    action_items: list[ActionItem] = field(default_factory=list)
    open_questions: list[Point] = field(default_factory=list)
    location: str = ""
    next_meeting: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def _strings(max_items: int, max_length: int) -> dict:
    return {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": max_length},
            "maxItems": max_items}


# The minutes as a JSON schema: what a grammar-constrained model must write and what an inference
# server is asked for. Lists and strings are bounded so a small model cannot ramble past its token budget.
JSON_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["title", "summary", "discussion_points", "decisions", "action_items", "open_questions",
                 "location", "next_meeting"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 80},
        "summary": _strings(3, 160), "discussion_points": _strings(4, 120), "decisions": _strings(4, 120),
        "action_items": {"type": "array", "maxItems": 8, "items": {
            "type": "object", "additionalProperties": False, "required": ["owner", "task", "due"],
            "properties": {"owner": {"type": "string", "maxLength": 30},
                           "task": {"type": "string", "minLength": 1, "maxLength": 100},
                           "due": {"type": "string", "maxLength": 30}}}},
        "open_questions": _strings(3, 120),
        "location": {"type": "string", "maxLength": 60}, "next_meeting": {"type": "string", "maxLength": 60}}}


def matches_schema(data) -> bool:
    """Whether a parsed reply has exactly JSON_SCHEMA's shape (keys, types and bounds)."""
    def fits(value, rule) -> bool:
        kind = rule["type"]
        if kind == "string":
            return isinstance(value, str) and rule.get("minLength", 0) <= len(value) <= rule.get("maxLength", 10**9)
        if kind == "array":
            return isinstance(value, list) and len(value) <= rule["maxItems"] and all(fits(v, rule["items"]) for v in value)
        return isinstance(value, dict) and set(value) == set(rule["required"]) and \
            all(fits(value[k], rule["properties"][k]) for k in value)

    return fits(data, JSON_SCHEMA)


class InvalidMinutes(ValueError):
    """The text could not be turned into minutes; the message says why."""


POINT_LISTS = ("summary", "discussion_points", "decisions", "open_questions")
HEADINGS = {"summary": "Summary", "discussion_points": "Key discussion points", "decisions": "Decisions",
            "action_items": "Action items", "open_questions": "Open questions"}


def _text(value) -> str:
    if isinstance(value, dict):
        value = value.get("text") or value.get("point") or value.get("description") or ""
    return re.sub(r"\s+", " ", str(value)).strip() if value is not None else ""


def _point(value) -> Point | None:
    text = _text(value)
    segments = value.get("segments", []) if isinstance(value, dict) else []
    return Point(text, [int(s) for s in segments if str(s).isdigit()]) if text else None


def _action(value) -> ActionItem | None:
    if isinstance(value, str):
        return ActionItem(owner="", task=_text(value)) if value.strip() else None
    if not isinstance(value, dict):
        return None
    task = _text(value.get("task") or value.get("action") or value.get("text") or value.get("item"))
    if not task:
        return None
    owner = _text(value.get("owner") or value.get("assignee") or value.get("who"))
    due = _text(value.get("due") or value.get("due_date") or value.get("deadline"))
    segments = [int(s) for s in value.get("segments", []) if str(s).isdigit()]
    return ActionItem(owner=owner, task=task, due=due, segments=segments)


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        return [value]
    return list(value)


def validate(data: dict) -> Minutes:
    """Loose JSON (as an LLM writes it) → Minutes: missing lists become empty,
    strings become one-item lists, alternative key names are accepted, empty
    bullets are dropped. Raises InvalidMinutes when nothing usable is left."""
    if not isinstance(data, dict):
        raise InvalidMinutes(f"expected a JSON object, got {type(data).__name__}")
    minutes = Minutes(title=_text(data.get("title")) or "Meeting minutes", date=_text(data.get("date")),
                      attendees=[a for a in map(_text, _as_list(data.get("attendees"))) if a],
                      location=_text(data.get("location")), next_meeting=_text(data.get("next_meeting")))
    for name in POINT_LISTS:
        aliases = {"discussion_points": ("key_discussion_points", "discussion"),
                   "open_questions": ("questions",), "decisions": ("takeaways",)}.get(name, ())
        raw = data.get(name) or next((data[a] for a in aliases if data.get(a)), None)
        setattr(minutes, name, [p for p in map(_point, _as_list(raw)) if p])
    minutes.action_items = [a for a in map(_action, _as_list(data.get("action_items") or data.get("actions")))
                            if a]
    if not (minutes.summary or minutes.discussion_points or minutes.decisions or minutes.action_items):
        raise InvalidMinutes("the JSON has no summary, discussion points, decisions or action items")
    return minutes


def extract_json(text: str) -> dict:
    """The first JSON object in a model's reply, repaired where that is safe:
    code fences, text around the object, trailing commas, a cut-off ending."""
    text = re.sub(r"```(?:json)?", "", text)
    start = text.find("{")
    if start < 0:
        raise InvalidMinutes("the reply contains no JSON object")
    body = text[start:]
    for candidate in (body, _close_brackets(body)):
        candidate = re.sub(r",\s*([}\]])", r"\1", candidate)
        try:
            return json.JSONDecoder().raw_decode(candidate)[0]
        except json.JSONDecodeError:
            continue
    raise InvalidMinutes("the reply's JSON is malformed and could not be repaired")


def _close_brackets(text: str) -> str:
    """Close the strings, lists and objects left open by a reply that was cut off."""
    stack, in_string, escaped = [], False, False
    for char in text:
        if in_string:
            escaped = char == "\\" and not escaped
            if char == '"' and not escaped:
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
    text = text.rstrip().rstrip(",") + ('"' if in_string else "")
    return text + "".join(reversed(stack))


def parse_reply(text: str) -> Minutes:
    return validate(extract_json(text))


def _timestamp(seconds: float) -> str:
    return f"{int(seconds // 60):02d}:{int(seconds % 60):02d}"


def _cited(point_segments: list[int], segments: list[Segment]) -> list[Segment]:
    return [segments[i] for i in point_segments if 0 <= i < len(segments)]


def _source(point_segments: list[int], segments: list[Segment]) -> str:
    times = [_timestamp(s.start) for s in _cited(point_segments, segments)]
    return f" _({', '.join(times)})_" if times else ""


def _bullets(points: list[Point], segments: list[Segment]) -> list[str]:
    return [f"- {p.text}{_source(p.segments, segments)}" for p in points] or ["- none"]


def _due(item: ActionItem) -> str:
    if item.due and item.due_date:
        return f"{item.due} ({item.due_date})"
    return item.due or "-"


def to_markdown(minutes: Minutes, segments: list[Segment] | None = None) -> str:
    """The minutes as Markdown; with `segments`, each bullet cites the times it came from."""
    segments = segments or []
    lines = [f"# {minutes.title}", ""]
    if minutes.date:
        lines.append(f"**Date:** {minutes.date}  ")
    if minutes.attendees:
        lines.append(f"**Attendees:** {', '.join(minutes.attendees)}  ")
    if minutes.location:
        lines.append(f"**Location:** {minutes.location}  ")
    if minutes.next_meeting:
        lines.append(f"**Next meeting:** {minutes.next_meeting}")
    for name in POINT_LISTS[:3]:
        lines += ["", f"## {HEADINGS[name]}"] + _bullets(getattr(minutes, name), segments)
    lines += ["", f"## {HEADINGS['action_items']}", "", "| Owner | Task | Due |", "|---|---|---|"]
    lines += [f"| {a.owner or '?'} | {a.task}{_source(a.segments, segments)} | {_due(a)} |"
              for a in minutes.action_items]
    lines += ["", f"## {HEADINGS['open_questions']}"] + _bullets(minutes.open_questions, segments)
    return "\n".join(lines) + "\n"


def cited_points(minutes: Minutes, segments: list[Segment]) -> list[tuple[str, float]]:
    """("Decisions · 01:23 · We agreed to…", 83.0): every bullet that cites the
    transcript, in the order of the minutes, with the start of its first segment."""
    bullets = [(name, p.text, p.segments) for name in POINT_LISTS[:3] for p in getattr(minutes, name)]
    bullets += [("action_items", f"{a.owner or '?'}: {a.task}", a.segments) for a in minutes.action_items]
    bullets += [("open_questions", p.text, p.segments) for p in minutes.open_questions]
    return [(f"{HEADINGS[name]} · {_timestamp(first.start)} · {text[:100]}", first.start)
            for name, text, links in bullets for first in _cited(links, segments)[:1]]


def action_table(minutes: Minutes):
    import pandas as pd

    return pd.DataFrame([{"owner": a.owner, "task": a.task, "due": a.due, "due date": a.due_date}
                         for a in minutes.action_items], columns=["owner", "task", "due", "due date"])


def with_actions(minutes: Minutes, rows: list[dict]) -> Minutes:
    """A copy of `minutes` whose action items are the rows of an edited action
    table (owner, task, due; empty cells and rows without a task dropped). A row
    whose task is unchanged keeps its links to the transcript."""
    def cell(row: dict, name: str) -> str:
        value = row.get(name)
        return "" if value is None or value != value else _text(value)  # value != value: NaN

    links = {a.task: a.segments for a in minutes.action_items}
    items = [ActionItem(cell(row, "owner"), cell(row, "task"), cell(row, "due"), list(links.get(cell(row, "task"), [])),
                        cell(row, "due date")) for row in rows if cell(row, "task")]
    return replace(minutes, action_items=items)
