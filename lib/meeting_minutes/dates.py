"""Deadlines in speech: find a weekday, date or relative deadline in a task
("… by Friday", "before the 14th", "end of next week", "tomorrow"), even
when speech recognition mishears the preposition ("my Friday", "I Friday"),
and turn it into a calendar date relative to the meeting's date.

Conventions (there is no universal one): a bare weekday is its next
occurrence after the meeting day; "next Friday" is the Friday of next week;
"end of the week" is this week's Friday, "end of next week" next week's;
"next week" is next week's Monday; "the 14th" is the next 14th after the
meeting."""
from __future__ import annotations

import calendar
import datetime as dt
import re

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
ORDINAL_WORDS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                 "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
                 "eighteenth", "nineteenth", "twentieth"]
NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10,
           "fourteen": 14}

_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
_MONTH = "(?:" + "|".join(MONTHS) + ")"
_ORDINAL = (r"(?:\d{1,2}(?:st|nd|rd|th)|(?:twenty|thirty|20|30)[- ](?:first|second|third|fourth|fifth|sixth|seventh|"
            r"eighth|ninth)|thirtieth|" + "|".join(ORDINAL_WORDS) + ")")
_DAY_NUMBER = rf"(?:{_ORDINAL}|\d{{1,2}})"
_AMOUNT = "(?:" + "|".join(NUMBERS) + r"|\d+)"
_PART_OF_DAY = r"(?:morning|afternoon|evening|night|lunchtime)"  # "tomorrow morning": still tomorrow
# The word before a deadline as heard: "by" often comes out as "my", "buy", "bye" or "I".
PREPOSITION = r"(?:by|my|buy|bye|i|before|until|till|til|on|due|for|at|be|from|in|within)"
DEADLINE = (rf"(?:the\s+)?end\s+o[fn]\s+(?:the\s+|this\s+|(?:the\s+)?next\s+)?(?:day|week|month)|end\s+of\s+day|"
            rf"(?<=\s)in\s+o[fn]\s+(?:the|this|next)\s+(?:week|month)|"  # "end" heard as "in": "side in on the month"
            rf"(?:(?:the\s+)?day\s+after\s+tomorrow|tomorrow|today|(?:next\s+|this\s+|coming\s+)?{_WEEKDAY})"
            rf"(?:\s+{_PART_OF_DAY})?|tonight|this\s+{_PART_OF_DAY}|(?:next|this)\s+(?:week|month)|"
            rf"(?:the\s+)?{_DAY_NUMBER}\s+(?:o[fn]\s+)?{_MONTH}|{_MONTH}\s+(?:the\s+)?{_DAY_NUMBER}|"
            rf"(?:the\s+)?{_ORDINAL}(?=\s*(?:$|[,.?!]|at\b|please\b|if\b|so\b|and\b|then\b))|"
            rf"the\s+\d{{1,2}}(?=\s*(?:$|[,.?!]))|"  # "by the 28": the ordinal's ending not written
            rf"(?<=in\s)(?:a|{_AMOUNT})\s+(?:days?|weeks?)(?:'?\s*time)?|"
            rf"(?<=within\s)(?:a|{_AMOUNT})\s+(?:days?|weeks?)")
FOUND = re.compile(rf"(?:[\s,]*\b{PREPOSITION})?\s+(?P<due>{DEADLINE})\b(?:'s)?(?:\s+at\s+the\s+latest)?", re.I)


def split_due(task: str) -> tuple[str, str]:
    """("send the list", "Friday") from "send the list by Friday" (or "my Friday"): the task
    without its deadline, and the deadline as said (without its preposition)."""
    found = list(FOUND.finditer(" " + task))
    match = found[-1] if found else None  # the last: "book the hall for the second act by Friday"
    if not match:
        return task.strip(" ,"), ""
    start, end = match.start() - 1, match.end() - 1
    due = re.sub(r"\s+", " ", match.group("due")).strip()
    return (task[:max(start, 0)] + task[end:]).strip(" ,"), due


