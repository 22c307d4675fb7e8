"""Where a Transformer's parameters are.

Exact counts come from building the model on PyTorch's meta device: every
weight gets a shape but no storage, so even GPT-3 "exists" in a fraction of a
second and no bytes are downloaded or allocated. Each tensor is then assigned to
a group (token embeddings, attention, feed-forward, layer norms, pooler, LM
head…). Next to each group sits the formula that predicts it from the config's
hyper-parameters; the tests check formula == exact for every shipped config.

Also: the memory those parameters need at each precision and for Adam training,
and whether that fits on common GPUs. Importable without Streamlit.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache

import pandas as pd

from lib import device_policy, hub, model_registry
from lib.model_registry import CONFIG_DIR

MAX_PARAMETERS = 10**13  # ten trillion: beyond any published dense model
MAX_META_PARAMETERS = 2 * 10**12  # above this only the formula is evaluated (building takes too long)


class InvalidConfig(ValueError):
    """A config that cannot describe a Transformer; the message is for the student."""


# --- the models whose configs ship with Glassbox ----------------------------------

@dataclass(frozen=True)
class Known:
    key: str  # assets/configs/<key>.json
    title: str
    year: int
    model_class: str  # the transformers class counted (BertModel: no masked-LM head)
    published: float  # the rounded figure papers and the course quote
    family: str
    hub_id: str  # where the published config.json lives


KNOWN = [
    Known("bert-base-uncased", "BERT-Base", 2018, "BertModel", 110e6, "BERT", "google-bert/bert-base-uncased"),
    Known("bert-large-uncased", "BERT-Large", 2018, "BertModel", 340e6, "BERT", "google-bert/bert-large-uncased"),
    Known("distilbert-base-uncased", "DistilBERT", 2019, "DistilBertModel", 66e6, "BERT",
          "distilbert/distilbert-base-uncased"),
    Known("roberta-base", "RoBERTa-base", 2019, "RobertaModel", 125e6, "BERT", "FacebookAI/roberta-base"),
    Known("roberta-large", "RoBERTa-large", 2019, "RobertaModel", 355e6, "BERT", "FacebookAI/roberta-large"),
    Known("albert-base-v2", "ALBERT-base", 2019, "AlbertModel", 12e6, "BERT", "albert/albert-base-v2"),
    Known("albert-xxlarge-v2", "ALBERT-xxlarge", 2019, "AlbertModel", 235e6, "BERT", "albert/albert-xxlarge-v2"),
    Known("all-MiniLM-L6-v2", "MiniLM-L6 (all-MiniLM-L6-v2)", 2021, "BertModel", 22.7e6, "BERT",
          "sentence-transformers/all-MiniLM-L6-v2"),
    Known("gpt2", "GPT-2 small", 2019, "GPT2LMHeadModel", 124.4e6, "GPT", "openai-community/gpt2"),
    Known("gpt2-medium", "GPT-2 medium", 2019, "GPT2LMHeadModel", 355e6, "GPT", "openai-community/gpt2-medium"),
    Known("gpt2-large", "GPT-2 large", 2019, "GPT2LMHeadModel", 774e6, "GPT", "openai-community/gpt2-large"),
    Known("gpt2-xl", "GPT-2 XL", 2019, "GPT2LMHeadModel", 1.5e9, "GPT", "openai-community/gpt2-xl"),
    Known("t5-small", "T5-small", 2019, "T5ForConditionalGeneration", 60e6, "T5", "google-t5/t5-small"),
    Known("t5-base", "T5-base", 2019, "T5ForConditionalGeneration", 220e6, "T5", "google-t5/t5-base"),
    Known("llama-7b", "LLaMA 7B", 2023, "LlamaForCausalLM", 7e9, "Llama", "huggyllama/llama-7b"),
    Known("llama-13b", "LLaMA 13B", 2023, "LlamaForCausalLM", 13e9, "Llama", "huggyllama/llama-13b"),
    Known("llama-30b", "LLaMA 30B", 2023, "LlamaForCausalLM", 30e9, "Llama", "huggyllama/llama-30b"),
    Known("llama-65b", "LLaMA 65B", 2023, "LlamaForCausalLM", 65e9, "Llama", "huggyllama/llama-65b"),
    Known("SmolLM2-135M", "SmolLM2-135M", 2024, "LlamaForCausalLM", 135e6, "Llama", "HuggingFaceTB/SmolLM2-135M"),
]
KNOWN_BY_KEY = {k.key: k for k in KNOWN}


def shipped_config(key: str) -> dict:
    return json.loads((CONFIG_DIR / f"{key}.json").read_text(encoding="utf-8"))


def hub_config(hub_id: str) -> dict:
    """config.json of any Hub model (only that small file is downloaded)."""
    return hub.fetch_hub_config(hub_id)


# --- the formulas -------------------------------------------------------------

@dataclass(frozen=True)
class Architecture:
    """The hyper-parameters the formulas need, with HF config names."""
    kind: str  # encoder | decoder | encoder-decoder
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int = 0  # learned positions; 0 = sinusoidal, rotary or relative
    type_vocab_size: int = 0  # BERT's segment embeddings
    num_decoder_layers: int = 0  # encoder-decoder only
    num_key_value_heads: int | None = None  # grouped-query attention (Llama)
    head_dim: int | None = None
    embedding_size: int | None = None  # ALBERT's factorised embeddings
    bias: bool = True
    norm: str = "layernorm"  # layernorm (weight + bias) | rmsnorm (weight only)
    gated_ffn: bool = False  # SwiGLU: gate, up and down projections
    embedding_norm: bool = False
    final_norm: bool = False
    pooler: bool = False
    lm_head: bool = False
    tie_word_embeddings: bool = True
    shared_layers: bool = False  # ALBERT: one layer reused at every depth
    relative_attention_buckets: int = 0  # T5

    @property
    def kv_heads(self) -> int:
        return self.num_key_value_heads or self.num_attention_heads

    @property
    def d_head(self) -> int:
        return self.head_dim or self.hidden_size // self.num_attention_heads

    @property
    def embed(self) -> int:
        return self.embedding_size or self.hidden_size


@dataclass(frozen=True)
class Term:
    group: str
    formula: str  # symbolic
    value: int


GROUPS = ["token embeddings", "position embeddings", "segment embeddings", "embedding norm",
          "embedding projection", "attention", "cross-attention", "relative position bias",
          "feed-forward", "layer norms", "final norm", "pooler", "LM head", "other"]
EMBEDDING_GROUPS = GROUPS[:5]


def validate(arch: Architecture) -> None:
    """Raise InvalidConfig with a message a student can act on."""
    sizes = {"vocabulary size": arch.vocab_size, "hidden size": arch.hidden_size,
             "number of heads": arch.num_attention_heads, "feed-forward size": arch.intermediate_size}
    for label, value in sizes.items():
        if value < 1:
            raise InvalidConfig(f"The {label} must be at least 1 (got {value}).")
    if arch.num_hidden_layers < 1 or (arch.kind == "encoder-decoder" and arch.num_decoder_layers < 1):
        raise InvalidConfig("A Transformer needs at least one layer: with zero layers it is only an "
                            "embedding table, and nothing attends to anything.")
    if arch.head_dim is None and arch.hidden_size % arch.num_attention_heads:
        raise InvalidConfig(
            f"{arch.num_attention_heads} heads do not divide the hidden size {arch.hidden_size}: each "
            f"head gets hidden_size / heads = {arch.hidden_size / arch.num_attention_heads:.2f} "
            "dimensions, which must be a whole number.")
    if arch.num_attention_heads % arch.kv_heads:
        raise InvalidConfig(f"{arch.kv_heads} key/value heads must divide the "
                            f"{arch.num_attention_heads} query heads.")
    total = sum(t.value for t in formula_terms(arch))
    if total > MAX_PARAMETERS:
        raise InvalidConfig(
            f"That is {total:.2e} parameters: {total * 2 / 1e12:,.0f} TB just to store them in bf16. "
            f"Glassbox stops at {MAX_PARAMETERS:.0e} (ten trillion); GPT-3 has 1.75e11.")


def _attention(arch: Architecture, kv_heads: int) -> tuple[str, int]:
    H, d, A = arch.hidden_size, arch.d_head, arch.num_attention_heads
    if A * d == H and kv_heads == A:
        formula, weights, biases = "4·H²", 4 * H * H, 3 * H + H
        bias_formula = "4·H"
    else:  # Q and output projections are H×(A·d); K and V are H×(KV·d)
        formula, weights = "2·H·(A·d) + 2·H·(KV·d)", 2 * H * A * d + 2 * H * kv_heads * d
        biases, bias_formula = A * d + 2 * kv_heads * d + H, "A·d + 2·KV·d + H"
    if not arch.bias:
        return formula, weights
    return f"{formula} + {bias_formula}", weights + biases


def _feed_forward(arch: Architecture) -> tuple[str, int]:
    H, F = arch.hidden_size, arch.intermediate_size
    if arch.gated_ffn:
        return ("3·H·F + 2·F + H", 3 * H * F + 2 * F + H) if arch.bias else ("3·H·F", 3 * H * F)
    return ("2·H·F + F + H", 2 * H * F + F + H) if arch.bias else ("2·H·F", 2 * H * F)


def formula_terms(arch: Architecture) -> list[Term]:
    """One term per group: the symbolic formula and its value. Symbols: V vocab,
    H hidden, E embedding size, P positions, T segments, L layers, A heads,
    d head size, KV key/value heads, F feed-forward size."""
    V, H, E = arch.vocab_size, arch.hidden_size, arch.embed
    norm_size, norm_formula = (2 * H, "2·H") if arch.norm == "layernorm" else (H, "H")
    encoder_layers = 1 if arch.shared_layers else arch.num_hidden_layers
    decoder_layers = arch.num_decoder_layers if arch.kind == "encoder-decoder" else 0
    layers = encoder_layers + decoder_layers
    L = "(L_enc + L_dec)" if decoder_layers else ("1 shared layer" if arch.shared_layers else "L")
    stacks = 2 if decoder_layers else 1
    e = "E" if arch.embedding_size else "H"
    terms = [Term("token embeddings", f"V·{e}", V * E)]
    if arch.max_position_embeddings:
        terms.append(Term("position embeddings", f"P·{e}", arch.max_position_embeddings * E))
    if arch.type_vocab_size:
        terms.append(Term("segment embeddings", f"T·{e}", arch.type_vocab_size * E))
    if arch.embedding_norm:
        terms.append(Term("embedding norm", f"2·{e}", 2 * E))
    if arch.embedding_size:
        terms.append(Term("embedding projection", "E·H + H", E * H + H))
    formula, value = _attention(arch, arch.kv_heads)
    terms.append(Term("attention", f"{L} × ({formula})", layers * value))
    if decoder_layers:
        formula, value = _attention(arch, arch.num_attention_heads)
        terms.append(Term("cross-attention", f"L_dec × ({formula})", decoder_layers * value))
    if arch.relative_attention_buckets:
        terms.append(Term("relative position bias", f"{stacks} × buckets·A",
                          stacks * arch.relative_attention_buckets * arch.num_attention_heads))
    formula, value = _feed_forward(arch)
    terms.append(Term("feed-forward", f"{L} × ({formula})", layers * value))
    norms = 2 * encoder_layers + 3 * decoder_layers
    norms_formula = "(2·L_enc + 3·L_dec)" if decoder_layers else f"2 × {L}" if arch.shared_layers else "2·L"
    terms.append(Term("layer norms", f"{norms_formula} × {norm_formula}", norms * norm_size))
    if arch.final_norm:
        terms.append(Term("final norm", f"{stacks} × {norm_formula}" if stacks > 1 else norm_formula,
                          stacks * norm_size))
    if arch.pooler:
        terms.append(Term("pooler", "H² + H", H * H + H))
    if arch.lm_head:
        terms.append(Term("LM head", "0 (tied to V·H)", 0)
                     if arch.tie_word_embeddings else Term("LM head", "V·H", V * H))
    return terms


def formula_total(arch: Architecture) -> int:
    return sum(t.value for t in formula_terms(arch))


def architecture_of(config, model_class: str = "") -> Architecture | None:
    """The formula view of a transformers config, for the families the lesson
    covers; None for others (their exact count still works)."""
    c, family = config, config.model_type
    common = dict(vocab_size=c.vocab_size, hidden_size=c.hidden_size, num_hidden_layers=c.num_hidden_layers,
                  num_attention_heads=c.num_attention_heads)
    has_head = "LMHead" in model_class or "CausalLM" in model_class or "Generation" in model_class
    if family in ("bert", "roberta", "albert"):
        return Architecture("encoder", **common, intermediate_size=c.intermediate_size,
                            max_position_embeddings=c.max_position_embeddings, type_vocab_size=c.type_vocab_size,
                            embedding_norm=True, pooler=model_class.endswith("Model"),
                            embedding_size=c.embedding_size if family == "albert" else None,
                            shared_layers=family == "albert" and c.num_hidden_groups == 1)
    if family == "distilbert":
        return Architecture("encoder", **common, intermediate_size=c.hidden_dim,
                            max_position_embeddings=c.max_position_embeddings, embedding_norm=True)
    if family == "gpt2":
        return Architecture("decoder", **common, intermediate_size=c.n_inner or 4 * c.hidden_size,
                            max_position_embeddings=c.n_positions, final_norm=True, lm_head=has_head,
                            tie_word_embeddings=c.tie_word_embeddings)
    if family == "llama":
        return Architecture("decoder", **common, intermediate_size=c.intermediate_size,
                            num_key_value_heads=c.num_key_value_heads, head_dim=c.head_dim,
                            bias=c.attention_bias, norm="rmsnorm", gated_ffn=True, final_norm=True,
                            lm_head=has_head, tie_word_embeddings=c.tie_word_embeddings)
    if family == "t5":
        return Architecture("encoder-decoder", **common, intermediate_size=c.d_ff,
                            num_decoder_layers=c.num_decoder_layers, head_dim=c.d_kv, bias=False,
                            norm="rmsnorm", gated_ffn=c.is_gated_act, final_norm=True, lm_head=has_head,
                            tie_word_embeddings=c.tie_word_embeddings,
                            relative_attention_buckets=c.relative_attention_num_buckets)
    return None


# --- exact counts on the meta device ------------------------------------------------

def group_of(name: str) -> str:
    """Which group a parameter tensor belongs to, from its name in the model."""
    n = name.lower()
    rules = [("pooler", "pooler"), (r"lm_head|cls\.predictions|vocab_(projector|transform|layer_norm)", "LM head"),
             ("embedding_hidden_mapping_in", "embedding projection"),
             (r"word_embeddings|wte|embed_tokens|^shared\.", "token embeddings"),
             (r"position_embeddings|wpe|embed_positions", "position embeddings"),
             ("token_type_embeddings", "segment embeddings"), (r"embeddings\.layernorm", "embedding norm"),
             ("relative_attention_bias", "relative position bias")]
    for pattern, group in rules:
        if re.search(pattern, n):
            return group
    is_norm = re.search(r"norm|ln_", n)
    if not re.search(r"\.\d+\.", n):  # outside the stack of layers
        return "final norm" if is_norm else "other"
    if is_norm:
        return "layer norms"
    if re.search(r"crossattention|encdecattention|encoder_attn", n):
        return "cross-attention"
    return "attention" if re.search(r"attn|attention", n) else "feed-forward"


def block_of(name: str, group: str, encoder_decoder: bool) -> str:
    if group in EMBEDDING_GROUPS:
        return "embeddings"
    if group in ("final norm", "pooler", "LM head", "other"):
        return group
    if encoder_decoder:
        return "decoder layers" if "decoder" in name else "encoder layers"
    return "layers"


@dataclass
class Breakdown:
    """Every parameter tensor of a model, grouped; tied tensors counted once."""
    title: str
    model_class: str
    tensors: pd.DataFrame  # name, shape, parameters, group, block
    tied: dict[str, str] = field(default_factory=dict)  # duplicate name -> the name kept
    naive_total: int = 0  # what a count that ignores tying reports
    seconds: float = 0.0
    architecture: Architecture | None = None
    path: str = "meta device"

    @property
    def total(self) -> int:
        return int(self.tensors["parameters"].sum())

    def by_group(self) -> pd.Series:
        sums = self.tensors.groupby("group", sort=False)["parameters"].sum()
        return sums.reindex([g for g in GROUPS if g in sums.index]).astype("int64")

    def table(self) -> pd.DataFrame:
        """Per group: exact count, the formula and its value (when the family is known)."""
        exact = self.by_group()
        terms = {t.group: t for t in formula_terms(self.architecture)} if self.architecture else {}
        rows = [{"group": g, "exact": int(exact.get(g, 0)), "formula": terms[g].formula if g in terms else "",
                 "formula value": terms[g].value if g in terms else None}
                for g in GROUPS if g in exact.index or g in terms]
        table = pd.DataFrame(rows)
        table["share"] = table["exact"] / max(self.total, 1)
        return table


def resolve_config(config_or_name) -> tuple:
    """(transformers config, title, model class) from a key, a Hub id, a dict or a config."""
    from transformers import AutoConfig, PretrainedConfig

    if isinstance(config_or_name, PretrainedConfig):
        return config_or_name, config_or_name.model_type, _default_class(config_or_name.to_dict())
    if isinstance(config_or_name, str):
        known = KNOWN_BY_KEY.get(config_or_name)
        raw = shipped_config(known.key) if known else hub_config(config_or_name)
        title, model_class = (known.title, known.model_class) if known else (config_or_name, _default_class(raw))
    else:
        raw, title, model_class = dict(config_or_name), config_or_name.get("model_type", "config"), \
            _default_class(config_or_name)
    raw = {k: v for k, v in raw.items() if k not in ("architectures", "auto_map")}
    try:
        config = AutoConfig.for_model(**raw)
    except (ValueError, KeyError, TypeError) as err:
        raise InvalidConfig(f"This config cannot be read: {str(err)[:200]}") from err
    return config, title, model_class


def _default_class(raw: dict) -> str:
    import transformers

    named = (raw.get("architectures") or [""])[0]
    return named if hasattr(transformers, named) else "AutoModel"


def _check_generic(config) -> None:
    """Checks for configs outside the lesson's families, before building anything."""
    hidden, heads = getattr(config, "hidden_size", 0) or 0, getattr(config, "num_attention_heads", 0) or 0
    layers = getattr(config, "num_hidden_layers", 1)
    if layers is not None and layers < 1:
        raise InvalidConfig("A Transformer needs at least one layer (num_hidden_layers is 0).")
    if hidden and heads and hidden % heads and not getattr(config, "head_dim", None):
        raise InvalidConfig(f"{heads} heads do not divide the hidden size {hidden}.")
    rough = 12 * (layers or 1) * hidden**2 + (getattr(config, "vocab_size", 0) or 0) * hidden
    if rough > MAX_PARAMETERS:
        raise InvalidConfig(f"About {rough:.1e} parameters: beyond Glassbox's limit of {MAX_PARAMETERS:.0e}.")


