"""What an inference server saves each web process: SmolLM2's memory and its generation CPU.

    PYTHONPATH=. .venv/bin/python benchmarks/inference_server.py [--tokens 40]

In one fresh process, as a replica holds them (model_loading.shared): RSS and USS (memory
only this process holds) after the imports and MiniLM, then after SmolLM2 as well; then the
pipelines page's text generation (`--tokens` new tokens, greedy) and its summary, wall and CPU
time: what each such request costs a replica's one interpreter lock when no server is set.
"""
import argparse
import json
import time

import psutil

from lib import model_loading, pipelines

PROMPT = "The history of the printing press begins"
TEXT = ("The city council met on Tuesday to discuss new bike lanes on Main Street. After two hours of debate, "
        "members voted six to three to build a protected lane by next summer, paid for by the transport budget.")


def memory() -> dict:
    info = psutil.Process().memory_full_info()
    return {"rss_mib": round(info.rss / 2**20), "uss_mib": round(info.uss / 2**20)}


def timed(run) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=40)
    args = parser.parse_args()
    model_loading.shared("minilm", "encoder")
    without = memory()
    decoder = model_loading.shared("smollm2-135m", "decoder")
    with_smollm2 = memory()
    generation = timed(lambda: "".join(pipelines.generate_stream(decoder, PROMPT, args.tokens)))
    summary = timed(lambda: pipelines.summarize(decoder, TEXT))
    after = memory()
    print(f"MiniLM only: RSS {without['rss_mib']} MiB, USS {without['uss_mib']} MiB; with SmolLM2: "
          f"RSS {with_smollm2['rss_mib']} MiB (+{with_smollm2['rss_mib'] - without['rss_mib']}), "
          f"USS {with_smollm2['uss_mib']} MiB (+{with_smollm2['uss_mib'] - without['uss_mib']}); "
          f"after generating: RSS {after['rss_mib']} MiB")
    print(f"{args.tokens} new tokens: {generation['wall_s']} s wall, {generation['cpu_s']} s CPU; "
          f"summary ({pipelines.SUMMARY_TOKENS} tokens at most): {summary['wall_s']} s wall, {summary['cpu_s']} s CPU")
    print(json.dumps({"minilm_only": without, "with_smollm2": with_smollm2, "after_generating": after,
                      "generation": generation, "summary": summary, "tokens": args.tokens}))


if __name__ == "__main__":
    main()
