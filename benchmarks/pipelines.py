"""Pipeline latency per offline task on this machine's CPU, and MiniLM's
batching throughput curve (64 sentences, batch sizes 1…64).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/pipelines.py [--repeats N] [--only WORD]

Each latency is the median of N (default 3) runs after one warm-up (models
already loaded), wall and CPU time; --only keeps the tasks whose name contains WORD.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

# the repository root instead of the script folder, so no file in benchmarks/ can shadow a package
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from lib import efficientnet, embeddings, model_loading, pipelines  # noqa: E402

CLIP = "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav"


def median_seconds(fn, repeats: int = 3) -> tuple[float, float]:
    """Median wall and CPU (this process, all threads) seconds of `fn()` after one warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    encoder = model_loading.load("minilm", "encoder", "cpu")
    decoder = model_loading.load("smollm2-135m", "decoder", "cpu")
    whisper = pipelines.load_whisper("cpu")
    cnn = efficientnet.load_efficientnet_lite0()
    image = pipelines.sample_image()
    labels = ["sport", "politics", "cooking"]
    text = "The striker scored twice in the final minutes."
    tasks = {
        "fill-mask (SmolLM2 ranking)": lambda: pipelines.fill_mask(decoder, "Paris is the [MASK] of France."),
        "feature-extraction (MiniLM)": lambda: pipelines.feature_extraction(encoder, text),
        "zero-shot by similarity (MiniLM)": lambda: pipelines.zero_shot_by_similarity(encoder, text, labels),
        "zero-shot by prompting (SmolLM2)": lambda: pipelines.zero_shot_by_prompting(decoder, text, labels),
        "text-generation, 30 tokens (SmolLM2)": lambda: "".join(
            pipelines.generate_stream(decoder, "Once upon a time", 30)),
        "summarization, ≤40 tokens (SmolLM2)": lambda: pipelines.summarize(
            decoder, "The city council met on Tuesday to discuss new bike lanes. Members voted seven to two "
                     "to fund the project, which will start in spring."),
        "ASR, 7.1 s clip (Whisper tiny.en int8)": lambda: pipelines.transcribe(whisper, CLIP),
        "image-classification (EfficientNet-Lite0)": lambda: efficientnet.classify(cnn, image),
    }
    for name, fn in tasks.items():
        if args.only in name:
            wall, cpu = median_seconds(fn, args.repeats)
            print(f"{name:45s} {wall * 1000:9.0f} ms wall {cpu * 1000:9.0f} ms CPU", flush=True)
    sentences = (embeddings.bundled_sentences() * 3)[:64]
    steps = pipelines.batch_throughput(encoder, sentences, [1, 2, 4, 8, 16, 32, 64])
    while True:
        cpu_started = time.process_time()
        row = next(steps, None)
        if row is None:
            break
        print(f"MiniLM batch {row['batch_size']:3d}: {row['sentences_per_s']:7.1f} sentences/s wall, "
              f"{len(sentences) / (time.process_time() - cpu_started):7.1f} per CPU-second", flush=True)
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