def model_class_named(model_class: str):
    import transformers

    return getattr(transformers, model_class)  # the first access imports the modeling code


def count_parameters(config_or_name, model_class: str | None = None) -> Breakdown:
    """Exact parameter count, grouped, for a shipped config key ('gpt2'), a Hub
    id (online), a config dict or a transformers config. Raises InvalidConfig
    or model_registry.ModelUnavailable with a message for the student."""
    config, title, default_class = resolve_config(config_or_name)
    model_class = model_class or default_class
    architecture = architecture_of(config, model_class)
    if architecture is not None:
        validate(architecture)
    else:
        _check_generic(config)
    try:
        cls = model_class_named(model_class)
        started = time.perf_counter()
        model = model_registry.build_on_meta(config, cls)
    except (ValueError, TypeError, AttributeError, KeyError, ZeroDivisionError) as err:
        raise InvalidConfig(f"transformers cannot build {model_class} from this config: "
                            f"{str(err)[:200]}") from err
    kept, tied, rows, naive = {}, {}, [], 0
    for name, tensor in model.named_parameters(remove_duplicate=False):
        naive += tensor.numel()
        if id(tensor) in kept:
            tied[name] = kept[id(tensor)]
            continue
        kept[id(tensor)] = name
        group = group_of(name)
        rows.append({"name": name, "shape": tuple(tensor.shape), "parameters": tensor.numel(), "group": group,
                     "block": block_of(name, group, config.is_encoder_decoder)})
    return Breakdown(title, model_class, pd.DataFrame(rows), tied, naive, time.perf_counter() - started,
                     architecture)


