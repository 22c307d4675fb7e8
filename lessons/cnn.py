import streamlit as st

from lessons.widgets import cnn as widgets
from lessons.widgets import common

st.title("Convolutional networks: filters that scan images")
common.shared_state("cnn", widgets.SHARED, widgets.PRESETS)
widgets.first_screen()
common.lesson_text("cnn", "intro")

st.header("1. A convolution by hand")
common.lesson_text("cnn", "by_hand")
widgets.convolution_by_hand()
common.show_code("""
import torch
import torch.nn.functional as F
x = torch.tensor([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1.]])
k = torch.tensor([[0, 1, 2], [2, 2, 0], [0, 1, 2.]])
F.conv2d(x[None, None], k[None, None], stride=1, padding=0, dilation=1)  # (batch, channels, h, w)
""")

st.header("2. Kernels on real images")
common.lesson_text("cnn", "kernels")
st.caption("The kernel playground for this section is at the top of the page.")
common.show_code("""
sobel_x = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1.]])
feature_map = F.conv2d(gray[None, None], sobel_x[None, None], padding=1)
pooled = F.max_pool2d(F.relu(feature_map), 2)
""")

st.header("3. Local connectivity and weight sharing")
common.lesson_text("cnn", "sharing")
widgets.parameter_sharing()

st.header("4. Train a CNN live")
common.lesson_text("cnn", "training", **widgets.digits_facts())
widgets.train_cnn()
common.show_code(widgets.training_code())

st.header("5. Inside a real ImageNet network")
common.lesson_text("cnn", "pretrained")
widgets.pretrained_cnn()
common.show_code("""
from lib import efficientnet
model = efficientnet.load_efficientnet_lite0()
efficientnet.classify(model, image)          # [(class name, probability), ...] top 5
x = efficientnet.preprocess(image).requires_grad_()
score = model(x)[0, class_index]
saliency = torch.autograd.grad(score, x)[0].abs().amax(dim=1)   # (1, 224, 224)
""")

common.checkpoint("cnn")
common.next_lesson("cnn")
