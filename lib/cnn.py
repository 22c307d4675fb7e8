"""Convolutional networks, from a convolution computed by hand to a small CNN
trained on digits: everything the CNN lesson shows is computed here.

Deep-learning libraries compute cross-correlation and call it convolution: the
kernel slides over the input without being flipped. So does this module.
"""
from __future__ import annotations

import gzip
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, UnidentifiedImageError
from torch import nn

from lib import device_policy

# The course's worked example: a 5×5 input and a 3×3 kernel.
EXAMPLE_INPUT = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]])
EXAMPLE_KERNEL = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])

PRESET_KERNELS = {
    "Edge (Laplacian)": [[0, -1, 0], [-1, 4, -1], [0, -1, 0]],
    "Sobel x (vertical edges)": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Sobel y (horizontal edges)": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "Blur (box)": [[1 / 9] * 3] * 3,
    "Sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "Emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "Identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}
MAX_IMAGE_SIDE = 4096  # uploads larger than this are downscaled first
MAX_UPLOAD_PIXELS = 100_000_000  # refuse decompression bombs before decoding


# --- convolution by hand -----------------------------------------------------------

def output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """floor((size + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1, as in PyTorch's Conv2d."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def conv2d(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0,
           dilation: int = 1) -> np.ndarray:
    """2-D cross-correlation of one channel: each output cell is the sum of the
    kernel times the input window under it. float64 throughout."""
    padded = np.pad(np.asarray(image, dtype=np.float64), padding)
    kernel = np.asarray(kernel, dtype=np.float64)
    span = dilation * (kernel.shape[0] - 1) + 1, dilation * (kernel.shape[1] - 1) + 1
    if padded.shape[0] < span[0] or padded.shape[1] < span[1]:
        raise ValueError(f"The kernel spans {span[0]}×{span[1]} pixels but the padded input is only "
                         f"{padded.shape[0]}×{padded.shape[1]}: add padding or lower the dilation.")
    windows = sliding_window_view(padded, span)[::stride, ::stride, ::dilation, ::dilation]  # (out_h, out_w, k, k)
    return np.einsum("ijkl,kl->ij", windows, kernel)


@dataclass(frozen=True)
class WindowStep:
    """One output cell of a convolution: where the window sits and its arithmetic."""
    row: int
    col: int
    rows: list[int]  # rows of the padded input the kernel touches
    cols: list[int]
    products: list[tuple[float, float]]  # (input value, kernel weight), row by row
    value: float

    @property
    def arithmetic(self) -> str:
        terms = " + ".join(f"{format_number(x)}×{format_number(w)}" for x, w in self.products)
        return f"{terms} = {format_number(self.value)}"


def format_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def window_steps(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0,
                 dilation: int = 1) -> list[WindowStep]:
    """Every output cell in reading order with the window it reads (in padded-input coordinates)."""
    padded = np.pad(np.asarray(image, dtype=np.float64), padding)
    kernel = np.asarray(kernel, dtype=np.float64)
    out = conv2d(image, kernel, stride, padding, dilation)
    steps = []
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            rows = [r * stride + dilation * i for i in range(kernel.shape[0])]
            cols = [c * stride + dilation * j for j in range(kernel.shape[1])]
            products = [(padded[y, x], kernel[i, j]) for i, y in enumerate(rows) for j, x in enumerate(cols)]
            steps.append(WindowStep(r, c, rows, cols, products, out[r, c]))
    return steps


def torch_conv2d(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0,
                 dilation: int = 1) -> np.ndarray:
    """The same convolution by torch.nn.functional.conv2d, to check the one above."""
    out = F.conv2d(torch.tensor(image, dtype=torch.float64)[None, None],  # (1, 1, h, w)
                   torch.tensor(kernel, dtype=torch.float64)[None, None], stride=stride, padding=padding,
                   dilation=dilation)
    return out[0, 0].numpy()


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def pool(x: np.ndarray, size: int = 2, mode: str = "max") -> np.ndarray:
    """Non-overlapping size×size pooling (stride = size); leftover edge rows/columns are dropped."""
    h, w = x.shape[0] // size * size, x.shape[1] // size * size
    blocks = x[:h, :w].reshape(h // size, size, w // size, size)
    return blocks.max(axis=(1, 3)) if mode == "max" else blocks.mean(axis=(1, 3))


# --- images ----------------------------------------------------------------------------

def read_image(data: bytes) -> tuple[Image.Image, list[str]]:
    """Decode an uploaded file. Raises ValueError with a message for the student
    when it is not an image; returns notes about what was changed (downscaling)."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_UPLOAD_PIXELS:
            raise ValueError(f"This image is {image.width}×{image.height} pixels, too large to open "
                             "safely. Please upload one under 100 megapixels.")
        image.load()
    except Image.DecompressionBombError as err:  # Pillow's own limit, checked as the header is read
        raise ValueError("This image has too many pixels to open safely. Please upload one under "
                         "100 megapixels.") from err
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError("This file is not an image that can be read (PNG, JPEG, GIF, BMP, TIFF, "
                         f"WebP…): {type(err).__name__}.") from err
    notes = []
    if image.mode not in ("RGB", "L"):
        notes.append(f"The image is stored as {image.mode}; it was converted to RGB "
                     "(transparent parts become white).")
    if min(image.size) < 16:
        notes.append(f"The image is only {image.width}×{image.height} pixels: a 3×3 kernel has almost "
                     "nothing to slide over, and the ImageNet network stretches it to 224×224, so expect "
                     "a blurry guess.")
    if max(image.size) > MAX_IMAGE_SIDE:
        original = image.size
        image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
        notes.append(f"The image was {original[0]}×{original[1]} pixels; it was downscaled to "
                     f"{image.width}×{image.height} to keep things fast.")
    return image, notes


# Bundled pictures (no download): name -> scikit-image function or scikit-learn sample file.
SAMPLE_IMAGES = {"Chelsea the cat": "chelsea", "Coffee": "coffee", "Astronaut": "astronaut", "Rocket": "rocket",
                 "Camera man (grayscale)": "camera", "Coins (grayscale)": "coins",
                 "Summer palace, China": "china.jpg", "Flower": "flower.jpg"}


def sample_image(name: str) -> Image.Image:
    source = SAMPLE_IMAGES[name]
    if source.endswith(".jpg"):
        from sklearn.datasets import load_sample_image

        return Image.fromarray(load_sample_image(source))
    from skimage import data

    return Image.fromarray(getattr(data, source)())


def to_grayscale(image: Image.Image, max_side: int = 256) -> np.ndarray:
    """The image as a float64 array in [0, 1], at most max_side pixels a side."""
    from lib.efficientnet import to_rgb

    gray = to_rgb(image).convert("L")
    if max(gray.size) > max_side:
        gray.thumbnail((max_side, max_side))
    return np.asarray(gray, dtype=np.float64) / 255


# --- local connectivity and weight sharing ---------------------------------------------------

def conv_parameters(in_channels: int, filters: int, kernel_size: int) -> int:
    """Weights plus one bias per filter; independent of the image size."""
    return filters * (in_channels * kernel_size * kernel_size + 1)


def dense_parameters(height: int, width: int, in_channels: int, filters: int) -> int:
    """A fully connected layer producing the same height×width×filters outputs
    (same-padded, stride 1) from every input pixel."""
    inputs, outputs = height * width * in_channels, height * width * filters
    return outputs * (inputs + 1)


# --- data sets ---------------------------------------------------------------------------------

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot"]


@dataclass
class Dataset:
    name: str
    x_train: torch.Tensor  # (n, 1, h, w) in [0, 1]
    y_train: torch.Tensor  # (n,)
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list[str]


def load_digits(test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """sklearn's 1,797 hand-written 8×8 digits, split into train and test."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    digits = sklearn_digits()
    x = torch.tensor(digits.images / 16, dtype=torch.float32).unsqueeze(1)  # (1797, 1, 8, 8)
    y = torch.tensor(digits.target)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_fraction, random_state=seed,
                                                        stratify=y)
    return Dataset("digits", x_train, y_train, x_test, y_test, [str(d) for d in range(10)])


def fashion_mnist_available(folder: Path = FASHION_DIR) -> bool:
    return all((folder / f"{part}-{kind}-idx{dim}-ubyte.gz").exists()
               for part in ("train", "t10k") for kind, dim in (("images", 3), ("labels", 1)))


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format): big-endian dimension sizes after a 4-byte magic number."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


FASHION_TRAIN_SIZE, FASHION_TEST_SIZE = 10_000, 2_000


def load_fashion_mnist(train_size: int = FASHION_TRAIN_SIZE, test_size: int = FASHION_TEST_SIZE,
                       folder: Path = FASHION_DIR) -> Dataset:
    """Zalando's 28×28 clothing images (Debian's dataset-fashion-mnist), the
    first train_size/test_size of each split to keep CPU training short."""
    def split(part: str, n: int):
        images = read_idx(folder / f"{part}-images-idx3-ubyte.gz")[:n]
        labels = read_idx(folder / f"{part}-labels-idx1-ubyte.gz")[:n]
        return torch.tensor(images / 255, dtype=torch.float32).unsqueeze(1), torch.tensor(labels, dtype=torch.long)

    x_train, y_train = split("train", train_size)
    x_test, y_test = split("t10k", test_size)
    return Dataset("fashion-mnist", x_train, y_train, x_test, y_test, FASHION_CLASSES)


# --- a small CNN ---------------------------------------------------------------------------------

class SmallCNN(nn.Module):
    """num_layers × [3×3 conv (same padding) → ReLU → 2×2 max-pool], then one
    linear layer. Filters double at each layer."""

    def __init__(self, image_size: int, num_classes: int = 10, num_layers: int = 2, filters: int = 16):
        super().__init__()
        channels = [1] + [filters * 2 ** i for i in range(num_layers)]
        self.convs = nn.ModuleList(nn.Conv2d(c_in, c_out, 3, padding=1) for c_in, c_out in zip(channels, channels[1:]))
        side = image_size
        for _ in range(num_layers):
            side //= 2
        if side < 1:
            raise ValueError(f"{num_layers} pooling layers shrink a {image_size}×{image_size} image to nothing.")
        self.classifier = nn.Linear(channels[-1] * side * side, num_classes)

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of each conv layer after ReLU, before pooling: (batch, filters, h, w) each."""
        maps = []
        for conv in self.convs:
            x = F.relu(conv(x))
            maps.append(x)
            x = F.max_pool2d(x, 2)
        return maps

    def forward(self, x):  # (batch, 1, h, w) -> (batch, num_classes)
        for conv in self.convs:
            x = F.max_pool2d(F.relu(conv(x)), 2)
        return self.classifier(x.flatten(1))


def build_model(*args, seed: int = 0, **kwargs) -> SmallCNN:
    """SmallCNN(*args, **kwargs) with its initial weights drawn from `seed`: given the same seed,
    `train` then repeats the whole run."""
    torch.manual_seed(seed)
    return SmallCNN(*args, **kwargs)


def activations(model: SmallCNN, x: torch.Tensor) -> list[np.ndarray]:
    """Each conv layer's feature maps for one image (1, 1, h, w): (filters, h, w) arrays."""
    model.eval()
    with torch.no_grad():
        return [m[0].cpu().numpy() for m in model.feature_maps(x.to(next(model.parameters()).device))]


@dataclass
class EpochResult:
    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float
    seconds: float


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch_size].to(device)).argmax(-1).cpu()
                          for i in range(0, len(x), batch_size)])