@lru_cache(maxsize=32)
def count_known(key: str) -> Breakdown:
    """count_parameters for a shipped config, cached (the configs never change)."""
    return count_parameters(key)


def treemap_frame(breakdown: Breakdown) -> pd.DataFrame:
    """block → group → tensor (layer numbers folded into '*'), summed, for a treemap."""
    frame = breakdown.tensors.assign(tensor=breakdown.tensors["name"].str.replace(r"\.\d+\.", ".*.", n=1, regex=True))
    return frame.groupby(["block", "group", "tensor"], sort=False, as_index=False)["parameters"].sum()


# --- one layer, tensor by tensor ---------------------------------------------------

LAYER_ROLES = [  # (pattern on the tensor's name, what it does), first match wins
    (r"norm|ln_", "layer norm"),
    ("relative_attention_bias", "relative position bias (first layer only)"),
    ("c_attn", "Q, K and V projections in one matrix"),
    (r"query|q_proj|q_lin|\.q\.", "query projection Q"),
    (r"key|k_proj|k_lin|\.k\.", "key projection K"),
    (r"value|v_proj|v_lin|\.v\.", "value projection V"),
    (r"attention\.output\.dense|attention\.dense|attn\.c_proj|o_proj|out_lin|\.o\.", "attention output O"),
    ("gate_proj", "feed-forward gate (H → F)"),
    (r"intermediate|c_fc|lin1|\.wi\.|up_proj|\.ffn\.(weight|bias)$", "feed-forward up (H → F)"),
    (r"output\.dense|mlp\.c_proj|lin2|\.wo\.|down_proj|ffn_output", "feed-forward down (F → H)"),
]


