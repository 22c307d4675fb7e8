"""Speed of the attention lesson, warm (models loaded, first run discarded).

    PYTHONPATH=. .venv/bin/python benchmarks/attention.py [--repeats 7]
    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/attention.py

Prints medians of:
- MiniLM forward with output_attentions for a 32-token input (lib only);
- the whole page rerun in AppTest after the real-model text changes to a new
  32-token sentence (cache miss: forward, heatmaps, head-role map, bertviz);
- the whole page rerun after a toy control changes (real-model results cached);
- the toy alone: toy_steps + its eight heatmap figures (what one toy widget
  change recomputes inside its fragment in the browser).

On a 2-core machine shared with other busy processes, torch's two OpenMP
threads spin-wait for each other: MiniLM's forward measured ~2.9 s with the
default, ~0.28 s with OMP_WAIT_POLICY=PASSIVE and ~0.12 s with one thread
(load average ~22). Run both ways and report which.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib import attention as att  # noqa: E402
from lib import attention_models, models  # noqa: E402
from lib.ui_attention import heatmap, numbered  # noqa: E402

WORDS = ("the quick brown fox jumps over a lazy dog while my lovely cat sleeps on the warm mat near "
         "an open window and dreams of fish birds and mice all day long").split()


def sentence_of_32_tokens(tokenizer, variant: int) -> str:
    """Thirty words plus [CLS] and [SEP]; `variant` rotates them so no cache hits."""
    words = WORDS[variant % len(WORDS):] + WORDS[: variant % len(WORDS)]
    text = " ".join(words[:30])
    assert len(tokenizer(text)["input_ids"]) == 32, text
    return text


def median_ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:7.1f} ms  (min {min(samples) * 1000:.1f}, n={len(samples)})"


def timed(fn, repeats: int) -> list[float]:
    fn(-1)  # warm-up, discarded
    samples = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    from streamlit.testing.v1 import AppTest

    minilm = models.load("minilm", role="encoder", device="cpu", attentions=True)
    print(f"torch threads: {__import__('torch').get_num_threads()}, os.cpu_count: {os.cpu_count()}")
    forward = timed(lambda i: attention_models.model_attention(
        minilm, sentence_of_32_tokens(minilm.tokenizer, i + 1)), repeats)
    print(f"MiniLM attention, 32 tokens, lib only:          {median_ms(forward)}")

    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600)
    app.run()
    app.switch_page("lessons/attention.py").run()
    assert not app.exception, app.exception

    def new_real_text(i):
        app.text_area(key="attention_real_text").set_value(sentence_of_32_tokens(minilm.tokenizer, i + 1)).run()
        assert not app.exception and not app.warning

    print(f"page rerun, new 32-token text on MiniLM:        {median_ms(timed(new_real_text, repeats))}")

    def toy_change(i):
        app.number_input(key="attention_seed").set_value(i + 2).run()

    print(f"page rerun, toy seed changed (full script):    {median_ms(timed(toy_change, repeats))}")

    def toy_alone(i):
        steps = att.toy_steps(att.DEFAULT_SENTENCE, 8, 4, seed=i + 2)
        labels = numbered(att.split_words(att.DEFAULT_SENTENCE))
        for matrix in (steps.x, steps.q, steps.k, steps.v, steps.scores, steps.scaled, steps.weights,
                       steps.output):
            heatmap(matrix, [str(j) for j in range(matrix.shape[1])], labels, "t", "x", "y").to_json()

    print(f"toy: steps + 8 heatmaps (fragment's own work): {median_ms(timed(toy_alone, repeats))}")


if __name__ == "__main__":
    main()
