"""The home page's widgets: the course path with this session's scores,
progress files, and the system panel (what this machine has)."""
import streamlit as st

from lessons.widgets import common
from lib import checkpoints, course, glossary, home, progress

# The libraries whose versions the system panel shows.
LIBRARIES = ["torch", "transformers", "tokenizers", "streamlit", "accelerate", "plotly", "bertviz", "faster-whisper"]


def course_path() -> None:
    """Lessons in teaching order, each with its checkpoint's first-try score (practice apart)."""
    scores = st.session_state.setdefault("progress", {})
    for section in course.SECTIONS[1:]:
        st.subheader(section)
        for lesson in (l for l in course.LESSONS if l.section == section):
            if not lesson.available:
                st.markdown(f":gray[{lesson.title} — {lesson.summary} *(in preparation)*]")
                continue
            link, score = st.columns([5, 1], vertical_alignment="center")
            link.page_link(lesson.page, label=f"**{lesson.title}** — {lesson.summary}", icon=lesson.icon)
            if lesson.key in scores:
                done = scores[lesson.key]
                first, practice = progress.summary(done)
                score.progress(done["first_try"] / done["total"], text=first)
                if practice:
                    score.caption(practice)
            elif checkpoints.has_checkpoints(lesson.key):
                score.caption("checkpoint not tried")


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

    left, right = st.columns([1, 2])
    left.markdown(home.markdown_table([{"library": k, "version": v} for k, v in report["versions"].items()]))
    right.markdown(home.markdown_table(home.models_rows(report["bundled_models"])))
    missing = [m["model"] for m in report["bundled_models"] if not m["installed"]]
    if missing:
        right.info(f"Not installed here: {', '.join(missing)}. Those with a Hub fallback are downloaded from the "
                   "HuggingFace Hub when a lesson needs them; `make setup` installs them all for offline use.")
