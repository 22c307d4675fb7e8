"""Plotly JSON arrays as numpy: Plotly 6 ships numpy data as typed binary."""
import base64

import numpy as np


def array(value) -> np.ndarray:
    """A Plotly JSON array: a plain list, or numpy's bytes as {"dtype", "bdata", "shape"}."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.array(value, dtype=float)


def chart_title(figure: dict) -> str:
    """A Plotly figure's title as it reads: the line breaks charts.wrapped() puts in are spaces."""
    return figure["layout"]["title"]["text"].replace("<br>", " ")
