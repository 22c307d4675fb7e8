"""Checkpoint: convolutional networks. Every answer comes from lib.cnn; the predict question runs the
lesson's kernel explorer on a bundled picture."""
from __future__ import annotations

import random

import numpy as np
import pandas as pd

from lib import cnn
from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict


def _output_size(rng: random.Random) -> Question:
    while True:
        size, kernel = rng.choice([5, 7, 8, 13, 28, 32, 64, 224]), rng.choice([1, 3, 5, 7])
        stride, padding = rng.choice([1, 2, 3]), rng.choice([0, 1, 2, 3])
        dilation = rng.choice([1, 2]) if kernel > 1 else 1  # a 1×1 kernel has no gaps to spread
        if size + 2 * padding >= dilation * (kernel - 1) + 1:
            break
    out = cnn.output_size(size, kernel, stride, padding, dilation)
    top = size + 2 * padding - dilation * (kernel - 1) - 1
    return Question(
        f"Input {size}×{size}, kernel {kernel}×{kernel}, stride {stride}, padding {padding}, dilation {dilation}: "
        "how many rows (and columns) does the output have?",
        out,
        f"⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1 "
        f"= ⌊({size} + 2·{padding} − {dilation}·({kernel} − 1) − 1) / {stride}⌋ + 1 = ⌊{top} / {stride}⌋ + 1 "
        f"= **{out}**.")


def _weight_sharing(rng: random.Random) -> Question:
    side, channels, filters = rng.choice([8, 16, 28, 32]), rng.choice([1, 3]), rng.choice([4, 8, 16])
    dense = cnn.dense_parameters(side, side, channels, filters)
    conv = cnn.conv_parameters(channels, filters, 3)
    return concept(
        rng, f"An image of {side}×{side} pixels with {channels} channel(s) goes into a 3×3 convolution with "
        f"{filters} filters and same padding: {conv:,} parameters. A fully connected layer making the same "
        f"{side}×{side}×{filters} outputs needs {dense:,}. Where does the difference come from?",
        "Each output sees only a 3×3 window, and the same small filter is reused at every position",
        {"The convolution makes fewer outputs":
         f"Both make {side}×{side}×{filters} = {side * side * filters:,} outputs; the difference is how many "
         "weights each output uses, and whether outputs share them.",
         "The convolution skips pixels as it slides":
         "With stride 1 and same padding the filter visits every pixel; nothing is skipped.",
         "The convolution stores its weights in lower precision":
         "Both count one number per weight; the saving is in how many weights there are."},
        f"Local connectivity: one output reads {channels}·3·3 inputs, not all {side * side * channels:,}. Weight "
        f"sharing: the {filters} filters are the same at all {side * side} positions. {filters} × ({channels}·9 + 1) "
        f"= **{conv:,}** against {dense:,}, {dense / conv:,.0f}× fewer.")


def _pooling(rng: random.Random) -> Question:
    side, channels = rng.choice([8, 14, 28, 32, 56]), rng.choice([8, 16, 32, 64])
    pooled = cnn.pool(np.zeros((side, side)), 2).shape[0]
    return concept(
        rng, f"A {side}×{side}×{channels} feature map goes through 2×2 max pooling (stride 2). What comes out?",
        f"{pooled}×{pooled}×{channels}: the largest value of each 2×2 window, channel by channel, with nothing learned",
        {f"{side}×{side}×{channels // 2}: pooling halves the channels":
         "Pooling works on each channel separately; only a convolution with fewer filters changes the channel "
         "count.",
         f"{pooled}×{pooled}×{channels}, with a learned 2×2 weight in each channel":
         "Max pooling has no weights: it just keeps the strongest response in each window.",
         f"{pooled}×{pooled}×{channels}: the mean of each 2×2 window":
         "That is average pooling. Max pooling keeps the largest value, so a feature found anywhere in the "
         "window survives."},
        f"Each non-overlapping 2×2 window becomes its maximum: {side} → {pooled} rows and columns, {channels} "
        "channels as before, 0 parameters. Pooling shrinks the map and keeps the features it found.")


KERNEL_FATES = ("It keeps the picture: the mean stays near the image's brightness",
                "It keeps only the edges: flat areas go to about 0, and so does the mean",
                "It inverts the picture: the mean is about minus the image's brightness")
KERNEL_IMAGES = ["Chelsea the cat", "Coffee", "Astronaut", "Camera man (grayscale)", "Coins (grayscale)"]


def _kernel_on_image(rng: random.Random) -> Question:
    kernel, image = rng.choice(list(cnn.PRESET_KERNELS)), rng.choice(KERNEL_IMAGES)
    shown = "  \n".join("`[" + ", ".join(f"{v:g}" if v == int(v) else "1/9" for v in row) + "]`"
                        for row in cnn.PRESET_KERNELS[kernel])
    return predict(
        f"The lesson's kernel explorer runs **{kernel}** over *{image}* in grayscale (pixels from 0 to 1, stride 1, "
        f"no padding):  \n{shown}  \nWhat happens to the mean value of the output, compared with the image's?",
        KERNEL_FATES,
        "On a flat patch every pixel under the kernel is the same value p, so the output is p × (sum of the "
        "kernel's weights). Weights summing to 1 keep the brightness; weights summing to 0 cancel it and respond "
        "only where the image changes.",
        reveal_kernel_on_image, kernel, image)


def kernel_fate(image_mean: float, output_mean: float) -> str:
    """The fate whose mean (the image's, 0, minus the image's) is closest to the output's."""
    targets = dict(zip(KERNEL_FATES, (image_mean, 0.0, -image_mean)))
    return min(targets, key=lambda fate: abs(output_mean - targets[fate]))


def reveal_kernel_on_image(kernel: str, image: str) -> Reveal:
    gray = cnn.to_grayscale(cnn.sample_image(image))
    output = cnn.conv2d(gray, np.array(cnn.PRESET_KERNELS[kernel]))
    weights = float(np.sum(cnn.PRESET_KERNELS[kernel]))
    means = [f"{m:.3f}".replace("-0.000", "0.000") for m in (gray.mean(), output.mean())]
    return Reveal(
        kernel_fate(float(gray.mean()), float(output.mean())),
        f"Convolved just now: the image's mean is {means[0]}, the output's {means[1]}. "
        f"{kernel}'s weights sum to {weights:g}.",
        pd.DataFrame({"": ["image", "output"], "mean": [round(float(gray.mean()), 4), round(float(output.mean()), 4)],
                      "mean |value|": [round(float(np.abs(gray).mean()), 4), round(float(np.abs(output).mean()), 4)]}))


def questions(rng: random.Random) -> list[Question]:
    return [_output_size(rng), _weight_sharing(rng), _pooling(rng), _kernel_on_image(rng)]