def _role(name: str) -> str:
    return next((role for pattern, role in LAYER_ROLES if re.search(pattern, name.lower())), "other")


def _shape_formula(shape: tuple, arch: Architecture | None) -> str:
    """A tensor's shape in the formula symbols: (F, H) → F × H, (H, H) → H²."""
    if arch is None:
        return ""
    H, d = arch.hidden_size, arch.d_head
    symbols: dict[int, str] = {}
    for size, symbol in [(H, "H"), (arch.intermediate_size, "F"), (3 * H, "3H"),  # the first name wins
                         (arch.num_attention_heads * d, "A·d"), (arch.kv_heads * d, "KV·d"), (arch.embed, "E"),
                         (arch.relative_attention_buckets, "buckets"), (arch.num_attention_heads, "A")]:
        symbols.setdefault(size, symbol)
    named = [symbols.get(n, str(n)) for n in shape]
    if len(named) == 2 and named[0] == named[1]:
        return f"{named[0]}²"
    return " × ".join(named)


def first_layer(breakdown: Breakdown) -> pd.DataFrame:
    """Every tensor of the first layer (of the encoder, for an encoder-decoder):
    what it does, its shape, the shape in formula symbols, its count."""
    t = breakdown.tensors
    index = t["name"].str.extract(r"\.(\d+)\.", expand=False)
    layer = t[t["block"].isin(["layers", "encoder layers"]) & (index == "0")]
    stripped = layer["name"].str.replace(r"^.*?\.0\.", "", n=1, regex=True)
    return pd.DataFrame({"part": layer["name"].map(_role), "tensor": stripped,
                         "shape": layer["shape"].map(lambda s: " × ".join(map(str, s))),
                         "shape in symbols": layer["shape"].map(lambda s: _shape_formula(s, breakdown.architecture)),
                         "parameters": layer["parameters"].astype("int64")}).reset_index(drop=True)


