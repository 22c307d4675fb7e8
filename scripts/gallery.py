"""The README's gallery: the first screen (1400×1000) of several lessons, screenshotted from the
running app into docs/gallery/<lesson>.png.

    .venv/bin/python scripts/gallery.py              # the gallery lessons
    .venv/bin/python scripts/gallery.py --all --out test-artifacts/first-screens   # every lesson
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib import course  # noqa: E402
from scripts import screens  # noqa: E402

GALLERY = course.ROOT / "docs" / "gallery"
LESSONS = ["neural_networks", "cnn", "attention", "tokenizers", "parameters", "embeddings", "pipelines", "tiny_gpt"]
WIDTH, HEIGHT = 1400, 1000
SHOWN_WIDTH = 1000  # the PNGs are shrunk to this width to keep the repository small


def first_screens(keys: list[str], out: Path, shrink: int | None) -> None:
    with screens.serve() as url, screens.chromium() as browser:
        tab = screens.open_app(browser, url, WIDTH, HEIGHT)
        for key in screens.tour_order(keys):
            try:
                seconds, figure = screens.go_to(tab, course.lesson(key))
                found = (f"first figure after {seconds:.2f} s ({figure['kind']} {figure['width']:.0f}×"
                         f"{figure['visible']:.0f} px visible)")
            except screens.FigureMissing as missing:
                found = str(missing)
            screens.settle(tab)
            path = screens.save(tab, out / f"{key}.png", shrink)
            print(f"{key}: {found} → {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="every available lesson, not just the gallery's")
    parser.add_argument("--out", type=Path, default=GALLERY)
    args = parser.parse_args()
    keys = [l.key for l in course.available_lessons()] if args.all else LESSONS
    first_screens(keys, args.out.resolve(), None if args.all else SHOWN_WIDTH)


if __name__ == "__main__":
    main()
