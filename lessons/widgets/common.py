"""Shared Streamlit helpers: the sidebar, model picking and loading, lesson
text, "show me the code", live runs with progress, settings shared by link,
teacher presets, checkpoints, and next-lesson links.

The only module in lib/ that imports Streamlit; everything it shows is computed
by the other lib modules.
"""
from __future__ import annotations

import functools
import random
import threading
import time
from typing import Any, Callable, Iterable, Mapping

import streamlit as st
from streamlit.errors import StreamlitWidgetAlreadyInstantiatedError
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lib import checkpoints, course, device_policy, glossary, hub, model_cards, model_loading, model_registry, progress, prose, urlstate

CLASSROOM_CSS = """
<style>
  html { font-size: 20px; }
  [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { line-height: 1.6; }
  .gb-advanced { display: none; }
  h1 { font-size: 2.2rem !important; }
</style>
"""
# Less empty space above a lesson's title, so its first figure fits on the first screen; a wide
# Markdown table scrolls inside its column instead of running past it.
PAGE_CSS = """<style>[data-testid=stMainBlockContainer] { padding-top: 2.5rem; }
  [data-testid=stMarkdownContainer] table { display: block; overflow-x: auto; }</style>"""
# Copies the address bar, so the link carries every setting the student has changed so far.
COPY_LINK_HTML = """
<button type="button" class="gb-copy-link" aria-label="Copy link for the class">Copy link for the class</button>
<span class="gb-copy-status" role="status" aria-live="polite"></span>
<style>
  .gb-copy-link { font: inherit; padding: .35rem .8rem; border-radius: .5rem; cursor: pointer;
                  border: 1px solid rgba(49, 51, 63, .3); background: white; color: rgb(49, 51, 63); }
  .gb-copy-link:hover, .gb-copy-link:focus { border-color: #1f77b4; color: #1f77b4; }
  .gb-copy-status { display: block; margin-top: .25rem; font-size: .85rem; }
</style>
<script>
if (!window.glassboxCopyLink) {
  window.glassboxCopyLink = true;
  document.addEventListener("click", async (event) => {
    const button = event.target.closest(".gb-copy-link");
    if (!button) return;
    const status = button.parentElement.querySelector(".gb-copy-status");
    try {
      await navigator.clipboard.writeText(window.location.href);
      status.textContent = "Link copied";
    } catch (error) {
      window.prompt("Copy this link for the class:", window.location.href);
    }
  });
}
</script>
"""
QUIZ_SEED_RANGE = (1, 999_999)
# How long a lesson's first screen has the browser to itself on arrival (see first_screen_sent):
# on this 2-core machine the browser drew the attention lesson's first screen 0.35-0.45 s after
# the click, so shorter pauses (0.05 s, 0.15 s) still let the rest of the page arrive first.
FIRST_SCREEN_PAUSE_S = 0.4


# --- session-wide settings (sidebar) ----------------------------------------------

def classroom() -> bool:
    """Classroom mode: bigger text and fewer controls for projecting."""
    return st.session_state.get("classroom", False)


def device() -> str:
    return st.session_state.get("device") or device_policy.best_device()


def hub_enabled() -> bool:
    """Hub models are offered when the student asked for them and the Hub answers."""
    return st.session_state.get("model_source") == "Hub when available" and hub.hub_reachable()


def sidebar() -> None:
    with st.sidebar:
        choices = ["cpu"] + [d for d in ("cuda", "mps") if device_policy.device_report()[d]]
        st.session_state.setdefault("device", device_policy.best_device())
        st.selectbox("Device", choices, key="device",
                     help="Where models and training run. CUDA/MPS appear when this machine has them.")
        st.badge(f"Running on {device().upper()}", icon=":material/memory:",
                 color="green" if device() != "cpu" else "gray")
        st.radio("Model source", ["Offline (bundled)", "Hub when available"], key="model_source",
                 help="Bundled models work with no network. Hub models are larger and need internet.")
        if st.session_state.get("model_source") == "Hub when available" and not hub.hub_reachable():
            st.caption("The HuggingFace Hub is not reachable: using the bundled models.")
        st.toggle("Classroom mode", key="classroom", help="Bigger text and fewer controls, for a projector.")
        st.html(COPY_LINK_HTML, unsafe_allow_javascript=True)
        st.caption("The link opens this page with your settings, for every student.")
    st.session_state["_previous_lesson"] = st.session_state.get("_shared_lesson")  # read by first_screen_sent()
    st.session_state["_shared_lesson"] = None  # set again by the page's shared_state()
    st.html(PAGE_CSS)
    if classroom():
        st.html(CLASSROOM_CSS)