# --- the lesson's rounded figures vs exact ----------------------------------------

NORM_GROUPS = ["embedding norm", "layer norms", "final norm"]
RULE_OF_THUMB_PART = {  # group -> what the rounding table calls it; the rest are "weight matrices in the layers"
    "token embeddings": "token embedding table", **dict.fromkeys(
        ["position embeddings", "segment embeddings", "relative position bias"], "position and segment embeddings"),
    **dict.fromkeys(NORM_GROUPS, "normalisation layers"), "pooler": "pooler", "LM head": "LM head (not tied)"}


def rounding_explained(breakdown: Breakdown) -> pd.DataFrame:
    """The exact count split into what the rule of thumb 12·L·H² + V·H covers
    (weight matrices of the layers and the token table) and the small items it
    rounds away. The rows sum to the exact total."""
    t = breakdown.tensors
    parts = t["group"].map(RULE_OF_THUMB_PART).fillna("weight matrices in the layers")
    parts[t["name"].str.endswith("bias") & ~t["group"].isin(NORM_GROUPS)] = "biases"
    sums = t.groupby(parts.rename("part"), sort=False)["parameters"].sum()
    return sums.reset_index().astype({"parameters": "int64"})


def course_attention_row(hidden_size: int = 512, num_attention_heads: int = 8) -> dict:
    """The course's per-block attention figure vs the full projections.

    The course multiplies Q, K and V of ONE head (3·H·d_k) and adds the output
    projection; a block has all A heads, so Q, K, V and O are each H×H."""
    d_k = hidden_size // num_attention_heads
    one_head_qkv = 3 * hidden_size * d_k
    return {"d_k": d_k, "one head Q,K,V": one_head_qkv, "course block (one head + output)":
            one_head_qkv + hidden_size**2, "all heads Q,K,V,O weights": 4 * hidden_size**2,
            "biases": 4 * hidden_size, "all heads with biases": 4 * hidden_size**2 + 4 * hidden_size}


