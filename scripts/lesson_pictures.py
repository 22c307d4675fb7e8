"""The home page's lesson pictures: each lesson's first-screen figure, screenshotted from the
running app (1400×1000) and shrunk into assets/pictures/<lesson>.png. Run it again after a
lesson's first screen changes, or to add the picture of a new lesson:

    .venv/bin/python scripts/lesson_pictures.py             # every lesson
    .venv/bin/python scripts/lesson_pictures.py rnn cnn     # just these
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib import course, home  # noqa: E402
from scripts import screens  # noqa: E402

WIDTH = 480  # a card is about a third of the page wide
ASPECT = 0.62  # height ÷ width: every card's picture the same shape, so a row of cards lines up


def fill_card(path: Path) -> None:
    """The picture on a white card of the common shape, centred (a short figure gets margins)."""
    from PIL import Image

    with Image.open(path) as picture:
        picture = picture.convert("RGB")
    card = Image.new("RGB", (WIDTH, round(WIDTH * ASPECT)), "white")
    card.paste(picture, (0, (card.height - picture.height) // 2))
    card.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main(keys: list[str]) -> None:
    lessons = [course.lesson(k) for k in keys] if keys else [l for l in course.available_lessons() if l.key != "home"]
    with screens.serve() as url, screens.chromium() as browser:
        tab = screens.open_app(browser, url, 1400, 1000)
        for lesson in screens.tour_order(lessons):
            try:
                screens.go_to(tab, lesson)
            except screens.FigureMissing as missing:
                print(f"{missing}: no picture")
                continue
            screens.settle(tab)
            box = screens.figure_box(tab)
            height = min(box["visible"], box["width"] * ASPECT)
            clip = {"x": box["left"], "y": max(box["top"], 0), "width": box["width"], "height": height}
            path = home.PICTURES / f"{lesson.key}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(path), clip=clip)
            screens.shrink(path, WIDTH)
            fill_card(path)
            print(f"{lesson.key}: {path.relative_to(course.ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
