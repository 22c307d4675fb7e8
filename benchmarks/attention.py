"""Speed of the attention lesson, warm (models loaded, first run discarded).

    PYTHONPATH=. .venv/bin/python benchmarks/attention.py [--repeats 7] [--no-server]
    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/attention.py

First, as a browser would (unless --no-server): a real `streamlit run` server and
one session over Streamlit's websocket protocol (benchmarks/load_sessions.py),
timing send → script finished and the server's CPU time for
- a new toy seed: the step-by-step fragment reruns alone;
- a new 32-token text for MiniLM: the real-model fragment reruns alone.

Then, in-process, medians of:
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from lessons.widgets.attention import heatmap, numbered  # noqa: E402
from lib import attention as att  # noqa: E402
from lib import attention_models, model_loading  # noqa: E402

WORDS = ("the quick brown fox jumps over a lazy dog while my lovely cat sleeps on the warm mat near "
         "an open window and dreams of fish birds and mice all day long").split()


def sentence_of_32_tokens(tokenizer, variant: int) -> str:
    """Thirty words plus [CLS] and [SEP]; `variant` rotates them so no cache hits."""
    words = WORDS[variant % len(WORDS):] + WORDS[: variant % len(WORDS)]
    text = " ".join(words[:30])
    assert len(tokenizer(text)["input_ids"]) == 32, text
    return text


def median_ms(samples: list[float], cpu: list[float] | None = None) -> str:
    text = f"median {statistics.median(samples) * 1000:7.1f} ms  (min {min(samples) * 1000:.1f}, n={len(samples)})"
    return text + (f"; CPU median {statistics.median(cpu) * 1000:.0f} ms" if cpu else "")


class Timings(list):
    """Wall-clock seconds per run, with this process's CPU seconds (all threads) in `.cpu`:
    on a shared machine the CPU time is the steadier figure."""
    cpu: list[float]

    def __str__(self) -> str:
        return median_ms(self, self.cpu)


def timed(fn, repeats: int) -> Timings:
    fn(-1)  # warm-up, discarded
    samples = Timings()
    samples.cpu = []
    for i in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fn(i)
        samples.append(time.perf_counter() - start)
        samples.cpu.append(time.process_time() - cpu)
    return samples


def over_the_websocket(repeats: int, tokenizer) -> None:
    """Fragment reruns as the browser asks for them, on a real server."""
    import asyncio

    import load_sessions as ls

    class Student(ls.Session):
        def note_element(self, element, fragment_id: str) -> str:
            if element.WhichOneof("type") == "number_input":
                self.widget_ids[element.number_input.label] = element.number_input.id
                self.fragments[element.number_input.label] = fragment_id
            return super().note_element(element, fragment_id)

        async def set_int(self, label: str, value: int) -> None:
            state = ls.WidgetState(id=self.widget_ids[label], int_value=value)
            self.widget_states[state.id] = state
            await self.rerun("toy", fragment_id=self.fragments[label])

    async def run(url: str, sampler) -> dict[str, tuple[list[float], float]]:
        student = Student(url, "lovely", [])
        await student.open()
        assert student.fragments["Random seed"] and student.fragments[ls.TEXT_LABEL], student.fragments
        timings = {}
        for kind, act in (("toy", lambda i: student.set_int("Random seed", 100 + i)),
                          ("text", lambda i: student.change(ls.TEXT_LABEL, sentence_of_32_tokens(tokenizer, i + 1), "text"))):
            await act(-1)  # warm-up, discarded
            cpu = sampler.cpu_seconds()
            for i in range(repeats):
                await act(i)
            done = [r for r in student.results if r.kind == kind][1:]
            timings[kind] = ([r.seconds for r in done], (sampler.cpu_seconds() - cpu) / repeats)
        assert all(r.heatmap_sent for r in student.results if r.kind == "text")  # the model really ran
        await student.ws.close()
        return timings

    server, url = ls.start_server()
    sampler = ls.RssSampler(server.pid)
    try:
        warm = ls.Session(url, "cat", [])
        asyncio.run(warm.open())  # loads MiniLM for the server
        timings = asyncio.run(run(url, sampler))
    finally:
        ls.stop_server(server)
    for kind, label in (("toy", "new toy seed (step-by-step fragment only)"),
                        ("text", "new 32-token text (real-model fragment only)")):
        samples, cpu = timings[kind]
        print(f"server, {label:45s} {median_ms(samples)}; server CPU {cpu * 1000:.0f} ms each")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-server", action="store_true", help="skip the real-server measurements")
    args = parser.parse_args()
    repeats = args.repeats
    print(f"load average {os.getloadavg()[0]:.1f}")
    minilm = model_loading.load("minilm", role="encoder", device="cpu", attentions=True)
    if not args.no_server:
        over_the_websocket(repeats, minilm.tokenizer)
    from streamlit.testing.v1 import AppTest

    print(f"torch threads: {__import__('torch').get_num_threads()}, os.cpu_count: {os.cpu_count()}")
    forward = timed(lambda i: attention_models.model_attention(
        minilm, sentence_of_32_tokens(minilm.tokenizer, i + 1)), repeats)
    print(f"MiniLM attention, 32 tokens, lib only:          {forward}")

    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600)
    app.run()
    app.switch_page("lessons/attention.py").run()
    assert not app.exception, app.exception

    def new_real_text(i):
        app.text_area(key="attention_real_text").set_value(sentence_of_32_tokens(minilm.tokenizer, i + 1)).run()
        assert not app.exception and not app.warning

    print(f"page rerun, new 32-token text on MiniLM:        {timed(new_real_text, repeats)}")

    def toy_change(i):
        app.number_input(key="attention_seed").set_value(i + 2).run()

    print(f"page rerun, toy seed changed (full script):    {timed(toy_change, repeats)}")

    def toy_alone(i):
        steps = att.toy_steps(att.DEFAULT_SENTENCE, 8, 4, seed=i + 2)
        labels = numbered(att.split_words(att.DEFAULT_SENTENCE))
        for matrix in (steps.x, steps.q, steps.k, steps.v, steps.scores, steps.scaled, steps.weights,
                       steps.output):
            heatmap(matrix, [str(j) for j in range(matrix.shape[1])], labels, "t", "x", "y").to_json()

    print(f"toy: steps + 8 heatmaps (fragment's own work): {timed(toy_alone, repeats)}")


if __name__ == "__main__":
    main()