# --- "build your own" and its presets ---------------------------------------------

def builder_architecture(kind: str, layers: int, hidden: int, heads: int, ffn: int, vocab: int,
                         context: int, tied: bool) -> Architecture:
    """The builder's model: BERT-style encoder, GPT-2-style decoder, or the
    original encoder-decoder (sinusoidal positions, post-norm: no final norm)."""
    base = Architecture(kind, vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=ffn, tie_word_embeddings=tied)
    if kind == "encoder":
        return replace(base, max_position_embeddings=context, type_vocab_size=2, embedding_norm=True, pooler=True)
    if kind == "decoder":
        return replace(base, max_position_embeddings=context, final_norm=True, lm_head=True)
    return replace(base, num_decoder_layers=layers, lm_head=True)


def shipped_builder_settings(key: str) -> dict:
    """The builder's settings for a shipped BERT- or GPT-2-style config, read from assets/configs/<key>.json."""
    c = shipped_config(key)
    if c["model_type"] == "gpt2":
        return dict(kind="decoder", layers=c["n_layer"], hidden=c["n_embd"], heads=c["n_head"],
                    ffn=c.get("n_inner") or 4 * c["n_embd"], vocab=c["vocab_size"], context=c["n_positions"],
                    tied=c.get("tie_word_embeddings", True))
    return dict(kind="encoder", layers=c["num_hidden_layers"], hidden=c["hidden_size"],
                heads=c["num_attention_heads"], ffn=c["intermediate_size"], vocab=c["vocab_size"],
                context=c["max_position_embeddings"], tied=True)


