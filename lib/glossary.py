"""The course glossary: assets/glossary.md, one term a line with its other
forms and a one-line definition. Lessons show a term's definition beside the
paragraph where the page first uses it; the home page shows the whole list."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

GLOSSARY_FILE = Path(__file__).resolve().parent.parent / "assets" / "glossary.md"
ENTRY = re.compile(r"^- \*\*(?P<term>[^*]+)\*\*(?: \(also: (?P<forms>[^)]+)\))?: (?P<definition>.+)$")
# Not prose: fenced and inline code, display and inline math, links and images, headings, HTML tags.
NOT_PROSE = re.compile(r"```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]+\$|!?\[[^\]\n]*\]\([^)\n]*\)|^#[^\n]*|<[^>\n]+>",
                       re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Term:
    term: str
    forms: tuple[str, ...]  # the term itself first, then its other forms (plurals, abbreviations)
    definition: str


@functools.cache
def terms() -> tuple[Term, ...]:
    """Every entry of assets/glossary.md, in file order; a malformed entry line is an error."""
    found = []
    for line in GLOSSARY_FILE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("- "):
            continue
        match = ENTRY.match(line)
        if not match:
            raise ValueError(f"glossary line is not '- **term** (also: …): definition': {line[:60]}")
        forms = [match["term"]] + [f.strip() for f in match["forms"].split(",")] if match["forms"] else [match["term"]]
        found.append(Term(match["term"], tuple(forms), match["definition"]))
    return tuple(found)


@functools.cache
def _matcher() -> tuple[re.Pattern, dict[str, Term]]:
    by_form = {form.lower(): term for term in terms() for form in term.forms}
    alternatives = sorted(by_form, key=len, reverse=True)  # longest first: "CUDA context" before "CUDA"
    pattern = r"(?<![\w-])(" + "|".join(re.escape(form) for form in alternatives) + r")(?![\w-])"
    return re.compile(pattern, re.IGNORECASE), by_form


def prose_only(markdown: str) -> str:
    """`markdown` with code, math, links, headings and HTML blanked out."""
    return NOT_PROSE.sub(" ", markdown)


def used_terms(markdown: str) -> list[Term]:
    """The glossary terms `markdown`'s prose uses, in order of first use."""
    pattern, by_form = _matcher()
    seen: dict[str, Term] = {}
    for match in pattern.finditer(prose_only(markdown)):
        term = by_form[match.group(1).lower()]
        seen.setdefault(term.term, term)
    return list(seen.values())


def definitions_markdown(used: list[Term]) -> str:
    """The definitions shown beside a paragraph: one line per term."""
    return "  \n".join(f"**{term.term}**: {term.definition}" for term in used)


def anchor(term: Term) -> str:
    return "gloss-" + re.sub(r"[^a-z0-9]+", "-", term.term.lower()).strip("-")
