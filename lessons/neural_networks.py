import streamlit as st

from lessons.widgets import common
from lessons.widgets import neural_networks as widgets

st.title("Neural networks: from one neuron to backpropagation")
common.shared_state("neural_networks", widgets.SHARED, widgets.PRESETS)
widgets.first_screen()
common.lesson_text("neural_networks", "intro")

st.header("1. One neuron")
common.lesson_text("neural_networks", "neuron")
widgets.neuron_explorer()
common.show_code("""
import torch
x = torch.tensor([1.0, 2.0])           # inputs
w = torch.tensor([0.5, -1.0])          # weights (learned)
b = torch.tensor(0.1)                  # bias (learned)
z = w @ x + b                          # weighted sum
a = torch.relu(z)                      # or torch.sigmoid, torch.tanh, torch.nn.functional.gelu
""")

st.header("2. A small network learns a boundary")
common.lesson_text("neural_networks", "network")
st.caption("The playground for this section is at the top of the page.")
common.show_code(widgets.training_code())

st.header("3. Backpropagation, number by number")
common.lesson_text("neural_networks", "backprop")
widgets.backprop_walkthrough()
common.show_code("""
import torch
# the same gradients, computed by autograd in float64
model = model.double()
loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x.double()), y.double())
loss.backward()
print([p.grad for p in model.parameters()])
""")

st.header("4. Underfitting and overfitting")
common.lesson_text("neural_networks", "fitting")
widgets.fitting_experiment()

st.header("5. The classic example: hand-written digits")
common.lesson_text("neural_networks", "digits")
widgets.digits_network()

st.header("6. Kinds of learning, and reusing a trained network")
common.lesson_text("neural_networks", "learning")

common.checkpoint("neural_networks")
common.next_lesson("neural_networks")
