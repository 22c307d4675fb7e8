"""Checkpoint: convolutional networks. Every answer comes from lib.cnn."""
from __future__ import annotations

import random

import numpy as np
import torch

from lib import cnn
from lib.checkpoints import Question


def _matrix(values: np.ndarray) -> str:
    return "`[" + ",".join("[" + ",".join(str(int(v)) for v in row) + "]" for row in values) + "]`"


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


def _conv_parameters(rng: random.Random) -> Question:
    in_channels, filters = rng.choice([1, 3, 16, 32, 64]), rng.choice([8, 16, 32, 64, 128])
    kernel = rng.choice([1, 3, 5, 7])
    count = cnn.conv_parameters(in_channels, filters, kernel)
    return Question(
        f"A {kernel}×{kernel} convolution with {in_channels} input channels and {filters} output channels "
        "(filters), biases included: how many parameters does it learn?",
        count,
        f"Each filter has a {kernel}×{kernel} weight for every input channel plus one bias: "
        f"{filters} × ({in_channels}·{kernel}·{kernel} + 1) = {filters} × {in_channels * kernel * kernel + 1} "
        f"= **{count:,}**, whatever the image size: the same filter slides over every position.")


def _cell_by_hand(rng: random.Random) -> Question:
    image = np.array([[rng.randint(0, 3) for _ in range(5)] for _ in range(5)])
    kernel = np.array([[rng.randint(0, 2) for _ in range(3)] for _ in range(3)])
    row, col = rng.randrange(3), rng.randrange(3)
    step = cnn.window_steps(image, kernel)[row * 3 + col]
    return Question(
        f"The 5×5 input {_matrix(image)} is convolved (cross-correlation, as deep-learning libraries compute it) "
        f"with the 3×3 kernel {_matrix(kernel)}, stride 1, no padding. What is the output at row {row}, "
        f"column {col} (counting from 0)?",
        int(step.value),
        f"The window covers input rows {step.rows[0]}–{step.rows[-1]} and columns {step.cols[0]}–{step.cols[-1]}; "
        f"multiply it by the kernel cell by cell and add up: {step.arithmetic.rsplit(' = ', 1)[0]} "
        f"= **{cnn.format_number(step.value)}**.")


def _dense_parameters(rng: random.Random) -> Question:
    side, channels, filters = rng.choice([8, 16, 28, 32]), rng.choice([1, 3]), rng.choice([4, 8, 16])
    dense = cnn.dense_parameters(side, side, channels, filters)
    conv = cnn.conv_parameters(channels, filters, 3)
    inputs, outputs = side * side * channels, side * side * filters
    return Question(
        f"An image of {side}×{side} pixels with {channels} channel(s) goes into a 3×3 convolution with "
        f"{filters} filters and same padding ({side}×{side}×{filters} outputs). A fully connected layer producing the same "
        f"{side}×{side}×{filters} outputs, biases included: how many parameters?",
        dense,
        f"Every output is connected to every input: {outputs:,} outputs × ({inputs:,} inputs + 1 bias) "
        f"= **{dense:,}**, against {conv:,} for the convolution — {dense / conv:,.0f}× more. "
        "Local connectivity and weight sharing are what make convolutions cheap.")


def _classifier_inputs(rng: random.Random) -> Question:
    side, layers, filters = rng.choice([8, 28, 32, 64]), rng.choice([1, 2, 3]), rng.choice([4, 8, 16, 32])
    with torch.device("meta"):
        features = cnn.SmallCNN(side, 10, layers, filters).classifier.in_features
    sides = [side // 2**i for i in range(layers + 1)]
    channels = filters * 2 ** (layers - 1)
    return Question(
        f"A grayscale image of {side}×{side} pixels goes through {layers} block(s) of [3×3 convolution with "
        f"padding 1 → ReLU → 2×2 max-pool], with {filters} filters in the first block and twice as many in each next one. "
        "How many numbers does the flattened output hand to the final linear layer?",
        features,
        f"Padding 1 keeps the size through each 3×3 convolution; each pool halves it, rounding down: "
        f"{' → '.join(str(s) for s in sides)}. The last block has {channels} filters: "
        f"{channels} × {sides[-1]} × {sides[-1]} = **{features:,}**.")


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_output_size, _conv_parameters, _cell_by_hand, _dense_parameters,
                                   _classifier_inputs)]
