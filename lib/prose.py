"""Lesson prose: assets/lessons/<lesson key>/<part>.md, with the numbers it
states filled in from the code (`{{name}}` placeholders)."""
import re
from pathlib import Path

LESSON_DIR = Path(__file__).resolve().parent.parent / "assets" / "lessons"


def lesson_markdown(lesson_key: str, part: str, **values) -> str:
    """assets/lessons/<lesson_key>/<part>.md with each `{{name}}` in it replaced by
    values[name]: numbers the text states come from the code."""
    return fill_placeholders((LESSON_DIR / lesson_key / f"{part}.md").read_text(encoding="utf-8"), values)


def fill_placeholders(text: str, values: dict) -> str:
    """`{{name}}` → str(values[name]); a name without a value is an error, not silent text."""
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"lesson text needs a value for {{{{{name}}}}}")
        return str(values[name])

    return re.sub(r"\{\{(\w+)\}\}", value, text)