# --- models -------------------------------------------------------------------------

def model_choices(role: str) -> list[str]:
    """The options a model picker offers for `role` on this machine: bundled
    models, and Hub ones plus "another Hub id" when the Hub is on."""
    with_hub = hub_enabled()
    return [s.key for s in model_registry.specs(role) if s.offline or with_hub] + (["__other__"] if with_hub else [])


def model_picker(role: str, label: str = "Model", key: str | None = None) -> str:
    """A selectbox of registry models for `role`, offline defaults first; Hub
    models (and any Hub id) only when the Hub is enabled and reachable."""
    labels = {k: "Another Hub id…" if k == "__other__" else
              model_registry.REGISTRY[k].title + ("" if model_registry.REGISTRY[k].offline else " · Hub") for k in model_choices(role)}
    choice = st.selectbox(label, list(labels), format_func=labels.get, key=key)
    if choice == "__other__":
        typed = st.text_input("Hub model id", placeholder="organization/model-name", key=f"{key}_hub_id")
        return typed.strip() or model_registry.OFFLINE_DEFAULT.get(role, next(iter(labels)))
    return choice


def load_model(choice: str, role: str = "encoder", device_name: str | None = None) -> model_loading.Loaded:
    """The class's shared copy of a model (`model_loading.shared`: one per process,
    with attention weights available); shows the fallback notice, and stops
    the page with a clear message when no model can be loaded."""
    try:
        with st.spinner("Loading the model (once for the whole class)…"):
            loaded = model_loading.shared(choice, role, device_name or device())
    except model_registry.ModelUnavailable as err:
        st.error(str(err))
        st.stop()
    if loaded.notice:
        st.warning(loaded.notice, icon=":material/cloud_off:")
    return loaded


def model_card(key: str, expanded: bool = False) -> None:
    """The model card of the model a widget runs: licence, training data, intended use, limits."""
    found = model_cards.card(key)
    if found is None:
        return
    with st.expander(f"Model card: {model_registry.REGISTRY[key].title}", icon=":material/badge:", expanded=expanded):
        st.markdown(f"**Licence:** {found.licence}  \n**Training data:** {found.training_data}  \n"
                    f"**Intended use:** {found.intended_use}  \n**Limits:** {found.limits}")
        st.caption(f"Full card: {found.source}")


@st.cache_resource(max_entries=2, show_spinner="Loading Whisper (once for the whole class)…")
def whisper(size: str, device_name: str):
    """The class's Whisper: a bundled size (base, tiny.en), or a bigger one from the Hub."""
    from lib.meeting_minutes import transcribe

    return transcribe.load_whisper(transcribe.model_source(size), device_name)


@st.cache_resource(max_entries=1, show_spinner="Loading EfficientNet-Lite0 (once for the whole class)…")
def efficientnet(device_name: str):
    """The class's EfficientNet-Lite0 and the lock every student holds while
    using it (Grad-CAM runs a backward pass through it)."""
    from lib import efficientnet as lite0

    return lite0.load_efficientnet_lite0().to(device_name), threading.Lock()


# --- lesson text and code -------------------------------------------------------

def lesson_text(lesson_key: str, part: str, **values) -> None:
    """Render assets/lessons/<lesson_key>/<part>.md (see lib.prose), followed by a
    small popover with the definitions of the glossary terms the page first uses
    here (the first run of a page in a session settles which part that is)."""
    text = prose.lesson_markdown(lesson_key, part, **values)
    first_part = st.session_state.setdefault("_glossary_first_use", {}).setdefault(lesson_key, {})
    used = glossary.used_terms(text)
    new = [term for term in used if first_part.setdefault(term.term, part) == part]
    st.markdown(text)
    if new:
        with st.popover(f"Terms first used here ({len(new)})", icon=":material/help:",
                        help="One-line definitions from the course glossary (the home page lists them all)."):
            st.markdown(glossary.definitions_markdown(new))


def lazy_tabs(labels: list[str], key: str) -> list:
    """st.tabs whose closed tabs run nothing: draw a tab's content under `if tab.open:`. A page's
    charts are all drawn by the browser, hidden or not, before its first figure shows."""
    return st.tabs(labels, key=key, on_change="rerun")


