"""The architecture guard: where Streamlit may live, no import cycles in lib/,
and every lesson's files named by its key (README "Architecture")."""
import ast
import re
from pathlib import Path

import pytest

from lib import course

ROOT = course.ROOT
KEYS = [lesson.key for lesson in course.LESSONS]
# A lesson whose lib module would shadow a library it imports (README "Architecture").
LIB_NAME = {"tokenizers": "tokenization"}
# Shared widget modules: every other module in lessons/widgets/ is one lesson's.
SHARED_WIDGETS = {"__init__", "common", "trained", "charts"}


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every absolute module an import statement in `path` names, at any depth
    (imports inside functions count: they run too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def lib_import_graph() -> dict[str, set[str]]:
    """lib module -> the lib modules it imports (a `from lib.a import b` names
    lib.a.b when that is a module, else lib.a)."""
    modules = {module_name(p): p for p in python_files("lib")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in imported_modules(path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported not in (name, "lib"):
                targets.add(imported)
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_lib_imports_no_streamlit():
    offenders = [str(p.relative_to(ROOT)) for p in python_files("lib")
                 if any(m == "streamlit" or m.startswith("streamlit.") for m in imported_modules(p))]
    assert offenders == []


def test_lib_has_no_import_cycle():
    assert find_cycle(lib_import_graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_streamlit_lives_only_in_the_entry_script_and_lessons():
    """Scripts, benchmarks and tests may drive the app from outside (streamlit.testing,
    or the browser's wire protocol, streamlit.proto); nothing outside lessons/ and
    streamlit_app.py imports Streamlit itself."""
    outside = [p for folder in ("lib", "scripts", "benchmarks") for p in python_files(folder)]

    def uses_streamlit(path: Path) -> bool:
        return any(m.split(".")[0] == "streamlit" and not m.startswith(("streamlit.testing", "streamlit.proto"))
                   for m in imported_modules(path))

    assert [str(p.relative_to(ROOT)) for p in outside if uses_streamlit(p)] == []


def test_no_top_level_pages_folder():
    """A pages/ folder switches Streamlit to its old multipage mode, where deep
    links skip streamlit_app.py (README "Architecture")."""
    assert not (ROOT / "pages").exists()


@pytest.mark.parametrize("key", KEYS)
def test_every_lesson_has_its_files_named_by_its_key(key):
    lib_name = LIB_NAME.get(key, key)
    expected = [f"lessons/{key}.py", f"lessons/widgets/{key}.py", f"assets/lessons/{key}",
                f"tests/test_{key}.py", f"tests/test_page_{key}.py"]
    if key != "home":  # the home page has no checkpoint
        expected += [f"lib/checkpoints/{key}.py", f"tests/test_checkpoints_{key}.py"]
    missing = [path for path in expected if not (ROOT / path).exists()]
    if not ((ROOT / "lib" / f"{lib_name}.py").exists() or (ROOT / "lib" / lib_name / "__init__.py").exists()):
        missing.append(f"lib/{lib_name}.py or lib/{lib_name}/")
    assert missing == []


def test_every_page_and_widget_module_belongs_to_a_lesson():
    pages = {p.stem for p in (ROOT / "lessons").glob("*.py")} - {"__init__"}
    widgets = {p.stem for p in (ROOT / "lessons" / "widgets").glob("*.py")} - SHARED_WIDGETS
    assert pages == set(KEYS)
    assert widgets <= set(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_a_page_uses_its_own_widgets_and_the_shared_ones(key):
    """lessons/<key>.py imports lessons.widgets.<key> and shared widget modules,
    never another lesson's widgets (shared pieces move to a shared module)."""
    widget_imports = {m.split(".")[2] for m in imported_modules(ROOT / "lessons" / f"{key}.py")
                      if m.startswith("lessons.widgets.")}
    assert widget_imports <= SHARED_WIDGETS | {key}


def readme_tree() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Architecture", 1)[1]
    return section.split("```", 2)[1].strip("\n").splitlines()


def test_the_readme_tree_is_short_and_names_only_what_exists():
    """Every file or folder the README's tree names exists (`<key>` stands for
    every lesson key; the home page has no checkpoint, and a lesson's logic is
    a module or a package)."""
    lines = readme_tree()
    assert len(lines) <= 25
    named, folder = [], ""
    for line in lines:
        entry = line.strip().split("  ")[0]
        if not line.startswith(" "):
            folder = entry if entry.endswith("/") else ""
        for part in re.sub(r" \([^)]*\)", "", entry).replace(" or ", ", ").split(", "):
            path = part.rstrip(",")
            path = path if not line.startswith(" ") else folder + path
            named.append(path)
    missing = []
    for path in (p for p in named if "<part>" not in p):
        keys = [k for k in KEYS if not (k == "home" and "checkpoints" in path)] if "<key>" in path else [None]
        for key in keys:
            concrete = path.replace("<key>", key) if key else path
            if concrete.startswith(f"lib/{key}") and key:
                concrete = concrete.replace(key, LIB_NAME.get(key, key), 1)
                alternatives = [concrete, concrete.removesuffix(".py") + "/", concrete.removesuffix("/") + ".py"]
            else:
                alternatives = [concrete]
            if not any((ROOT / a).exists() for a in alternatives):
                missing.append(concrete)
    assert named and missing == []
