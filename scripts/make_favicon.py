"""Write assets/favicon.png, the browser-tab icon: a white magnifying glass on a
rounded tile in the theme's primary blue (.streamlit/config.toml).

A bundled image instead of a `:material/...` page icon, which the browser would
fetch as a font from a CDN. Run once:  .venv/bin/python scripts/make_favicon.py
"""
from pathlib import Path

from PIL import Image, ImageDraw

TARGET = Path(__file__).resolve().parent.parent / "assets" / "favicon.png"
SIZE = 64
SUPERSAMPLE = 4  # drawn at 256 px and scaled down, for smooth edges
PRIMARY_BLUE = "#3b6fb6"
WHITE = "#ffffff"


def draw_icon(side: int) -> Image.Image:
    unit = side / 16
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, side - 1, side - 1), radius=3 * unit, fill=PRIMARY_BLUE)
    draw.ellipse((3 * unit, 3 * unit, 10.5 * unit, 10.5 * unit), outline=WHITE, width=round(1.6 * unit))
    draw.line((9.5 * unit, 9.5 * unit, 13 * unit, 13 * unit), fill=WHITE, width=round(2.2 * unit))
    return image


def main() -> None:
    icon = draw_icon(SIZE * SUPERSAMPLE).resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    icon.save(TARGET, optimize=True)
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