# name: (builder settings, the figure the lesson quotes). The Original Transformer and GPT-3 ship no
# config: their published hyper-parameters are typed here, once (GPT-3 reuses GPT-2's tokenizer).
PRESETS = {
    "Original Transformer (2017)": (dict(kind="encoder-decoder", layers=6, hidden=512, heads=8, ffn=2048,
                                         vocab=37_000, context=512, tied=True), 65e6),
    "GPT-3 175B (2020)": (dict(kind="decoder", layers=96, hidden=12_288, heads=96, ffn=4 * 12_288,
                               vocab=shipped_config("gpt2")["vocab_size"], context=2048, tied=True), 175e9),
    "BERT-Base (2018)": (shipped_builder_settings("bert-base-uncased"), KNOWN_BY_KEY["bert-base-uncased"].published),
    "GPT-2 small (2019)": (shipped_builder_settings("gpt2"), KNOWN_BY_KEY["gpt2"].published),
}


def preset(name: str) -> tuple[Architecture, float]:
    settings, published = PRESETS[name]
    return builder_architecture(**settings), published


def doubling_hidden_size(arch: Architecture) -> dict[str, float]:
    """How many times larger each part gets when H and F double together (F = 4H stays
    F = 4H): {"layers": …, "embeddings": …, "total": …}. The H×H and H×F matrices grow
    4×; biases, norms and the V×H and P×H embeddings only 2×."""
    doubled = replace(arch, hidden_size=2 * arch.hidden_size, intermediate_size=2 * arch.intermediate_size)

    def parts(a: Architecture) -> dict[str, int]:
        terms = formula_terms(a)
        embeddings = sum(t.value for t in terms if t.group in EMBEDDING_GROUPS)
        layers = sum(t.value for t in terms if t.group in ("attention", "feed-forward", "layer norms"))
        return {"layers": layers, "embeddings": embeddings, "total": formula_total(a)}

    before, after = parts(arch), parts(doubled)
    return {part: after[part] / before[part] for part in before}


def doubling_facts() -> dict[str, str]:
    """The builder text's numbers: doubling H (and F) in GPT-2 small and in GPT-3."""
    small, large = (doubling_hidden_size(preset(name)[0]) for name in ("GPT-2 small (2019)", "GPT-3 175B (2020)"))
    return {"small_layers": f"{small['layers']:.2f}", "small_embeddings": f"{small['embeddings']:g}",
            "small_total": f"{small['total']:.2f}", "large_total": f"{large['total']:.2f}"}


ORIGINAL_TRANSFORMER = preset("Original Transformer (2017)")[0]
GPT3 = preset("GPT-3 175B (2020)")[0]


def transformers_config(arch: Architecture):
    """(config, class) that transformers builds with exactly this architecture,
    or None where no stock class matches (the encoder-decoder uses the formula)."""
    from transformers import BertConfig, GPT2Config

    if arch.kind == "encoder" and arch.type_vocab_size and arch.pooler and arch.bias:
        return BertConfig(vocab_size=arch.vocab_size, hidden_size=arch.hidden_size,
                          num_hidden_layers=arch.num_hidden_layers, num_attention_heads=arch.num_attention_heads,
                          intermediate_size=arch.intermediate_size,
                          max_position_embeddings=arch.max_position_embeddings,
                          type_vocab_size=arch.type_vocab_size), "BertModel"
    if arch.kind == "decoder" and arch.norm == "layernorm" and arch.bias and arch.max_position_embeddings:
        return GPT2Config(vocab_size=arch.vocab_size, n_embd=arch.hidden_size, n_layer=arch.num_hidden_layers,
                          n_head=arch.num_attention_heads, n_inner=arch.intermediate_size,
                          n_positions=arch.max_position_embeddings,
                          tie_word_embeddings=arch.tie_word_embeddings), "GPT2LMHeadModel"
    return None


