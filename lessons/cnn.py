import streamlit as st

from lib import ui
from lib import ui_cnn as lesson

st.title("Convolutional networks: filters that scan images")
ui.shared_state("cnn", lesson.SHARED, lesson.PRESETS)
ui.lesson_text("cnn", "intro")

st.header("1. A convolution by hand")
ui.lesson_text("cnn", "by_hand")
lesson.convolution_by_hand()
ui.show_code("""
import torch
import torch.nn.functional as F
x = torch.tensor([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1.]])
k = torch.tensor([[0, 1, 2], [2, 2, 0], [0, 1, 2.]])
F.conv2d(x[None, None], k[None, None], stride=1, padding=0, dilation=1)  # (batch, channels, h, w)
""")

st.header("2. Kernels on real images")
ui.lesson_text("cnn", "kernels")
lesson.kernel_playground()
ui.show_code("""
sobel_x = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1.]])
feature_map = F.conv2d(gray[None, None], sobel_x[None, None], padding=1)
pooled = F.max_pool2d(F.relu(feature_map), 2)
""")

st.header("3. Local connectivity and weight sharing")
ui.lesson_text("cnn", "sharing")
lesson.parameter_sharing()
ui.show_code("""
conv = torch.nn.Conv2d(3, 64, kernel_size=3, padding=1)  # 64·(3·3·3 + 1) parameters
dense = torch.nn.Linear(224 * 224 * 3, 224 * 224 * 64)   # the same outputs, (224·224·3 + 1)·224·224·64 parameters
sum(p.numel() for p in conv.parameters())
""")

st.header("4. Train a CNN live")
ui.lesson_text("cnn", "training")
lesson.train_cnn()
ui.show_code("""
from torch import nn
model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 8×8 → 4×4
                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 4×4 → 2×2
                      nn.Flatten(), nn.Linear(32 * 2 * 2, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
for epoch in range(10):
    for x, y in batches:                       # x: (32, 1, 8, 8)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
""")

st.header("5. Inside a real ImageNet network")
ui.lesson_text("cnn", "pretrained")
lesson.pretrained_cnn()
ui.show_code("""
from lib import efficientnet
model = efficientnet.load_efficientnet_lite0()
efficientnet.classify(model, image)          # [(class name, probability), ...] top 5
x = efficientnet.preprocess(image).requires_grad_()
score = model(x)[0, class_index]
saliency = torch.autograd.grad(score, x)[0].abs().amax(dim=1)   # (1, 224, 224)
""")

ui.checkpoint("cnn")
ui.next_lesson("cnn")
