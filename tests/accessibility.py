"""Accessibility checks shared by the page tests: charts say what they show."""
import json

AXIS_FREE = {"pie", "treemap", "sunburst", "sankey", "table", "indicator", "parcats", "icicle"}
RED_GREEN_ONLY = {"RdYlGn", "RdGn", "PiYG", "PRGn"}  # unreadable for red-green colour-blind students


def _title(part) -> str:
    if isinstance(part, dict):
        part = part.get("text", "")
    return (part or "").strip()


def chart_problems(at) -> list[str]:
    """One line per chart on the page that lacks a title, an axis title, or uses a red-green scale."""
    problems = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        layout, name = spec.get("layout", {}), chart.proto.id or "a chart"
        if not _title(layout.get("title")):
            problems.append(f"{name}: no title")
        if not {t.get("type", "scatter") for t in spec["data"]} <= AXIS_FREE:
            for axis in (k for k in layout if k[:5] in ("xaxis", "yaxis") and layout[k].get("visible", True)):
                if not _title(layout[axis].get("title")):
                    problems.append(f"{name}: {axis} has no title")
            if not any(k.startswith(("xaxis", "yaxis")) for k in layout):
                problems.append(f"{name}: no axis titles")
        scales = [t.get("colorscale") for t in spec["data"]] + [layout.get("coloraxis", {}).get("colorscale")]
        if any(isinstance(s, str) and s in RED_GREEN_ONLY for s in scales):
            problems.append(f"{name}: red-green colour scale")
    return problems


def widget_label_problems(at) -> list[str]:
    """Widgets whose label is empty (screen readers announce nothing)."""
    kinds = ("button", "checkbox", "color_picker", "date_input", "multiselect", "number_input", "radio",
             "select_slider", "selectbox", "slider", "text_area", "text_input", "time_input", "toggle")
    return [f"{kind} {w.key or ''}: empty label" for kind in kinds for w in at.get(kind)
            if not (getattr(w, "label", "") or "").strip()]
