"""bertviz's head view, model view and neuron view as self-contained HTML that
draws with no internet. No Streamlit.

bertviz loads require.js, d3 and jQuery from a CDN. Here the three files come
from assets/vendor (assets/vendor/README.md): d3 and jQuery are inlined first as
plain globals, then require.js, then two named modules hand those globals to
bertviz's `requirejs(['jquery', 'd3'], …)`. bertviz's CDN <script> tag and the
`require.config` naming the CDN copies are taken out, so nothing is fetched.
bertviz's own view scripts are the ones in the installed bertviz package.

Tokens are user text: they reach the page only inside a JSON string in a
<script>, which `_escape_script_json` keeps from closing the script, and
bertviz draws them with d3's `.text()`, which never parses HTML.
"""
from __future__ import annotations

import json
import re
import uuid
from functools import cache
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
VENDOR_DIR = ROOT / "assets" / "vendor"
VENDORED_JS = {"d3": "d3/d3.min.js", "jquery": "jquery/jquery.min.js", "require": "requirejs/require.js"}
BERTVIZ_CDN_REQUIRE = '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js"></script>'
BERTVIZ_CDN_PATHS = re.compile(r"require\.config\(\{\s*paths:\s*\{[^{}]*\}\s*\}\);")
# Characters that could end a <script> or open an HTML comment inside it. bertviz
# writes its parameters with json.dumps (ensure_ascii), which prints these
# private-use stand-ins as \ue00N escapes, turned back into \u003c… below.
_STAND_INS = {"<": "\ue000", ">": "\ue001", "&": "\ue002"}
_ESCAPES = {r"\ue000": r"\u003c", r"\ue001": r"\u003e", r"\ue002": r"\u0026"}
BERTVIZ_TOKEN_LIMIT = 64  # the views draw every pair of tokens; beyond this they crawl
NEURON_VIEW_WIDTH = 1010  # px: words, q, k, q × k, q · k, softmax side by side (neuron_view.js's sizes)
HEAD_VIEW_WIDTH = 380  # px: two columns of words and the arcs between them (head_view.js's sizes)
HEAD_VIEW_ROW, HEAD_VIEW_TOP = 22.5, 110  # px: one token's row, the layer picker and head colours above
MAX_ZOOM, MAX_HEIGHT = 2.0, 760  # px: zoomed, the view stays within about one screen


def fill_width(num_tokens: int) -> str:
    """The head view draws at a fixed size, a narrow strip in a wide frame: a script that zooms it
    to the frame's width, as far as its height (which grows with the tokens) stays on one screen."""
    fits = MAX_HEIGHT / (HEAD_VIEW_TOP + HEAD_VIEW_ROW * num_tokens)
    cap = max(1.0, min(MAX_ZOOM, fits))
    return f"<script>document.body.style.zoom = Math.min({cap:.2f}, Math.max(1, window.innerWidth / {HEAD_VIEW_WIDTH}));</script>"


@cache
def vendored_sources() -> dict[str, str]:
    """The text of each library in assets/vendor, by module name."""
    return {name: (VENDOR_DIR / rel).read_text(encoding="utf-8") for name, rel in VENDORED_JS.items()}


def _vendored_scripts() -> str:
    source = vendored_sources()
    tags = "".join(f"<script>{source[name]}</script>\n" for name in ("d3", "jquery", "require"))
    bridge = ("<script>define('d3', [], function () { return window.d3; });\n"
              "define('jquery', [], function () { return window.jQuery; });</script>\n")
    return tags + bridge


def _without_cdn(html: str) -> str:
    """bertviz's page less its require.js tag and the require.config naming CDN paths."""
    return BERTVIZ_CDN_PATHS.sub("", html.replace(BERTVIZ_CDN_REQUIRE, ""))


def _safe_tokens(tokens: list[str]) -> list[str]:
    for char, stand_in in _STAND_INS.items():
        tokens = [t.replace(char, stand_in) for t in tokens]
    return tokens


def _escape_script_json(html: str) -> str:
    for stand_in, escape in _ESCAPES.items():
        html = html.replace(stand_in, escape)
    return html


def _as_layers(attentions: np.ndarray) -> list[torch.Tensor]:
    """(layers, heads, seq, seq) → bertviz's list of (1, heads, seq, seq), 3 decimals."""
    rounded = np.round(attentions.astype(np.float64), 3)  # float64: 0.123 stays 0.123 in the JSON
    return [torch.from_numpy(layer).unsqueeze(0) for layer in rounded]


def neuron_view_html(attentions: np.ndarray, labels: list[str], queries: np.ndarray, keys: np.ndarray,
                     bidirectional: bool = True, layer: int = 0, head: int = 0) -> str:
    """bertviz's neuron view of (layers, heads, seq, seq) attentions and the
    (layers, heads, seq, head_dim) queries and keys behind them. bertviz's own
    `neuron_view.show` runs its bundled copies of BERT and GPT-2 from the Hub;
    this feeds its JavaScript the vectors of the model the page already runs."""
    from bertviz import neuron_view

    if queries.shape[:3] != attentions.shape[:3] or keys.shape != queries.shape:
        raise ValueError(f"queries {queries.shape} and keys {keys.shape} do not match attentions {attentions.shape}")
    root = f"bertviz-{uuid.uuid4().hex}"
    rounded = {name: np.round(a.astype(np.float64), 3).tolist()
               for name, a in (("attn", attentions), ("queries", queries), ("keys", keys))}
    params = {"attention": {"all": {**rounded, "left_text": labels, "right_text": labels}},
              "default_filter": "all", "root_div_id": root, "bidirectional": bidirectional,
              "display_mode": "light", "layer": layer, "head": head}
    script = (Path(neuron_view.__file__).parent / "neuron_view.js").read_text(encoding="utf-8")
    return (f"<style>#{root} svg {{min-width:{NEURON_VIEW_WIDTH}px}}</style>"  # else cut at 100%
            f"<div id={root} style=\"padding:8px;font-family:Helvetica, Arial, sans-serif\">"
            "<span style='user-select:none'>Layer: <select id='layer'></select> Head: <select id='att_head'>"
            "</select></span><div id='vis' style='overflow-x:auto'></div></div>\n"
            f"<script>window.bertviz_params = {json.dumps(params)}\n</script>\n<script>{script}</script>")


def render(view: str, attentions: np.ndarray, tokens: list[str], **neuron) -> str:
    """A full HTML page with bertviz's `view` ("head", "model" or "neuron") of
    (layers, heads, seq, seq) attentions, its JavaScript from assets/vendor. The
    neuron view also takes `queries` and `keys` (see neuron_view_html)."""
    from bertviz import head_view, model_view

    if attentions.shape[-1] != len(tokens):
        raise ValueError(f"{attentions.shape[-1]} attention positions for {len(tokens)} tokens")
    layers, labels = _as_layers(attentions), _safe_tokens(tokens)
    if view == "head":
        html = head_view(layers, labels, html_action="return").data + fill_width(len(tokens))
    elif view == "model":
        html = model_view(layers, labels, display_mode="light", html_action="return").data
    else:
        html = neuron_view_html(attentions, labels, **neuron)
    html = _escape_script_json(_without_cdn(html))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'></head>"
            f"<body style='background:white'>{_vendored_scripts()}{html}</body></html>")
