"""Shared Streamlit helpers: the sidebar, model picking and loading, lesson
text, "show me the code", live runs with progress, and next-lesson links.

The only module in lib/ that imports Streamlit; everything it shows is computed
by the other lib modules.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import streamlit as st

from lib import course, models

LESSON_DIR = Path(__file__).resolve().parent.parent / "assets" / "lessons"
CLASSROOM_CSS = """
<style>
  html { font-size: 20px; }
  [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { line-height: 1.6; }
  .gb-advanced { display: none; }
</style>
"""


# --- session-wide settings (sidebar) ----------------------------------------------

def classroom() -> bool:
    """Classroom mode: bigger text and fewer controls for projecting."""
    return st.session_state.get("classroom", False)


def device() -> str:
    return st.session_state.get("device") or models.best_device()


def hub_enabled() -> bool:
    """Hub models are offered when the student asked for them and the Hub answers."""
    return st.session_state.get("model_source") == "Hub when available" and models.hub_reachable()


def sidebar() -> None:
    with st.sidebar:
        choices = ["cpu"] + [d for d in ("cuda", "mps") if models.device_report()[d]]
        st.session_state.setdefault("device", models.best_device())
        st.selectbox("Device", choices, key="device",
                     help="Where models and training run. CUDA/MPS appear when this machine has them.")
        st.badge(f"Running on {device().upper()}", icon=":material/memory:",
                 color="green" if device() != "cpu" else "gray")
        st.radio("Model source", ["Offline (bundled)", "Hub when available"], key="model_source",
                 help="Bundled models work with no network. Hub models are larger and need internet.")
        if st.session_state.get("model_source") == "Hub when available" and not models.hub_reachable():
            st.caption("The HuggingFace Hub is not reachable: using the bundled models.")
        st.toggle("Classroom mode", key="classroom", help="Bigger text and fewer controls, for a projector.")
    if classroom():
        st.html(CLASSROOM_CSS)


# --- models -------------------------------------------------------------------------

def model_picker(role: str, label: str = "Model", key: str | None = None) -> str:
    """A selectbox of registry models for `role`, offline defaults first; Hub
    models (and any Hub id) only when the Hub is enabled and reachable."""
    options = [s for s in models.specs(role) if s.bundled or hub_enabled()]
    labels = {s.key: s.title + ("" if s.bundled else " · Hub") for s in options}
    if hub_enabled():
        labels["__other__"] = "Another Hub id…"
    choice = st.selectbox(label, list(labels), format_func=labels.get, key=key)
    if choice == "__other__":
        typed = st.text_input("Hub model id", placeholder="organization/model-name", key=f"{key}_hub_id")
        return typed.strip() or models.OFFLINE_DEFAULT.get(role, options[0].key)
    return choice


@st.cache_resource(max_entries=4, show_spinner="Loading the model (once for the whole class)…")
def _cached_load(choice: str, role: str, device_name: str, attentions: bool) -> models.Loaded:
    return models.load(choice, role=role, device=device_name, attentions=attentions)


def load_model(choice: str, role: str = "encoder", attentions: bool = False,
               device_name: str | None = None) -> models.Loaded:
    """The shared, cached model for `choice`; shows the fallback notice, and
    stops the page with a clear message when no model can be loaded."""
    try:
        loaded = _cached_load(choice, role, device_name or device(), attentions)
    except models.ModelUnavailable as err:
        st.error(str(err))
        st.stop()
    if loaded.notice:
        st.warning(loaded.notice, icon=":material/cloud_off:")
    return loaded


# --- lesson text and code -------------------------------------------------------

def lesson_text(lesson_key: str, part: str) -> None:
    """Render assets/lessons/<lesson_key>/<part>.md."""
    st.markdown((LESSON_DIR / lesson_key / f"{part}.md").read_text(encoding="utf-8"))


def show_code(code: str, label: str = "Show me the code") -> None:
    """The few lines of plain transformers/torch code that reproduce a widget."""
    with st.expander(label, icon=":material/code:"):
        st.code(code.strip(), language="python")


def next_lesson(lesson_key: str) -> None:
    st.divider()
    upcoming = course.next_lesson(lesson_key)
    if upcoming:
        st.page_link(upcoming.page, label=f"Next lesson: {upcoming.title}", icon=":material/arrow_forward:")
    else:
        st.page_link(course.lesson("home").page, label="Back to the course map", icon=":material/home:")


# --- long runs ----------------------------------------------------------------------

def live_run(steps: Iterable, total: int, label: str, on_step: Callable[[int, object], None]) -> bool:
    """Drive a generator (a training loop, a transcription) with a progress bar
    and a Stop button. `on_step(i, item)` stores and draws each result, so what
    was done survives a stop. Returns True when the run finished.

    Pressing Stop reruns the page, which ends this run at its next Streamlit call."""
    controls = st.empty()
    with controls.container():
        st.button("Stop", icon=":material/stop_circle:", key=f"stop_{label}")
        bar = st.progress(0.0, text=label)
    done = 0
    for done, item in enumerate(steps, start=1):
        on_step(done, item)
        bar.progress(min(done / max(total, 1), 1.0), text=f"{label}: {done}/{total}")
    controls.empty()
    return done >= total