def show_code(code: str, label: str = "Show me the code") -> None:
    """The few lines of plain transformers/torch code that reproduce a widget."""
    with st.expander(label, icon=":material/code:"):
        st.code(code.strip(), language="python")


# --- settings shared by link, and teacher presets ----------------------------

_SHARED: dict[str, dict[str, urlstate.Param]] = {}  # lesson key -> its URL settings (same for every session)


def quiz_key(lesson_key: str) -> str:
    return f"{lesson_key}_quiz_seed"


def shared_value(param: urlstate.Param) -> Any:
    """A shared setting's value, also while its widget is hidden (classroom mode)."""
    return st.session_state.get(param.key, param.default)


def shared_state(lesson_key: str, params: Mapping[str, urlstate.Param],
                 presets: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Call at the top of a lesson page. `params` maps short URL names to the
    widgets' session-state keys and defaults (shared widgets take their default
    from here, so they pass no value= of their own). Restores settings from the
    link, offers the teacher presets, and keeps the URL in step."""
    params = {**params, "quiz": urlstate.Int(quiz_key(lesson_key), 1, *QUIZ_SEED_RANGE)}
    _SHARED[lesson_key] = params
    st.session_state["_shared_lesson"] = lesson_key
    decoded = urlstate.decode(params, st.query_params.to_dict())
    for key, value in decoded.values.items():
        if key not in st.session_state:
            st.session_state[key] = value
    for param in params.values():
        st.session_state.setdefault(param.key, param.default)
    _resend_shared_values(params)
    if decoded.notices:
        st.info("Some settings in this link were ignored: " + "; ".join(decoded.notices) + ".",
                icon=":material/link_off:")
    if presets:
        _preset_buttons(lesson_key, presets)
    for notice in sync_url():
        st.caption(notice)


def _apply_preset(lesson_key: str, values: Mapping[str, Any]) -> None:
    for name, param in _SHARED[lesson_key].items():
        if name != "quiz":
            st.session_state[param.key] = values.get(name, param.default)


def _preset_buttons(lesson_key: str, presets: Mapping[str, Mapping[str, Any]]) -> None:
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown(":material/school: **Start from:**")
        for name, values in presets.items():
            st.button(name, key=f"{lesson_key}_preset_{name}", on_click=_apply_preset, args=(lesson_key, values),
                      help="A teacher preset: sets this page's controls and the link.")


def _resend_shared_values(params: Mapping[str, urlstate.Param]) -> None:
    """Assign each shared widget its own value, so this run sends the value with the widget.
    Otherwise a run after the first sends only the widget's default, and a widget the browser
    had not drawn yet (a long page, a fragment rerun before it) starts from that default and
    sends it back: the neuron view once reran the attention lesson with its text box empty."""
    for param in params.values():
        if param.key in st.session_state:
            try:
                st.session_state[param.key] = st.session_state[param.key]
            except StreamlitWidgetAlreadyInstantiatedError:  # drawn earlier in this run (an earlier fragment): sent
                pass


def first_screen_sent() -> None:
    """Call after a lesson's first screen. On arrival at the lesson (not on its reruns), pause
    for FIRST_SCREEN_PAUSE_S, so the browser draws the first figure before the rest of the
    page reaches it. Sent together, the first figure waits until the browser has drawn every
    chart below it too: on the attention lesson, 1.7-1.9 s after the click instead of 0.4 s
    (benchmarks/README, "First screens")."""
    if st.session_state.get("_previous_lesson") != st.session_state.get("_shared_lesson"):
        time.sleep(FIRST_SCREEN_PAUSE_S)


def sync_url() -> list[str]:
    """Write the current page's shared settings into the URL (only the ones that
    differ from their defaults); returns notices about text cut to fit."""
    params = _SHARED.get(st.session_state.get("_shared_lesson"))
    if not params:
        return []
    query, notices = urlstate.encode(params, st.session_state)
    if query != st.query_params.to_dict():
        st.query_params.from_dict(query)
    return notices


def fragment(func: Callable) -> Callable:
    """st.fragment that also puts what the fragment's widgets changed into the URL."""
    @functools.wraps(func)
    def run_and_sync(*args, **kwargs):
        ctx = get_script_run_ctx()
        if ctx and ctx.fragment_ids_this_run:  # only fragments run: shared_state did not
            _resend_shared_values(_SHARED.get(st.session_state.get("_shared_lesson"), {}))
        result = func(*args, **kwargs)
        sync_url()
        return result
    return st.fragment(run_and_sync)


