"""CPU vs GPU: matmul GFLOP/s and MiniLM batch throughput on every device this
machine has, written to a JSON results file the GPU lesson can load.

    PYTHONPATH=. .venv/bin/python benchmarks/gpu.py [results.json] [--quick]

Timing: one warm-up, synchronise before reading the clock, median of 3 runs. MiniLM is
timed in every precision the device supports (float32 and bfloat16 on a CPU), each a converted copy.
Prints a table and the speed-up of each GPU row over the CPU in float32.
"""
import argparse
import json
import sys
from pathlib import Path

# the repository root instead of the script folder, so no file in benchmarks/ can shadow a package
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from lib import embeddings, gpu, model_loading  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("output", nargs="?", default="gpu-results.json")
    parser.add_argument("--quick", action="store_true", help="small sizes only (a CPU smoke run)")
    args = parser.parse_args()
    sizes = [256, 512, 1024] if args.quick else [256, 512, 1024, 2048, 4096]
    batch_sizes = [1, 4, 16] if args.quick else [1, 4, 16, 64, 256]
    devices = gpu.available_devices()
    print(f"devices: {devices}; {gpu.device_details()}")

    matmul = []
    for row in gpu.matmul_sweep(sizes, devices, list(gpu.DTYPES)):
        matmul.append(row)
        print(f"matmul n={row['size']:5d} {row['device']:4s} {row['dtype']:8s} "
              f"{row['seconds'] * 1000:9.2f} ms {row['gflops']:10.1f} GFLOP/s", flush=True)

    model, encoders = [], {}

    def encoder_in(device: str, dtype: str):  # one load per device, a converted copy per precision
        encoders.setdefault(device, model_loading.load("minilm", role="encoder", device=device))
        return gpu.in_precision(encoders[device], dtype)

    for row in gpu.model_sweep(encoder_in, embeddings.bundled_sentences(), devices, list(gpu.DTYPES), batch_sizes):
        model.append(row)
        print(f"MiniLM {row['device']:4s} {row['dtype']:8s} batch {row['batch_size']:4d} "
              f"{row['seconds'] * 1000:9.2f} ms {row['sequences_per_s']:10.1f} sentences/s", flush=True)

    for row in gpu.speedups(matmul, "size", "gflops") + gpu.speedups(model, "batch_size", "sequences_per_s"):
        print("speed-up", row)
    Path(args.output).write_text(json.dumps(gpu.results_document(matmul, model), indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
