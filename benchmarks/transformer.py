"""Speed and quality of "The Transformer, whole".

    PYTHONPATH=. .venv/bin/python benchmarks/transformer.py [--repeats 5] [--only translator,pretraining,walk,page]

- the toy EN→FR encoder–decoder trained from scratch (not from the cache), seeded: wall and CPU time,
  held-out exact match, cross-attention alignment, and when held-out exact match first reached 95%;
- the tiny BERT (masked LM) and the tiny GPT (next character) on the same text and budget: wall/CPU time,
  masked-token accuracy vs the unigram baseline, the fill-mask for "The [MASK] is very cute";
- the block walk: the cached walk plus one step's figure serialised, for every step of a 64-token
  sentence on both blocks (what moving the step slider recomputes), and a whole-page AppTest rerun
  after the step changes (everything else cached).
Prints `uptime` first: the machine is shared, so read the numbers with the load.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib import device_policy, model_loading, tiny_gpt, transformer  # noqa: E402
from lib import transformer_pretraining as pretraining  # noqa: E402
from lib import transformer_seq2seq as seq2seq  # noqa: E402

LONG = " ".join(["The cat chased the mouse across the garden and"] * 12)


def timed(work):
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def translator() -> None:
    run = seq2seq.new_run()

    def train():
        for _ in seq2seq.train(run):
            pass

    _, wall, cpu = timed(train)
    first = next((p for p in run.history if p.exact_match is not None and p.exact_match >= 0.95), None)
    print(f"toy translator: {seq2seq.parameter_count(run.model):,} parameters, {run.config.max_steps} steps "
          f"in {wall:.1f} s wall / {cpu:.1f} s CPU; held-out exact match "
          f"{seq2seq.exact_match(run.model, run.corpus.held_out):.3f} on {len(run.corpus.held_out)}; cross-attention "
          f"alignment {seq2seq.alignment_accuracy(run.model, run.corpus.held_out):.3f}; first ≥ 95% at step "
          f"{first.step if first else None} after {first.seconds if first else float('nan'):.1f} s")


def pretraining_pair() -> None:
    config = pretraining.PretrainConfig()
    text = pretraining.pretraining_text(config.seed)
    bert = pretraining.new_bert(text, config)
    _, wall, cpu = timed(lambda: [None for _ in pretraining.train_bert(bert)])
    accuracy = pretraining.masked_accuracy(bert)
    fill = ", ".join(f"{r['word']} {r['probability']:.2f}" for r in pretraining.fill_mask(bert, pretraining.COURSE_MASKED))
    print(f"tiny BERT: {sum(p.numel() for p in bert.model.parameters()):,} parameters, {config.max_steps} steps "
          f"in {wall:.1f} s wall / {cpu:.1f} s CPU; held-out masked-token accuracy {accuracy['model']:.3f} vs "
          f"unigram {accuracy['unigram']:.3f}; '{pretraining.COURSE_MASKED}': {fill}")
    gpt, train, val = tiny_gpt.new_run(text, config.gpt_config())
    _, wall, cpu = timed(lambda: [None for _ in tiny_gpt.train(gpt, train, val, prompt="the cat ")])
    sample = "".join(s.token for s in tiny_gpt.generate(gpt, "the cat ", 40, temperature=0.0))
    print(f"tiny GPT, same text and budget: {config.max_steps} steps in {wall:.1f} s wall / {cpu:.1f} s CPU; "
          f"validation {gpt.history[-1].val_loss:.3f} vs unigram {gpt.baseline:.3f} nats/char; 'the cat {sample}'")


def block_walk(repeats: int) -> None:
    from lessons.widgets import transformer as widgets

    for key, role in (("minilm", "encoder"), ("smollm2-135m", "decoder")):
        loaded = model_loading.shared(key, role, "cpu")
        walk, wall, _ = timed(lambda loaded=loaded: transformer.walk(loaded, LONG))
        worst = 0.0
        for index in range(len(walk.steps)):
            times = []
            for _ in range(repeats):
                _, step_wall, _ = timed(lambda walk=walk, index=index: widgets.step_figure(walk, index, 0).to_json())
                times.append(step_wall)
            worst = max(worst, statistics.median(times))
        print(f"block walk {key}: {len(walk.tokens)} tokens, walk computed once in {wall * 1000:.0f} ms, "
              f"max difference {walk.max_difference:.1e}; one step's figure (median of {repeats}), worst step "
              f"{worst * 1000:.1f} ms")


def page_rerun(repeats: int) -> None:
    from streamlit.testing.v1 import AppTest

    from lib import course

    app = AppTest.from_file(str(course.ROOT / "streamlit_app.py"), default_timeout=600)
    app.run()
    app.switch_page(course.lesson("transformer").page).run()
    app.text_input(key="transformer_text").set_value(LONG).run()
    times = []
    for step in [2, 9, 11, 15, 19, 5, 12][:repeats + 1]:
        _, wall, cpu = timed(lambda step=step: app.slider(key="transformer_step").set_value(step).run())
        times.append((wall, cpu))
    times = times[1:]  # the first rerun after a change of text is discarded
    print(f"whole page rerun after a step change (AppTest, 64 tokens, MiniLM): median "
          f"{statistics.median(t[0] for t in times) * 1000:.0f} ms wall / "
          f"{statistics.median(t[1] for t in times) * 1000:.0f} ms CPU over {len(times)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="translator,pretraining,walk,page",
                        help="comma-separated parts to run: translator, pretraining, walk, page")
    args = parser.parse_args()
    parts = args.only.split(",")
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    with device_policy.cpu_threads("cpu"):
        for name, part in (("translator", translator), ("pretraining", pretraining_pair)):
            if name in parts:
                part()
        if "walk" in parts:
            block_walk(args.repeats)
    if "page" in parts:
        page_rerun(args.repeats)
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
