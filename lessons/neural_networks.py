import streamlit as st

from lib import ui
from lib import ui_neural_networks as lesson

st.title("Neural networks: from one neuron to backpropagation")
ui.shared_state("neural_networks", lesson.SHARED, lesson.PRESETS)
ui.lesson_text("neural_networks", "intro")

st.header("1. One neuron")
ui.lesson_text("neural_networks", "neuron")
lesson.neuron_explorer()
ui.show_code("""
import torch
x = torch.tensor([1.0, 2.0])           # inputs
w = torch.tensor([0.5, -1.0])          # weights (learned)
b = torch.tensor(0.1)                  # bias (learned)
z = w @ x + b                          # weighted sum
a = torch.relu(z)                      # or torch.sigmoid, torch.tanh, torch.nn.functional.gelu
""")

st.header("2. A small network learns a boundary")
ui.lesson_text("neural_networks", "network")
lesson.playground()
ui.show_code(lesson.training_code())

st.header("3. Backpropagation, number by number")
ui.lesson_text("neural_networks", "backprop")
lesson.backprop_walkthrough()
ui.show_code("""
import torch
# the same gradients, computed by autograd in float64
model = model.double()
loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x.double()), y.double())
loss.backward()
print([p.grad for p in model.parameters()])
""")

st.header("4. Underfitting and overfitting")
ui.lesson_text("neural_networks", "fitting")
lesson.fitting_experiment()

st.header("5. The classic example: hand-written digits")
ui.lesson_text("neural_networks", "digits")
lesson.digits_network()

st.header("6. Kinds of learning, and reusing a trained network")
ui.lesson_text("neural_networks", "learning")

ui.checkpoint("neural_networks")
ui.next_lesson("neural_networks")
