"""The home page's widgets: the course path with this session's scores,
progress files, and the system panel (what this machine has)."""
import streamlit as st

from lessons.widgets import common
from lib import checkpoints, course, glossary, home, progress

# The libraries whose versions the system panel shows.
LIBRARIES = ["torch", "transformers", "tokenizers", "streamlit", "accelerate", "plotly", "bertviz", "faster-whisper"]


CARDS_PER_ROW = 2  # pictures wide enough to read (about 450 px on a 1400 px window)


def course_path() -> None:
    """The lessons in teaching order as a grid of cards, one row of cards per section, each with
    its checkpoint's first-try score (practice apart)."""
    scores = st.session_state.setdefault("progress", {})
    number = 0
    for section in course.SECTIONS[1:]:
        lessons = [l for l in course.LESSONS if l.section == section]
        if not lessons:
            continue
        st.subheader(section)
        for start in range(0, len(lessons), CARDS_PER_ROW):
            for column, lesson in zip(st.columns(CARDS_PER_ROW), lessons[start:start + CARDS_PER_ROW]):
                number += 1
                with column.container(border=True):
                    lesson_card(lesson, number, scores.get(lesson.key))


def lesson_card(lesson: course.Lesson, number: int, score: dict | None) -> None:
    """A lesson's small picture (made by scripts/lesson_pictures.py from its first screen), its
    link, what it teaches and this session's checkpoint score."""
    picture = home.lesson_picture(lesson.key)
    if picture is not None:
        st.image(str(picture), width="stretch")
    if not lesson.available:
        st.markdown(f":gray[**{number}. {lesson.title}**: {lesson.summary} *(in preparation)*]")
        return
    st.page_link(lesson.page, label=f"**{number}. {lesson.title}**", icon=lesson.icon)
    st.caption(lesson.summary)
    if score:
        first, practice = progress.summary(score)
        st.progress(score["first_try"] / score["total"], text=first)
        if practice:
            st.caption(practice)
    elif checkpoints.has_checkpoints(lesson.key):
        st.caption("checkpoint not tried")


def progress_files() -> None:
    """Download this session's scores, or continue from a downloaded file."""
    scores = st.session_state.setdefault("progress", {})
    save, restore = st.columns(2)
    save.download_button("Download my progress", progress.dumps(scores), file_name="glassbox-progress.json",
                         mime="application/json", icon=":material/download:", disabled=not scores)
    upload = restore.file_uploader("Continue from a progress file", type=["json"], key="home_progress_upload")
    if upload is not None and st.session_state.get("_progress_file") != upload.file_id:
        try:
            loaded = progress.loads(upload.getvalue())
        except progress.ProgressError as err:
            restore.error(f"That progress file was not loaded: {err}", icon=":material/error:")
        else:
            st.session_state["_progress_file"] = upload.file_id
            st.session_state["_progress_kept"] = common.continue_from(loaded)
            st.rerun()
    elif upload is not None:
        kept = st.session_state.get("_progress_kept")
        restore.success(f"Progress loaded: {len(scores)} lesson(s) with a checkpoint score."
                        + (f" This session's own first tries were kept for: {', '.join(kept)}." if kept else ""))


def glossary_list() -> None:
    """Every glossary term with its one-line definition, filtered by what the student types."""
    wanted = st.text_input("Find a term", key="home_glossary_filter", placeholder="e.g. logit, MFCC, residual")
    needle = wanted.strip().lower()
    shown = [t for t in glossary.terms()
             if not needle or any(needle in form.lower() for form in t.forms) or needle in t.definition.lower()]
    if not shown:
        st.caption(f"No term matches “{wanted.strip()[:40]}”.")
    with st.expander(f"All {len(glossary.terms())} terms" if not needle else f"{len(shown)} matching terms",
                     expanded=bool(needle)):
        st.markdown("\n".join(f"- **{t.term}**" + (f" ({', '.join(t.forms[1:])})" if len(t.forms) > 1 else "")
                               + f": {t.definition}" for t in shown))


@st.cache_data(ttl=300, show_spinner="Checking this machine…")
def cached_report() -> dict:
    return home.system_report(LIBRARIES)


def system_panel() -> None:
    """Device, CPU threads, GPU, the Hub, library versions and the bundled models."""
    report = cached_report()
    device = report["device"]
    cols = st.columns(4)
    cols[0].metric("Device", device["device"].upper())
    cols[1].metric("CPU threads", device["cpu_threads"])
    cols[2].metric("GPU", device.get("gpu_name", "none"),
                   f"{device['gpu_memory_gb']} GiB, sm {device['compute_capability']}" if device["cuda"] else None)
    cols[3].metric("HuggingFace Hub", "reachable" if report["hub_reachable"] else "offline")
    st.caption("Apple MPS: " + ("available" if device["mps"] else "not available")
               + " · CUDA: " + ("available" if device["cuda"] else "not available"))

    st.markdown(home.markdown_table(home.models_rows(report["bundled_models"])))
    with st.expander("Library versions", icon=":material/inventory_2:"):
        st.markdown(home.markdown_table([{"library": k, "version": v} for k, v in report["versions"].items()]))
    missing = [m["model"] for m in report["bundled_models"] if not m["installed"]]
    if missing:
        st.info(f"Not installed here: {', '.join(missing)}. Those with a Hub fallback are downloaded from the "
                   "HuggingFace Hub when a lesson needs them; `make setup` installs them all for offline use.")
