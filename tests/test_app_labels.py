"""The app's own words draw on any machine: no emoji in lesson code, prose or the course map (a
machine without an emoji font shows empty boxes; icons come from Streamlit's Material set), while
sample text a student tokenizes may hold emoji. And every picture the README names exists."""
import ast
import re

import pytest

from lib import course

ROOT = course.ROOT
# Text a student could have typed, kept as the lesson's subject: tokenizing emoji is part of it.
SAMPLE_TEXT_NAMES = {"PRESETS", "DEFAULT_TEXT"}
EMOJI_RANGES = [(0x1F000, 0x1FAFF), (0x2600, 0x26FF), (0xFE0F, 0xFE0F), (0x2705, 0x2705), (0x270A, 0x270B),
                (0x2728, 0x2728), (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2757), (0x2795, 0x2797),
                (0x27B0, 0x27B0), (0x27BF, 0x27BF), (0x2B50, 0x2B55)]


def emoji_in(text: str) -> list[str]:
    return [ch for ch in text if any(low <= ord(ch) <= high for low, high in EMOJI_RANGES)]


def app_strings(path) -> list[tuple[int, str]]:
    """Every string literal of a Python file, less the sample texts assigned to SAMPLE_TEXT_NAMES."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(node) for assign in ast.walk(tree) if isinstance(assign, (ast.Assign, ast.AnnAssign))
               and any(isinstance(t, ast.Name) and t.id in SAMPLE_TEXT_NAMES
                       for t in (assign.targets if isinstance(assign, ast.Assign) else [assign.target]))
               for node in ast.walk(assign)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped]


def test_emoji_ranges_catch_the_ones_that_showed_as_boxes():
    assert emoji_in("✅ available ❌ missing 🔗 Copy link 🤖") == ["✅", "❌", "🔗", "🤖"]
    assert emoji_in("Q·K softmax → 0.96, naïve café, 猫, ▁, ⏎, ✓, ×, ±") == []


@pytest.mark.parametrize("path", sorted([ROOT / "streamlit_app.py", ROOT / "lib" / "course.py",
                                         *(ROOT / "lessons").rglob("*.py")]), ids=lambda p: p.name)
def test_no_emoji_in_the_apps_own_labels(path):
    found = [(line, text[:60]) for line, text in app_strings(path) if emoji_in(text)]
    assert found == [], f"{path.relative_to(ROOT)}: use a :material/…: icon or plain words"


def test_no_emoji_in_lesson_prose():
    found = [str(p.relative_to(ROOT)) for p in (ROOT / "assets" / "lessons").rglob("*.md")
             if emoji_in(p.read_text(encoding="utf-8"))]
    assert found == []


def test_every_image_the_readme_shows_exists():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", readme) + re.findall(r"<img [^>]*src=\"([^\"]+)\"", readme)
    assert images, "the README shows the gallery (scripts/gallery.py makes it)"
    assert [i for i in images if not (ROOT / i).is_file()] == []
