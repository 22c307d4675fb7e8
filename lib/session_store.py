"""Models a student trained, kept for the whole server under one memory cap.

Streamlit keeps every open session's st.session_state, so twenty students who
each fine-tune MiniLM would hold twenty ~90 MB copies until they leave. Here
those models live in one process-wide store, keyed by (session id, name), with
a cap on how many and how many bytes: the least recently used go first. A
session can only reach its own entries (every call names its session id), and
a session's entries go when the session does (`owner`). No Streamlit.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass


def tensor_bytes(obj, depth: int = 3) -> int:
    """Bytes of the tensors `obj` holds: a module's parameters and buffers, an
    optimiser's state, and tensors inside dicts, lists and plain objects (a
    `model_loading.Loaded`, a training run) up to `depth` levels down. Storage shared
    by several tensors (tied weights) is counted once."""
    import torch

    seen: set[int] = set()

    def walk(item, level: int) -> int:
        if isinstance(item, torch.Tensor):
            storage = item.untyped_storage()
            if storage.data_ptr() in seen:
                return 0
            seen.add(storage.data_ptr())
            return storage.nbytes()
        if level > depth:
            return 0
        if isinstance(item, torch.nn.Module):
            children = [*item.parameters(), *item.buffers()]
        elif isinstance(item, torch.optim.Optimizer):
            children = [v for state in item.state.values() for v in state.values()]
        elif isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, (list, tuple)):
            children = list(item)
        elif hasattr(item, "__dict__") and not isinstance(item, type):
            children = list(vars(item).values())
        else:
            return 0
        return sum(walk(child, level + 1) for child in children)

    return walk(obj, 0)


@dataclass(frozen=True)
class Usage:
    models: int
    bytes: int
    evicted: int  # entries dropped to respect the cap since the store was made


@dataclass
class _Entry:
    obj: object
    nbytes: int


class SessionStore:
    """At most `max_models` objects and `max_bytes` bytes for all sessions
    together (the newest entry is always kept, even when it alone is larger).
    Thread-safe: every Streamlit session runs its script in its own thread."""

    def __init__(self, max_models: int, max_bytes: int):
        if max_models < 1 or max_bytes < 1:
            raise ValueError("the store needs room for at least one model")
        self.max_models, self.max_bytes = max_models, max_bytes
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()  # oldest use first
        self._lock = threading.Lock()
        self._evicted = 0

    def put(self, session_id: str, name: str, obj, nbytes: int | None = None) -> None:
        """Keep `obj` as this session's `name`, replacing the one before; then
        drop the least recently used entries (of any session) beyond the cap."""
        size = tensor_bytes(obj) if nbytes is None else nbytes
        with self._lock:
            self._entries.pop((session_id, name), None)
            self._entries[(session_id, name)] = _Entry(obj, size)
            while len(self._entries) > 1 and (len(self._entries) > self.max_models
                                               or self._bytes() > self.max_bytes):
                self._entries.popitem(last=False)
                self._evicted += 1

    def get(self, session_id: str, name: str):
        """This session's `name`, or None when it was never kept or was evicted."""
        with self._lock:
            entry = self._entries.get((session_id, name))
            if entry is None:
                return None
            self._entries.move_to_end((session_id, name))
            return entry.obj

    def drop_session(self, session_id: str) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[0] == session_id]:
                del self._entries[key]

    def owner(self, session_id: str) -> object:
        """A token to keep in the session's own state: when the session is
        discarded and the token collected, the session's entries are dropped."""
        token = _Owner(session_id)
        weakref.finalize(token, self.drop_session, session_id)
        return token

    def usage(self) -> Usage:
        with self._lock:
            return Usage(len(self._entries), self._bytes(), self._evicted)

    def _bytes(self) -> int:
        return sum(e.nbytes for e in self._entries.values())


@dataclass(frozen=True)
class _Owner:
    session_id: str
