"""The CNN lesson's figures: digits CNN with the lesson's defaults (time to
train, test accuracy, over several seeds), one Fashion-MNIST epoch, and
EfficientNet-Lite0 load / classify / Grad-CAM times and memory.

    PYTHONPATH=. .venv/bin/python benchmarks/cnn.py [--device cuda] [--seeds 3]
"""
import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from lib import cnn, device_policy, efficientnet  # noqa: E402


def digits(device: str, seeds: int) -> None:
    dataset = cnn.load_digits()
    for seed in range(seeds):
        cpu = time.process_time()  # CPU seconds of this process: wall time is an upper bound on a shared machine
        results = list(cnn.train(cnn.build_model(8, seed=seed), dataset, device=device, seed=seed))
        cpu = time.process_time() - cpu
        last = results[-1]
        best = max(r.test_accuracy for r in results)
        print(f"digits seed {seed}: {len(results)} epochs in {last.seconds:.1f} s wall, {cpu:.1f} s CPU, "
              f"final test accuracy {last.test_accuracy:.3f} (best {best:.3f})")


def fashion(device: str) -> None:
    if not cnn.fashion_mnist_available():
        print("fashion-mnist: not installed")
        return
    dataset = cnn.load_fashion_mnist()
    result = next(cnn.train(cnn.build_model(28), dataset, epochs=1, device=device))
    print(f"fashion-mnist: 1 epoch on {len(dataset.x_train)} images in {result.seconds:.1f} s, "
          f"test accuracy {result.test_accuracy:.3f}")


def timed(label: str, fn, repeats: int = 3):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    print(f"{label}: median {statistics.median(times) * 1000:.0f} ms over {repeats}")
    return value


def efficientnet_figures(device: str) -> None:
    model = timed("efficientnet-lite0 load", efficientnet.load_efficientnet_lite0).to(device)
    cat = Image.fromarray(data.chelsea())
    x = efficientnet.preprocess(cat).to(device)
    tabby = efficientnet.imagenet_labels().index("tabby")
    # the lesson runs CPU inference on one thread per student (lessons/widgets/cnn.one_thread)
    for threads in sorted({1, torch.get_num_threads()}):
        with device_policy.cpu_threads(device, threads):
            top = timed(f"classify chelsea, {threads} thread(s)", lambda: efficientnet.classify(model, cat))
            timed(f"Grad-CAM + saliency, {threads} thread(s)", lambda: efficientnet.explain(model, x, tabby))
    print("  top-3:", ", ".join(f"{name} {p:.3f}" for name, p in top[:3]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default=device_policy.best_device())
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    print(f"device {args.device}, torch threads {torch.get_num_threads()}, "
          f"load average {Path('/proc/loadavg').read_text().split()[0] if Path('/proc/loadavg').exists() else '?'}")
    digits(args.device, args.seeds)
    fashion(args.device)
    efficientnet_figures(args.device)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