def count_architecture(arch: Architecture, title: str = "your model") -> Breakdown:
    """Exact count on the meta device where transformers has the class and the
    model is small enough to build quickly; otherwise the formula, per group."""
    validate(arch)
    built = transformers_config(arch)
    if built is not None and formula_total(arch) <= MAX_META_PARAMETERS:
        config, model_class = built
        breakdown = count_parameters(config, model_class)
        breakdown.title, breakdown.architecture = title, arch
        return breakdown
    rows = [{"name": t.group, "shape": (), "parameters": t.value, "group": t.group,
             "block": block_of("", t.group, False)} for t in formula_terms(arch) if t.value]
    return Breakdown(title, "formula", pd.DataFrame(rows), architecture=arch, path="formula",
                     naive_total=formula_total(arch) + (arch.vocab_size * arch.hidden_size
                                                        if arch.lm_head and arch.tie_word_embeddings else 0))


# --- memory ---------------------------------------------------------------------

BYTES_PER_PARAMETER = {"fp32": 4, "bf16": 2, "fp16": 2, "int8": 1, "int4": 0.5}
# Adam in fp32: the weights, their gradients, and two moment estimates per weight.
ADAM_STATE_BYTES = {"weights": 4, "gradients": 4, "Adam 1st moment (m)": 4, "Adam 2nd moment (v)": 4}
GIB = 2**30
# Capacities as their makers state them, in GB (10⁹ bytes): a "16 GB" T4 holds 14.9 GiB.
DEVICES_GB = {"T4 16 GB": 16, "V100 16 GB": 16, "A100 80 GB": 80, "H100 80 GB": 80,
              "Streamlit Cloud 2.7 GB RAM": 2.7}
DEVICES_GIB = {name: gb * 10**9 / GIB for name, gb in DEVICES_GB.items()}


def memory_table(num_parameters: int) -> pd.DataFrame:
    """GiB for the weights at each precision, and for Adam training in fp32
    (activations, KV cache and framework overhead come on top)."""
    rows = [{"use": f"inference, {p}", "bytes per parameter": b, "GiB": num_parameters * b / GIB}
            for p, b in BYTES_PER_PARAMETER.items()]
    adam = sum(ADAM_STATE_BYTES.values())
    rows.append({"use": "training with Adam, fp32", "bytes per parameter": adam,
                 "GiB": num_parameters * adam / GIB})
    return pd.DataFrame(rows)


def fit_verdict(needed_gib: float, capacity_gib: float) -> str:
    """'fits' with 20% to spare for activations, 'tight' up to 100%, else 'no'."""
    if needed_gib <= 0.8 * capacity_gib:
        return "fits"
    return "tight" if needed_gib <= capacity_gib else "no"


def fits_table(num_parameters: int, local_gpu: tuple[str, float] | None = None) -> pd.DataFrame:
    """Which use fits on which device; `local_gpu` is (name, GiB) as torch reports it."""
    devices = dict(DEVICES_GIB)
    if local_gpu:
        devices[f"this machine: {local_gpu[0]}"] = local_gpu[1]
    memory = memory_table(num_parameters).set_index("use")["GiB"]
    return pd.DataFrame({name: [fit_verdict(gib, cap) for gib in memory] for name, cap in devices.items()},
                        index=memory.index)


def local_gpu() -> tuple[str, float] | None:
    report = device_policy.device_report()
    return (report["gpu_name"], report["gpu_memory_gb"]) if report["cuda"] else None


# --- sizes over time ------------------------------------------------------------------

def timeline() -> pd.DataFrame:
    """Every shipped model (exact, meta device) and the two presets (formula)."""
    rows = [{"model": k.title, "year": k.year, "family": k.family, "parameters": count_known(k.key).total,
             "counted by": "meta device"} for k in KNOWN]
    rows += [{"model": "Original Transformer", "year": 2017, "family": "Transformer",
              "parameters": formula_total(ORIGINAL_TRANSFORMER), "counted by": "formula"},
             {"model": "GPT-3 175B", "year": 2020, "family": "GPT", "parameters": formula_total(GPT3),
              "counted by": "formula"}]
    return pd.DataFrame(rows).sort_values(["year", "parameters"], ignore_index=True)


def variants_table() -> pd.DataFrame:
    """The lesson's BERT variants, with exact counts next to the quoted ones."""
    rows = []
    for k in (k for k in KNOWN if k.family == "BERT"):
        b = count_known(k.key)
        a = b.architecture
        rows.append({"model": k.title, "quoted": k.published, "exact": b.total, "layers": a.num_hidden_layers,
                     "hidden": a.hidden_size, "heads": a.num_attention_heads,
                     "difference": (b.total - k.published) / k.published})
    return pd.DataFrame(rows)
