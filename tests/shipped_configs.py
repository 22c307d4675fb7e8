"""Model sizes for the tests, from sources independent of the code under test: the shipped
config files (assets/configs/<name>.json) read as plain JSON, and transformers' own parameter
count of the model built from them. Lesson code reads the same files through lib.parameters,
so a test that compares against these can still fail."""
import json
from functools import lru_cache
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent.parent / "assets" / "configs"


def config(name: str) -> dict:
    """assets/configs/<name>.json as it is on disk."""
    return json.loads((CONFIG_DIR / f"{name}.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def transformers_total(name: str, model_class: str) -> int:
    """transformers' num_parameters() (tied weights once) of `model_class` built on the meta
    device from assets/configs/<name>.json: no weights, no download."""
    import torch
    import transformers

    cls = getattr(transformers, model_class)
    built = cls.config_class.from_json_file(str(CONFIG_DIR / f"{name}.json"))
    with torch.device("meta"):
        return cls(built).num_parameters()
