"""The course map: lessons in teaching order, grouped into sections.

The app's navigation, the home page's course map and (later) progress tracking
all read this one table. A lesson appears in the app once its page file exists,
so unfinished lessons are never shown as empty stubs.
"""
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    section: str
    icon: str
    summary: str

    @property
    def page(self) -> str:
        return f"lessons/{self.key}.py"

    @property
    def available(self) -> bool:
        return (ROOT / self.page).exists()


SECTIONS = ["Start", "Foundations", "Transformers", "HuggingFace", "Applications"]

LESSONS = [
    Lesson("home", "Welcome", "Start", ":material/home:",
           "What Glassbox teaches, the course map and this machine."),
    Lesson("neural_networks", "Neural networks", "Foundations", ":material/hub:",
           "A neuron, layers, activations; forward pass and backpropagation."),
    Lesson("cnn", "Convolutional networks", "Foundations", ":material/grid_on:",
           "Convolve by hand, design kernels, train a CNN, open up EfficientNet."),
    Lesson("rnn", "Recurrent networks", "Foundations", ":material/loop:",
           "Memory, vanishing gradients, LSTM and GRU."),
    Lesson("attention", "Attention and the Transformer", "Transformers", ":material/visibility:",
           "Q·K softmax step by step, then attention inside real models."),
    Lesson("tokenizers", "Tokenizers", "Transformers", ":material/token:",
           "WordPiece, BPE and SentencePiece side by side; train your own."),
    Lesson("parameters", "Where the parameters are", "Transformers", ":material/calculate:",
           "Exact parameter counts, the formulas behind them, and memory."),
    Lesson("embeddings", "Contextual embeddings", "Transformers", ":material/scatter_plot:",
           "'bank' by the river vs 'bank' for savings; semantic search."),
    Lesson("pipelines", "HuggingFace pipelines", "HuggingFace", ":material/conveyor_belt:",
           "Two-line pipelines and the three steps they hide."),
    Lesson("finetuning", "Fine-tuning", "HuggingFace", ":material/tune:",
           "Fine-tune a pretrained encoder on review sentiment."),
    Lesson("tiny_gpt", "A tiny GPT from scratch", "HuggingFace", ":material/auto_awesome:",
           "Train a small GPT-2 on a bundled corpus and watch it learn."),
    Lesson("inside_llm", "Inside a language model", "HuggingFace", ":material/biotech:",
           "Logit lens, switching heads off, and the KV cache in a real decoder."),
    Lesson("gpu", "GPU acceleration", "HuggingFace", ":material/memory:",
           "CPU vs GPU, batching, precision: measured, not claimed."),
    Lesson("meeting_minutes", "Meeting minutes", "Applications", ":material/record_voice_over:",
           "Audio → transcript → minutes, end to end on a laptop."),
]


def lesson(key: str) -> Lesson:
    return next(l for l in LESSONS if l.key == key)


def available_lessons() -> list[Lesson]:
    return [l for l in LESSONS if l.available]


def next_lesson(key: str) -> Lesson | None:
    """The next lesson that exists after `key`, in course order."""
    keys = [l.key for l in available_lessons()]
    i = keys.index(key) if key in keys else -1
    return available_lessons()[i + 1] if 0 <= i < len(keys) - 1 else None