# --- checkpoints and progress ---------------------------------------------------

@st.cache_resource(max_entries=200, show_spinner=False)  # not cache_data: a predict question holds a function
def _questions(lesson_key: str, seed: int) -> list[checkpoints.Question]:
    return checkpoints.questions(lesson_key, seed)


@st.cache_resource(max_entries=200, show_spinner=False)
def _revealed(lesson_key: str, seed: int, number: int) -> checkpoints.Reveal:
    """A predict question's live run, once per question set: a class on one seed shares it."""
    return _questions(lesson_key, seed)[number - 1].reveal()


def checkpoint(lesson_key: str) -> None:
    """The lesson's checkpoint: questions computed by lib.checkpoints for this
    session's seed. A question's first answer is its score; the worked solution
    opens after it, and later tries are practice. The lesson's score (the first
    set answered) goes to this session's progress (the home page shows it)."""
    st.header("Checkpoint", anchor="checkpoint")
    st.caption("Your first answer to each question is your score; try again as often as you like, for practice. "
               "Answers are computed by the same code as the lesson: new questions get new numbers.")
    _checkpoint_questions(lesson_key)


def _new_questions(lesson_key: str) -> None:
    st.session_state[quiz_key(lesson_key)] = random.randint(*QUIZ_SEED_RANGE)


def _answered_sets(lesson_key: str) -> dict[int, dict]:
    """This session's answered question sets of a lesson, in the order they were
    started: seed -> {"total", "tries": {number: [bool, ...]}, "last": {number: answer}}."""
    return st.session_state.setdefault("_checkpoint_sets", {}).setdefault(lesson_key, {})


@fragment
def _checkpoint_questions(lesson_key: str) -> None:
    seed = st.session_state.setdefault(quiz_key(lesson_key), 1)
    with st.spinner("Computing the questions…"):
        questions = _questions(lesson_key, seed)
    answered = _answered_sets(lesson_key).get(seed) or {"total": len(questions), "tries": {}, "last": {}}
    for number, question in enumerate(questions, start=1):
        with st.container(border=True):
            ask = _predict_question if question.kind == "predict" else _one_question
            if ask(lesson_key, seed, number, question, answered):
                _answered_sets(lesson_key).setdefault(seed, answered)
    score = checkpoints.set_score(seed, len(questions), answered["tries"])
    practice = f" · practice: {score.solved_on_retry} solved on a retry" if score.solved_on_retry else ""
    st.progress(score.first_try / score.total, text=f"First-try score: {score.first_try}/{score.total}{practice}")
    _record_progress(lesson_key)
    st.button("New questions", icon=":material/refresh:", key=f"{lesson_key}_new_questions",
              on_click=_new_questions, args=(lesson_key,),
              help="New numbers to practise on. The lesson's score stays the first tries of the first set you answered.")


def _one_question(lesson_key: str, seed: int, number: int, question: checkpoints.Question, answered: dict) -> bool:
    """A concept or arithmetic question; True when an answer was submitted in this run."""
    st.markdown(f"**Question {number}.** {question.prompt}")
    tries = answered["tries"].get(number, [])
    submitted = False
    with st.form(f"{lesson_key}_q{number}_{seed}", border=False):
        if question.options:
            response = st.radio("Your answer", question.options, index=None, key=f"{lesson_key}_a{number}_{seed}")
        else:
            response = st.text_input("Your answer", key=f"{lesson_key}_a{number}_{seed}",
                                     placeholder="a number, e.g. 1,234 or 110M")
        if st.form_submit_button("Check"):
            if question.options and response is None:
                st.warning("Pick an answer first.", icon=":material/touch_app:")
            elif not question.options and checkpoints.parse_number(response) is None:
                st.warning("Type a number, e.g. 1,234, 0.25, 1.5e6 or 110M.", icon=":material/pin:")
            else:
                tries = answered["tries"].setdefault(number, [])
                tries.append(question.check(response))
                answered["last"][number] = response
                submitted = True
    if tries:
        _verdict(question, tries, answered["last"][number])
        with st.expander("Worked solution", expanded=not tries[0]):
            st.markdown(question.solution)
    return submitted


