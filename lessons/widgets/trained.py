"""A student's trained models, kept in the server-wide lib.session_store under
one memory cap instead of in st.session_state (which would keep every
session's copy for as long as the session lives).

The caps come from GLASSBOX_TRAINED_MODELS (default 20 models) and
GLASSBOX_TRAINED_MB (default 512 MiB: a few fine-tuned MiniLMs, whose sizes
benchmarks/README.md measures); the least recently used model goes first.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import streamlit as st

from lib import session_store

OWNER_KEY = "_trained_owner"  # this session's key in the store; dies with the session, and its models with it


@st.cache_resource(show_spinner=False)
def store() -> session_store.SessionStore:
    return session_store.SessionStore(int(os.environ.get("GLASSBOX_TRAINED_MODELS", 20)),
                                      int(os.environ.get("GLASSBOX_TRAINED_MB", 512)) * 2**20)


def _session_id() -> str:
    """A random key held only in this session's own state (not Streamlit's session
    id, which AppTest gives every test the same)."""
    if OWNER_KEY not in st.session_state:
        st.session_state[OWNER_KEY] = store().owner(uuid.uuid4().hex)
    return st.session_state[OWNER_KEY].session_id


def keep(name: str, obj) -> None:
    """Keep this session's trained `name` (replacing the one before)."""
    store().put(_session_id(), name, obj)
    st.session_state[f"_trained_{name}"] = True


def kept(name: str, what: str):
    """This session's `name`, or None. When it was trained but has been evicted
    since, say so (`what` names it for the student: "fine-tuned model")."""
    obj = store().get(_session_id(), name)
    if obj is None and st.session_state.get(f"_trained_{name}"):
        st.info(f"Your {what} was cleared to keep the server's memory bounded (it keeps the "
                f"{store().max_models} most recently used trained models of the whole class, "
                f"{store().max_bytes // 2**20} MiB at most): train again.", icon=":material/memory:")
    return obj


@contextmanager
def training_slot():
    """Wait, saying so, for one of the server's training slots (every fine-tuning run holds one)."""
    from lib import finetuning as ft  # torch: only once something trains

    waiting = st.empty()

    def tell(seconds: float) -> None:
        waiting.info(f"{ft.CONCURRENT_RUNS} classmates are fine-tuning on this server; yours starts when one "
                     f"finishes (waiting {seconds:.0f} s).", icon=":material/hourglass_top:")

    with ft.training_slot(tell):
        waiting.empty()
        yield
