"""A lesson's main state as short URL query parameters, and back.

A page declares its shareable settings as `{url name: Param}`; `decode` turns
query parameters into values (ignoring, with a notice, anything unknown,
malformed or out of range) and `encode` turns values into the short strings
that go in the link. No Streamlit here: `lessons.widgets.common.shared_state` does the wiring.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from lib.markup import code_span

MAX_VALUE_CHARS = 2_000  # longer values are never parsed
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Param(ABC):
    """One shareable setting: `key` is its st.session_state / widget key."""
    key: str
    default: Any

    @abstractmethod
    def parse(self, text: str) -> Any:
        """The value `text` stands for; ValueError(reason) when it is not valid."""

    def format(self, value: Any) -> str:
        return str(value)


@dataclass(frozen=True)
class Int(Param):
    low: int = 0
    high: int = 2**31 - 1

    def parse(self, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError("not a whole number") from None
        if not self.low <= value <= self.high:
            raise ValueError(f"outside {self.low}–{self.high}")
        return value


@dataclass(frozen=True)
class Float(Param):
    low: float = -math.inf
    high: float = math.inf

    def parse(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError("not a number") from None
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise ValueError(f"outside {self.low:g}–{self.high:g}")
        return value

    def format(self, value: float) -> str:
        return repr(float(value))


@dataclass(frozen=True)
class Bool(Param):
    def parse(self, text: str) -> bool:
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise ValueError("not on/off")

    def format(self, value: bool) -> str:
        return "1" if value else "0"


@dataclass(frozen=True)
class Choice(Param):
    """One of `options` (or of `options()` when the list depends on the machine,
    e.g. models that need the Hub). Options are matched by their `str`."""
    options: Sequence | Callable[[], Sequence] = ()

    def choices(self) -> list:
        return list(self.options() if callable(self.options) else self.options)

    def parse(self, text: str) -> Any:
        for option in self.choices():
            if str(option) == text:
                return option
        raise ValueError("not one of the choices")


@dataclass(frozen=True)
class Choices(Choice):
    """A subset of `options` (a multiselect), comma-separated in the URL."""

    def parse(self, text: str) -> list:
        names = [name for name in text.split(",") if name]
        by_name = {str(option): option for option in self.choices()}
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise ValueError(f"unknown choice {unknown[0]!r}")
        return [by_name[name] for name in names]

    def format(self, value: Sequence) -> str:
        return ",".join(str(v) for v in value)


@dataclass(frozen=True)
class Text(Param):
    """Free text, cut to `max_chars` in the link so URLs stay short."""
    max_chars: int = 300

    def parse(self, text: str) -> str:
        return text[: self.max_chars]

    def format(self, value: str) -> str:
        return str(value)[: self.max_chars]


@dataclass
class Decoded:
    values: dict[str, Any] = field(default_factory=dict)  # widget key -> value
    notices: list[str] = field(default_factory=list)


def decode(params: Mapping[str, Param], query: Mapping[str, str]) -> Decoded:
    """Values for the known, valid parameters in `query`, and one notice per
    parameter that was ignored or shortened."""
    decoded = Decoded()
    for name, text in query.items():
        shown = name if len(name) <= 40 else name[:40] + "…"
        param = params.get(name)
        if param is None:
            decoded.notices.append(f"{code_span(shown)} is not a setting of this page")
        elif len(text) > MAX_VALUE_CHARS:
            decoded.notices.append(f"{code_span(shown)} is too long ({len(text):,} characters)")
        else:
            try:
                decoded.values[param.key] = param.parse(text)
            except ValueError as reason:
                decoded.notices.append(f"{code_span(f'{shown}={text[:20]}')} is {reason}")
                continue
            if isinstance(param, Text) and len(text) > param.max_chars:
                decoded.notices.append(f"{code_span(shown)} was cut to {param.max_chars} characters")
    return decoded


def encode(params: Mapping[str, Param], state: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The query parameters for the settings in `state` that differ from their
    defaults, and a notice for text too long to fit in a link."""
    query, notices = {}, []
    for name, param in params.items():
        if param.key not in state or state[param.key] == param.default:
            continue
        value = state[param.key]
        query[name] = param.format(value)
        if isinstance(param, Text) and len(str(value)) > param.max_chars:
            notices.append(f"The link keeps the first {param.max_chars} characters of the text.")
    return query, notices