def _ordinal_day(text: str) -> int | None:
    text = text.lower().replace("-", " ")
    tens, _, unit = text.partition(" ")
    if unit in ORDINAL_WORDS:  # "twenty second", "20 second"
        return {"twenty": 20, "thirty": 30, "20": 20, "30": 30}[tens] + ORDINAL_WORDS.index(unit) + 1
    digits = re.match(r"(\d{1,2})", text)
    if digits:
        return int(digits.group(1))
    if text == "thirtieth":
        return 30
    return ORDINAL_WORDS.index(text) + 1 if text in ORDINAL_WORDS else None


def _next_weekday(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7 or 7)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def resolve(due: str, meeting: dt.date) -> dt.date | None:
    """The calendar date a spoken deadline means, counted from the meeting's date (None if unclear)."""
    text = re.sub(r"[\s-]+", " ", due.lower()).strip()
    text = re.sub(r"^(?:the|this coming|coming) ", "", text).removesuffix("'s")
    text = re.sub(r"^(?:end|in) o[fn]\b", "end of", text)  # "end of" heard as "end on" or "in on"
    text = re.sub(rf"^this {_PART_OF_DAY}$", "today", text)
    text = re.sub(rf" {_PART_OF_DAY}$", "", text).replace("of the next ", "of next ")
    if text in ("today", "tonight", "end of day", "end of the day", "end of today"):
        return meeting
    if text == "tomorrow":
        return meeting + dt.timedelta(days=1)
    if text == "day after tomorrow":
        return meeting + dt.timedelta(days=2)
    if text in ("end of the week", "end of this week", "end of week", "this week"):
        friday = _monday(meeting) + dt.timedelta(days=4)
        return friday if friday >= meeting else friday + dt.timedelta(days=7)
    if text == "end of next week":
        return _monday(meeting) + dt.timedelta(days=11)
    if text == "next week":
        return _monday(meeting) + dt.timedelta(days=7)
    if text in ("end of the month", "end of this month", "end of month", "this month"):
        return _month_end(meeting.year, meeting.month)
    if text in ("end of next month", "next month"):
        year, month = meeting.year + (meeting.month == 12), meeting.month % 12 + 1
        return _month_end(year, month) if text.startswith("end") else dt.date(year, month, 1)
    weekday = re.fullmatch(rf"(next |this )?({_WEEKDAY})", text)
    if weekday:
        index = WEEKDAYS.index(weekday.group(2).rstrip("s"))
        if weekday.group(1) == "next ":
            return _monday(meeting) + dt.timedelta(days=7 + index)
        return _next_weekday(meeting, index)
    amount = re.fullmatch(rf"({_AMOUNT}) (day|week)s?(?:'? ?time)?", text)
    if amount:
        count = NUMBERS.get(amount.group(1)) or int(amount.group(1))
        return meeting + dt.timedelta(days=count * (7 if amount.group(2) == "week" else 1))
    dated = re.fullmatch(rf"(?:({_DAY_NUMBER}) (?:o[fn] )?({_MONTH})|({_MONTH}) (?:the )?({_DAY_NUMBER}))", text)
    if dated:
        day = _ordinal_day(dated.group(1) or dated.group(4))
        month = MONTHS.index(dated.group(2) or dated.group(3)) + 1
        found = _safe_date(meeting.year, month, day)
        if found and found < meeting:
            found = _safe_date(meeting.year + 1, month, day)
        return found
    ordinal = re.fullmatch(rf"{_ORDINAL}|\d{{1,2}}", text)
    if ordinal:
        day = _ordinal_day(text)
        year, month = meeting.year, meeting.month
        if day <= meeting.day:
            year, month = year + (month == 12), month % 12 + 1
        return _safe_date(year, month, day)
    return None


def iso(due: str, meeting_date: str) -> str:
    """resolve() as an ISO date string, "" when the deadline or the meeting date is unclear."""
    try:
        meeting = dt.date.fromisoformat(meeting_date)
    except (TypeError, ValueError):
        return ""
    found = resolve(due, meeting) if due else None
    return found.isoformat() if found else ""
