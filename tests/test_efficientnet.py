"""EfficientNet-Lite0: the hand-written model reproduces ImageNet predictions
from the bundled weights, and preprocessing accepts any image."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage import data

from lib import device_policy, efficientnet, model_registry


@pytest.fixture(autouse=True)
def one_thread():
    """As the lesson does: on a busy 2-core machine one OpenMP thread is many times faster."""
    with device_policy.cpu_threads("cpu"):
        yield


@pytest.fixture(scope="module")
def model():
    return efficientnet.load_efficientnet_lite0()


def test_parameter_count_matches_registry(model):
    assert sum(p.numel() for p in model.parameters()) == model_registry.num_parameters("efficientnet-lite0")
    assert not model.training


def test_labels_are_the_1000_imagenet_classes():
    labels = efficientnet.imagenet_labels()
    assert len(labels) == 1000 == len(set(labels))
    assert labels[0] == "tench" and labels[285] == "Egyptian cat" and labels[967] == "espresso"


def test_chelsea_is_a_cat(model):
    top3 = [name for name, _ in efficientnet.classify(model, Image.fromarray(data.chelsea()), top_k=3)]
    assert set(top3) <= {"Egyptian cat", "tabby", "tiger cat"}, top3


def test_coffee_is_espresso(model):
    top5 = efficientnet.classify(model, Image.fromarray(data.coffee()))
    assert top5[0][0] == "espresso"
    probs = [p for _, p in top5]
    assert probs == sorted(probs, reverse=True) and 0.5 < probs[0] <= 1 and sum(probs) <= 1 + 1e-6


@pytest.mark.parametrize("size,stride,kernel", [(224, 2, 3), (7, 1, 5), (15, 2, 5), (1, 2, 3)])
def test_same_padding_matches_tensorflow(size, stride, kernel):
    torch.manual_seed(0)
    conv = efficientnet.SameConv2d(2, 3, kernel, stride, bias=False)
    x = torch.randn(1, 2, size, size)
    out = conv(x)
    expected_size = -(-size // stride)  # TF "SAME": ceil(size / stride)
    total = max((expected_size - 1) * stride + kernel - size, 0)
    reference = F.conv2d(F.pad(x, [total // 2, total - total // 2] * 2), conv.weight, stride=stride)
    assert out.shape[-2:] == (expected_size, expected_size)
    torch.testing.assert_close(out, reference)


def cmyk_image():
    return Image.fromarray(data.coffee()).convert("CMYK")


@pytest.mark.parametrize("image", [
    Image.fromarray(data.camera()),  # grayscale "L"
    Image.fromarray(data.chelsea()).convert("RGBA"),
    Image.fromarray(data.chelsea()).convert("P"),
    Image.fromarray(data.camera().astype(np.uint16) * 200),  # 16-bit grayscale
    Image.new("RGB", (1, 1), (200, 10, 10)),
    Image.new("LA", (3, 1000)),
    cmyk_image(),
], ids=["gray", "rgba", "palette", "16bit", "1x1", "tall-la", "cmyk"])
def test_preprocess_accepts_any_mode_and_size(image):
    x = efficientnet.preprocess(image)
    assert x.shape == (1, 3, 224, 224) and x.dtype == torch.float32
    assert torch.isfinite(x).all() and x.min() >= -1.0 and x.max() <= 1.0


def test_preprocess_scales_pixels_like_training():
    white = efficientnet.preprocess(Image.new("RGB", (300, 300), (255, 255, 255)))
    black = efficientnet.preprocess(Image.new("RGB", (300, 300), (0, 0, 0)))
    torch.testing.assert_close(white, torch.full_like(white, 128 / 128))
    torch.testing.assert_close(black, torch.full_like(black, -127 / 128))


def test_transparent_pixels_become_white():
    clear = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert efficientnet.to_rgb(clear).getpixel((5, 5)) == (255, 255, 255)


def test_huge_image_is_downscaled():
    huge = Image.new("RGB", (9000, 300))
    assert max(efficientnet.to_rgb(huge).size) == efficientnet.MAX_SIDE


def test_layer_outputs_shapes(model):
    outputs = model.layer_outputs(torch.zeros(1, 3, 224, 224))
    assert len(outputs) == len(efficientnet.LAYER_NAMES) == 18
    assert outputs[0].shape == (1, 32, 112, 112) and outputs[-2].shape == (1, 320, 7, 7)
    assert outputs[-1].shape == (1, 1280, 7, 7)


def test_grad_cam_on_the_head_is_the_class_activation_map(model):
    """After global average pooling and one linear layer, Grad-CAM's channel
    weights are the class's fc weights / 49: Grad-CAM reduces to CAM (Zhou et al.)."""
    x = efficientnet.preprocess(Image.fromarray(data.coffee()))
    espresso = efficientnet.imagenet_labels().index("espresso")
    cam, saliency = efficientnet.explain(model, x, espresso, layer=-1)
    with torch.no_grad():
        features = model.layer_outputs(x)[-1][0]  # (1280, 7, 7)
        reference = torch.relu(torch.einsum("c,chw->hw", model._fc.weight[espresso], features))
        reference = F.interpolate(reference[None, None], size=(224, 224), mode="bilinear")[0, 0]
    reference = (reference - reference.min()) / (reference.max() - reference.min())
    np.testing.assert_allclose(cam, reference.numpy(), atol=1e-4)
    assert saliency.shape == (224, 224) and saliency.min() == 0 and saliency.max() == 1
    assert all(p.grad is None for p in model.parameters())


def test_saliency_is_the_input_gradient_of_the_class_score(model):
    """explain()'s saliency equals |d logit / d pixel| taken through the plain forward()."""
    x = efficientnet.preprocess(Image.fromarray(data.chelsea()))
    tabby = efficientnet.imagenet_labels().index("tabby")
    _, saliency = efficientnet.explain(model, x, tabby)
    pixels = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(pixels)[0, tabby], pixels)
    reference = grad[0].abs().amax(dim=0)
    reference = (reference - reference.min()) / (reference.max() - reference.min())
    np.testing.assert_allclose(saliency, reference.numpy(), atol=1e-4)


def test_grayscale_images_are_recognised_and_fed_as_three_equal_channels():
    gray = [Image.fromarray(data.camera()), Image.new("LA", (30, 30)), Image.new("1", (8, 8)),
            Image.fromarray(data.camera().astype(np.uint16) * 200)]
    colour = [Image.fromarray(data.chelsea()), Image.new("RGBA", (30, 30)), cmyk_image(),
              Image.fromarray(data.chelsea()).convert("P")]
    assert [efficientnet.is_grayscale(i) for i in gray] == [True] * 4
    assert [efficientnet.is_grayscale(i) for i in colour] == [False] * 4
    x = efficientnet.preprocess(gray[0])  # (1, 3, 224, 224)
    torch.testing.assert_close(x[:, 0], x[:, 1])
    torch.testing.assert_close(x[:, 0], x[:, 2])