BATCH_SIZE = 32


def train(model: nn.Module, data: Dataset, epochs: int = 10, learning_rate: float = 3e-3,
          batch_size: int = BATCH_SIZE, device: str = "cpu", seed: int = 0) -> Iterator[EpochResult]:
    """Adam on cross-entropy; yields after every epoch so a page can draw the curve and stop early.
    `seed` sets the order of the training examples; build_model's seed sets the initial weights.

    On the CPU a small CNN trains on one thread: its tensors are too small to
    split, and handing work between threads costs more than it saves (10-20×
    slower on a busy 2-core machine)."""
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    order = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        with device_policy.cpu_threads(device):
            loss, train_accuracy = train_epoch(model, data, optimizer, batch_size, device, order)
            test_accuracy = (predict(model, data.x_test) == data.y_test).float().mean().item()
        yield EpochResult(epoch, loss, train_accuracy, test_accuracy, time.perf_counter() - started)


def train_epoch(model, data: Dataset, optimizer, batch_size: int, device: str, order: torch.Generator):
    """One pass over the shuffled training set: (mean loss, training accuracy)."""
    model.train()
    total_loss = correct = 0
    for batch in torch.randperm(len(data.x_train), generator=order).split(batch_size):
        x, y = data.x_train[batch].to(device), data.y_train[batch].to(device)
        logits = model(x)  # (batch, num_classes)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(batch)
        correct += (logits.argmax(-1) == y).sum().item()
    return total_loss / len(data.x_train), correct / len(data.x_train)


def confusion_matrix(truth: torch.Tensor, predicted: torch.Tensor, num_classes: int) -> np.ndarray:
    """counts[i, j]: examples of class i predicted as class j."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (truth.numpy(), predicted.numpy()), 1)
    return counts
