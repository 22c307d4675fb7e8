import pandas as pd
import streamlit as st

from lib import course, system, ui

st.title("Glassbox: see inside deep-learning models")
ui.lesson_text("home", "intro")

st.header("Course map")
for section in course.SECTIONS[1:]:
    lessons = [l for l in course.LESSONS if l.section == section]
    st.subheader(section)
    for lesson in lessons:
        if lesson.available:
            st.page_link(lesson.page, label=f"**{lesson.title}** — {lesson.summary}", icon=lesson.icon)
        else:
            st.markdown(f":gray[{lesson.title} — {lesson.summary} *(in preparation)*]")


@st.cache_data(ttl=300, show_spinner="Checking this machine…")
def cached_report() -> dict:
    return system.system_report()


st.header("This machine", anchor="system-panel")
report = cached_report()
device = report["device"]
cols = st.columns(4)
cols[0].metric("Device", device["device"].upper())
cols[1].metric("CPU threads", device["cpu_threads"])
cols[2].metric("GPU", device.get("gpu_name", "none"),
               f"{device['gpu_memory_gb']} GB, sm {device['compute_capability']}" if device["cuda"] else None)
cols[3].metric("HuggingFace Hub", "reachable" if report["hub_reachable"] else "offline")
st.caption("Apple MPS: " + ("available" if device["mps"] else "not available")
           + " · CUDA: " + ("available" if device["cuda"] else "not available"))

left, right = st.columns([1, 2])
left.table(pd.DataFrame(report["versions"].items(), columns=["library", "version"]).set_index("library"))
models_table = pd.DataFrame(report["bundled_models"])
models_table["installed"] = models_table["installed"].map({True: "✅ available", False: "❌ missing"})
right.table(models_table.set_index("model"))
if not all(m["installed"] for m in report["bundled_models"]):
    right.warning("Some bundled models are missing: run `make setup` to install them.")