def _verdict(question: checkpoints.Question, tries: list[bool], last: str) -> None:
    if tries[0]:
        st.success("Correct.", icon=":material/check_circle:")
    elif tries[-1]:
        st.success(f"Right, {checkpoints.try_note(tries)}: that is practice. Only the first try counts, "
                   "so this question's score stays 0.", icon=":material/replay:")
    else:
        why = question.feedback.get(last)
        st.error(f"Not quite{': ' + why if why else ''}. See the worked solution, then try again for practice "
                 "(your score is your first try).", icon=":material/cancel:")


def _lock_in(widget_key: str) -> None:
    st.session_state["_checkpoint_lock"] = (widget_key, st.session_state.get(widget_key))


def _predict_question(lesson_key: str, seed: int, number: int, question: checkpoints.Question,
                      answered: dict) -> bool:
    """Predict, then reveal: the student locks in an option, then the live model
    runs (`question.reveal()`) and its answer is shown beside the prediction.
    True when the prediction was locked in in this run."""
    st.markdown(f"**Question {number}.** :material/psychology: *Predict, then reveal.* {question.prompt}")
    widget = f"{lesson_key}_a{number}_{seed}"
    reveals = st.session_state.setdefault("_checkpoint_reveals", {})
    lock = st.session_state.get("_checkpoint_lock")
    problem = None
    if lock and lock[0] == widget:  # "Lock in" was pressed (its callback ran before this run)
        del st.session_state["_checkpoint_lock"]
        problem = _reveal(lesson_key, seed, number, question, lock[1], answered, reveals)
    locked = answered["last"].get(number)
    with st.form(f"{lesson_key}_q{number}_{seed}", border=False):
        if locked is None:
            st.radio("Your prediction", question.options, index=None, key=widget)
        else:  # a new widget: the form's own one would not show a value set by its callback
            st.radio("Your prediction", question.options, index=question.options.index(locked),
                     key=f"{widget}_locked", disabled=True)
        st.form_submit_button("Lock in my prediction", disabled=locked is not None, on_click=_lock_in, args=(widget,))
        if problem:
            st.warning(problem, icon=":material/warning:")
    revealed = reveals.get((lesson_key, seed, number))
    if locked is not None and revealed is not None:
        _show_reveal(question, locked, revealed)
    return lock is not None and lock[0] == widget and problem is None


def _reveal(lesson_key: str, seed: int, number: int, question: checkpoints.Question, prediction: str | None,
            answered: dict, reveals: dict) -> str | None:
    """Run the model for a locked-in prediction and score it; a reason when nothing was counted."""
    if prediction is None:
        return "Pick your prediction first."
    key = (lesson_key, seed, number)
    try:
        with st.spinner("Running the model to see what it does…"):
            reveals[key] = _revealed(lesson_key, seed, number)
    except Exception as err:  # a model that cannot run here: say so, count nothing
        return f"The model could not run here ({type(err).__name__}: {err}); your prediction was not counted."
    answered["last"][number] = prediction
    answered["tries"][number] = [question.check(prediction, reveals[key].answer)]
    return None


def _show_reveal(question: checkpoints.Question, locked: str, revealed: checkpoints.Reveal) -> None:
    mine, model = st.columns(2)
    mine.markdown(f"**Your prediction**  \n{locked}")
    model.markdown(f"**What the model did**  \n{revealed.answer}")
    if locked == revealed.answer:
        st.success("Correct.", icon=":material/check_circle:")
    else:
        why = question.feedback.get(locked)
        st.error(f"Not this time{': ' + why if why else ''}.", icon=":material/cancel:")
    st.markdown(revealed.explanation)
    if revealed.table is not None:
        st.dataframe(revealed.table, hide_index=True)
    with st.expander("Worked solution", expanded=locked != revealed.answer):
        st.markdown(question.solution)


def _record_progress(lesson_key: str) -> None:
    sets = [checkpoints.set_score(seed, answered["total"], answered["tries"])
            for seed, answered in _answered_sets(lesson_key).items()]
    entry = progress.lesson_record(st.session_state.get("_progress_base", {}).get(lesson_key), sets)
    if entry is not None:
        st.session_state.setdefault("progress", {})[lesson_key] = entry


def continue_from(loaded: dict[str, dict]) -> list[str]:
    """Take a progress file's lessons into this session; a lesson this session
    has already scored keeps its own score. Returns the lessons kept."""
    scores = st.session_state.setdefault("progress", {})
    kept = [key for key in loaded if key in scores]
    fresh = {key: entry for key, entry in loaded.items() if key not in scores}
    st.session_state.setdefault("_progress_base", {}).update(fresh)
    scores.update(fresh)
    return kept


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
